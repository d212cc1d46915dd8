"""Every message that echoes what people typed is `verbatim`: Slack turns bare URLs, #channels
and @names in a mrkdwn text object into links unless it says `verbatim: true`, so a title, a
display name or a reason with a URL in it would become a link someone could click.

Every builder in `bot/messages/` (found by looking, so a new one is checked too) is called with
a URL in every field it echoes, through each state its inputs can be in; the blocks are walked
recursively and every mrkdwn text object (section text and fields, context elements, confirm
dialogs, …) must carry `verbatim: true`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import SimpleNamespace
from typing import Any

import pytest

import bot.messages
from bot import messages
from bot.accounts.workspace_settings import SettingsChange, SettingsView, TokenView
from bot.actor import Actor
from bot.commands.parser import parse
from bot.messages import AnnouncedView, FollowedView, ForgottenView, HeldView, LinkView
from bot.outcome import Outcome
from bot.tiktok.catalog import CATALOG
from storage.announcements import Announcement
from storage.followed import FollowedCancel
from storage.held import HeldUpload
from storage.links import Forgotten, Link

NOW = 1_796_000_000.0
URL = "https://evil.example/login"
TITLE = f"Spring teaser {URL} #launch @brand"
NAME = f"Alex {URL}"
PID = "v_pub_url~v2.123"
ADMINS = ("U0ADMIN1",)


def announcement(**changes: Any) -> Announcement:
    base = Announcement(
        publish_id=PID,
        team_id="T1",
        channel="C1",
        ts="1.2",
        title=TITLE,
        account=NAME,
        source_url=URL,
        warnings=[f"too long {URL}"],
        created_at=NOW,
    )
    return Announcement(**{**base.__dict__, **changes})


def held(**changes: Any) -> HeldUpload:
    base = HeldUpload(
        upload_key=f"key-{URL}",
        team_id="T1",
        channel="C1",
        ts="1.2",
        account=NAME,
        source_url=URL,
        post={"title": TITLE, "privacy_level": "PUBLIC_TO_EVERYONE"},
        hold_s=60,
        created_at=NOW,
        starts_at=NOW + 60,
        nickname=NAME,
        publish_id=PID,
        code="spam_risk_too_many_posts",
        log_id=f"log {URL}",
        by_user="U1",
        by_at=NOW,
    )
    return HeldUpload(**{**base.__dict__, **changes})


def outcome(code: str, action: str = "cancel", **changes: Any) -> Outcome:
    fields: dict[str, Any] = dict(
        action=action,
        code=code,
        publish_id=PID,
        actor=Actor("T1", "U1", "C1"),
        title=TITLE,
        reason=f"because {URL}",
        account=NAME,
        log_id=f"log {URL}",
        announced=True,
        data={"by": "U2", "status": "FAILED", "fail_reason": f"new {URL}", "at": NOW},
        at=NOW,
    )
    return Outcome(**{**fields, **changes})


LINK = Link(
    team_id="T1",
    kind="user",
    owner="U1",
    open_id=f"open {URL}",
    display_name=NAME,
    scope="user.info.basic,video.upload",
    access_token="secret",
    access_expires_at=NOW,
    refresh_token="secret",
    refresh_expires_at=NOW,
    linked_at="2026-11-30T01:02:03Z",
    linked_via="confirmed",
)
FORGOTTEN = [
    Forgotten("T1", "user", "U1", "o", NAME, reason, "2", "2026-11-30T01:02:03Z")
    for reason in ("refresh_refused", "authorization_removed")
]
TEAM_VIEWS = [
    SimpleNamespace(
        account="brand",
        display_name=NAME,
        refresh_expires_at=NOW,
        users=["U2"],
        approvers=["U3", "S4"],
        needed=2,
    )
]
AUDIT_ROWS = [
    {
        "action": action,
        "outcome": result,
        "state": "finished",
        "publish_id": PID,
        "account": NAME,
        "started_at": "2026-11-30T01:02:03.000Z",
        "reason": f"held upload key-{URL}",
    }
    for action, result in [
        ("cancel", "ok"),
        ("cancel", f"new {URL}"),
        ("connect", "declined"),
        ("start_held", "timeout"),
        ("cancel_held", "held_back"),
    ]
]
ANNOUNCEMENT_STATES = [
    {},
    {"status": "PROCESSING_DOWNLOAD"},
    {"status": "FAILED", "fail_reason": "publish_cancelled", "final": True},
    {"status": "FAILED", "fail_reason": f"new {URL}", "final": True},
    {"status": "PUBLISH_COMPLETE", "final": True, "cancel_by": "U1", "cancel_at": NOW},
    {"last_code": f"new {URL}", "last_user_id": "U1", "last_at": NOW},
    {"cancel_by": "U1", "cancel_at": NOW, "poll_count": 9},
]
HELD_STATES = ["held", "starting", "started", "cancelled", "refused", "unknown", "asking", "retry"]
APPROVAL_STATES = ["awaiting_approval", "approved", "rejected", "expired"]
APPROVERS = ("U2", "S3")
OUTCOME_CODES = [*CATALOG, f"new {URL}"]
FOLLOWED_STATES = [
    {},
    {"status": "FAILED", "fail_reason": "publish_cancelled", "final": True, "final_at": NOW},
    {"status": "FAILED", "fail_reason": f"new {URL}", "final": True, "final_at": NOW},
    {"status": "PUBLISH_COMPLETE", "final": True, "final_at": NOW},
]


def followed(**changes: Any) -> FollowedCancel:
    base = FollowedCancel(
        publish_id=PID,
        team_id="T1",
        user_id="U1",
        link_kind="user",
        link_owner="U1",
        asked_at=NOW,
        account=NAME,
    )
    return FollowedCancel(**{**base.__dict__, **changes})


PARSED = [
    parse(text) for text in (f"stauts {URL}", f"cancle {URL}", f"{URL}", f"explain {URL} x", "team")
]
# The inputs of every builder, by parameter name: each a list of the states to build it in
# (each one tried while the other parameters keep their first).
SETTINGS_VIEWS = [
    SettingsView(
        many=True,
        admins=("U1", "U2"),
        admins_from="slack",
        audit_channel="CAUDIT",
        audit_from="slack",
        tokens=(TokenView("pt_1a2b3c4d", "U1", NOW), TokenView("pt_5e6f7a8b", "cli", NOW)),
        public_url=URL,
    ),
    SettingsView(
        many=False,
        admins=(),
        admins_from="environment",
        audit_channel="",
        audit_from="",
        env_admins=("UENV",),
        env_audit_channel="CENV",
        notify_on=True,
    ),
]

INPUTS: dict[str, list[Any]] = {
    "view": SETTINGS_VIEWS,
    "workspace": [None, *SETTINGS_VIEWS],
    "change": [  # any `settings …` command's end, for the one answer that dispatches
        SettingsChange("ok", SETTINGS_VIEWS[0], token_id="pt_1a2b3c4d"),
        SettingsChange("not_admin"),
        SettingsChange("one_workspace", SETTINGS_VIEWS[1]),
        SettingsChange("too_many_tokens", SETTINGS_VIEWS[0]),
    ],
    "admins_change": [
        SettingsChange("ok", SETTINGS_VIEWS[0], ("U3",), caller_still_admin=False),
        SettingsChange("unchanged", SETTINGS_VIEWS[1], None),
    ],
    "audit_change": [
        SettingsChange("ok", SETTINGS_VIEWS[0], "COLD"),
        SettingsChange("unchanged", SETTINGS_VIEWS[1], None),
    ],
    "revoked": [
        SettingsChange("ok", SETTINGS_VIEWS[0], token_id="pt_1a2b3c4d"),
        SettingsChange("no_such_token", None, token_id=f"pt_{URL}"),
    ],
    "limit": [20],
    "token_id": ["pt_1a2b3c4d"],
    "token": ["tcp_" + "Zm9v" * 10],
    "public_url": [URL, ""],
    "a": [AnnouncedView.of(announcement(**s)) for s in ANNOUNCEMENT_STATES],
    "h": [
        *(HeldView.of(held(state=s)) for s in HELD_STATES),
        *(
            HeldView.of(
                held(state=s, approvers=APPROVERS, needed=2, approve_by=NOW, reason=f"no {URL}")
            )
            for s in APPROVAL_STATES
        ),
    ],
    "f": [FollowedView.of(followed(**s)) for s in FOLLOWED_STATES],
    "outcome": [outcome(c, action) for c in OUTCOME_CODES for action in ("cancel", "status")],
    "items": [[AnnouncedView.of(announcement(**s)) for s in ANNOUNCEMENT_STATES]],
    "uploads": [[AnnouncedView.of(announcement(status="PROCESSING_DOWNLOAD"))], []],
    "held": [[HeldView.of(held())], []],
    "warnings": [[f"too long {URL}"]],
    "admins": [ADMINS, ()],
    "account": ["brand", NAME],
    "display_name": [NAME, ""],
    "open_id": [f"open {URL}"],
    "publish_id": [PID, ""],
    "retry_key": ["k" * 22],
    "reason": [f"because {URL}", 2],
    "requested": [f"new {URL}", "publish_cancelled"],
    "confirm": ["", f"check {URL} in a minute"],
    "result_code": ["ok", "revoke_failed", "not_linked"],
    "url": [URL, ""],
    "connect_url": [URL, ""],
    "link": [LinkView.of(LINK)],  # the Home without a link: in the test of its rows below
    "team_rows": [[{"account": "brand", "display_name": NAME, "linked_by": "U2"}]],
    "forgotten": [ForgottenView.of(f) for f in FORGOTTEN],
    "problem": [p.problem for p in PARSED],
    "word": [p.word for p in PARSED],
    "suggestion": [p.suggestion for p in PARSED],
    "now": [NOW],
    "hidden_unknown": [False, True],
    "uploads_unknown": [False, True],
    "link_forgotten": [False, True],
    "is_admin": [True, False],
    "teams": [TEAM_VIEWS],
    "views": [TEAM_VIEWS, []],
    "audit_rows": [AUDIT_ROWS],
    "action": ["grant", "revoke", "remove", "connect"],
    "code_": ["ok", "not_admin", "no_such_account", "revoke_failed", "unchanged"],
    "approvers": [["U2", "S3"], []],
    "needed": [2, 1],
    "previous": [None, (("U4", "S5"), 3)],
    "users": [["U2", "U3"]],
    "unchanged": [["U4"]],
    "awaiting": [[HeldView.of(held(state="awaiting_approval", approvers=APPROVERS, needed=1))]],
    "user_id": ["U2", ""],
    "via": ["modal", "web"],
    "post": [{"title": f"new {URL}", "privacy_level": "SELF_ONLY"}, {}],
    "edits": [["title", "privacy_level"], []],
    "channel": ["C1"],
    "web_url": [URL, ""],
    "tiktok_code": [f"odd {URL}", ""],
}


def builders() -> list[tuple[str, Any]]:
    """Every public function in bot/messages/ that builds a whole message or view."""
    found = {}
    for info in pkgutil.iter_modules(bot.messages.__path__):
        if info.name == "blocks":  # the shared pieces, not a family; every family uses them
            continue
        module = importlib.import_module(f"bot.messages.{info.name}")
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn):
                continue
            if fn.__module__ != module.__name__:
                continue
            returns = str(inspect.signature(fn).return_annotation)
            if returns == "Message" or name.endswith("_view"):
                found[f"{info.name}.{name}"] = fn
    return sorted(found.items())


def variants(fn) -> list[dict[str, Any]]:
    """The calls to make: every parameter at its first input, then each one through its
    other inputs in turn."""
    params = list(inspect.signature(fn).parameters)
    missing = [p for p in params if p not in INPUTS]
    assert not missing, f"{fn.__qualname__}: add inputs for {missing} to INPUTS"
    first = {p: INPUTS[p][0] for p in params}
    calls = [first]
    for p in params:
        calls += [{**first, p: value} for value in INPUTS[p][1:]]
    return calls


def not_verbatim(node: Any, path: str = "") -> list[str]:
    """Paths of every mrkdwn text object under `node` without `verbatim: true`."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and node.get("verbatim") is not True:
            found.append(f"{path}: {str(node.get('text'))[:80]!r}")
        for key, value in node.items():
            found += not_verbatim(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += not_verbatim(value, f"{path}[{i}]")
    return found


BUILDERS = builders()


def test_the_builders_found_include_every_family():
    names = {name for name, _ in BUILDERS}
    for expected in (
        "announcements.list_message",
        "announcements.announcement_message",
        "home.home_view",
        "held.held_message",
        "linking.whoami_message",
        "outcomes.outcome_message",
        "team.accounts_message",
        "help.usage_message",
    ):
        assert expected in names


@pytest.mark.parametrize("name,fn", BUILDERS, ids=[name for name, _ in BUILDERS])
def test_every_mrkdwn_text_in_every_message_is_verbatim(name, fn):
    for kwargs in variants(fn):
        built = fn(**kwargs)
        blocks = built["blocks"]
        assert not_verbatim(blocks) == [], (name, kwargs)


def test_list_and_home_rows_with_a_url_in_the_title_are_verbatim():
    """The rows that auto-linked: an upload row (section with a Cancel button beside it) and
    "Your TikTok link" (a display name) with the Disconnect or Connect button."""
    a = AnnouncedView.of(announcement(status="PROCESSING_DOWNLOAD"))
    listed = bot.messages.list_message([a], NOW)
    (row,) = [b for b in listed["blocks"] if "accessory" in b]
    assert URL in row["text"]["text"] and row["text"]["verbatim"] is True
    assert row["accessory"]["action_id"] == "cancel_upload"

    for link, connect in ((LinkView.of(LINK), ""), (None, URL)):
        home = bot.messages.home_view(link, connect, False, [], [a], [], NOW)
        rows = [b for b in home["blocks"] if "accessory" in b]
        assert len(rows) == 2  # the link row and the upload row
        for block in rows:
            assert block["text"]["verbatim"] is True
        if link is not None:
            assert NAME in rows[0]["text"]["text"]


def test_echoed_text_never_becomes_a_link():
    a = Announcement(PID, "T1", "C1", "1.2", title="https://evil.example/login")
    for block in messages.announcement_message(messages.AnnouncedView.of(a))["blocks"]:
        if block["type"] == "section":
            assert block["text"]["verbatim"] is True
        if block["type"] == "context":
            assert all(e["verbatim"] is True for e in block["elements"])
