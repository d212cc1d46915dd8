"""Every message family, built with inputs at their limits, passes slack_sdk's own Block Kit
models deeply: 200-character titles full of `& < >`, emoji, 256-character publish_ids and
reasons, every catalog code. A message Slack would refuse never leaves the bot."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import messages
from bot.actor import Actor
from bot.commands.parser import parse
from bot.messages import held as held_messages
from bot.outcome import Outcome
from bot.tiktok.catalog import CATALOG
from storage.announcements import Announcement
from storage.held import HeldUpload
from storage.links import Link

NOW = 1_796_000_000.0
HOSTILE_TITLE = ("&<>" * 40 + "\U0001f389 <!channel> https://evil.example/login ")[:200]
LONG_ID = "v_pub_url~v2." + "9" * 243  # 256 characters
LONG_REASON = ("\U0001f4a5&<>`*_~" * 40)[:256]
ADMINS = frozenset({"U0ADMIN1", "U0ADMIN2"})
CODES = [*CATALOG, "brand_new_code_2027", "x" * 256]


def assert_valid(message: dict) -> None:
    """Every block through slack_sdk's models, with their length and shape checks."""
    assert 0 < len(message["text"]) <= 3000 or message["blocks"]
    assert len(message["blocks"]) <= 50
    for raw in message["blocks"]:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()
        _check_lengths(raw)


def _check_lengths(raw: dict) -> None:
    """Limits the models don't check themselves: confirm text and button values."""
    for element in [*raw.get("elements", []), raw.get("accessory") or {}]:
        confirm = element.get("confirm") or {}
        if confirm:
            assert len(confirm["text"]["text"]) <= 300, confirm["text"]["text"]
        if "value" in element:
            assert len(element["value"]) <= 2000


def outcome(code: str, action: str = "cancel", **fields) -> Outcome:
    return Outcome(
        action=action,
        code=code,
        publish_id=LONG_ID,
        actor=Actor("T1", "U1", "C1"),
        title=HOSTILE_TITLE,
        reason=LONG_REASON,
        account=HOSTILE_TITLE[:64],
        log_id="L" * 64,
        announced=True,
        at=NOW,
        **fields,
    )


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("action", ["cancel", "status"])
def test_every_outcome_at_its_limits_is_valid(code, action):
    assert_valid(messages.outcome_message(outcome(code, action), ADMINS))
    assert_valid(messages.audit_entry(outcome(code, action)))


@pytest.mark.parametrize("code", CODES)
def test_explain_of_every_code_is_valid(code):
    assert_valid(messages.explain_message(code, ADMINS))


def announcement(**changes) -> Announcement:
    base = Announcement(
        publish_id=LONG_ID,
        team_id="T1",
        channel="C1",
        ts="1.2",
        title=HOSTILE_TITLE,
        account="brand",
        source_url="https://cdn.example.com/" + "&<>" * 600,
        warnings=["&<> " * 50] * 7,
        created_at=NOW,
    )
    return Announcement(**{**base.__dict__, **changes})


STATES = [
    {},
    {"status": "PROCESSING_DOWNLOAD"},
    {"status": "PROCESSING_UPLOAD"},
    {"status": "FAILED", "fail_reason": "publish_cancelled", "final": True},
    {"status": "FAILED", "fail_reason": "brand_new_reason", "final": True},
    {"status": "PUBLISH_COMPLETE", "final": True},
    {"status": "WEIRD_NEW_STATUS"},
    {"last_code": "ok", "last_user_id": "U1", "last_at": NOW},
    {"last_code": "rate_limit_exceeded", "last_user_id": "U1", "last_at": NOW},
    {"last_code": "brand_new_code_2027", "last_user_id": "U1", "last_at": NOW},
    {"poll_count": 9},  # polling gave up, never a word
    {"status": "PROCESSING_DOWNLOAD", "poll_count": 9},
    {"cancel_by": "U1", "cancel_at": NOW, "poll_count": 9},  # stopping, then gave up
]


@pytest.mark.parametrize("state", STATES, ids=str)
def test_announcements_in_every_state_are_valid(state):
    a = messages.AnnouncedView.of(announcement(**state))
    assert_valid(messages.announcement_message(a))
    if a.status:
        assert_valid(messages.final_state_message(a))
    assert_valid(messages.list_message([a] * 60, NOW))


def test_the_cancel_confirm_stays_under_slacks_limit_for_a_title_of_ampersands():
    """A 189-character title of `&` made the confirm text exceed 300 characters."""
    button = messages.cancel_button(LONG_ID, "&" * 189)
    text = button["confirm"]["text"]["text"]
    assert len(text) <= 300
    assert "&amp;" in text and not text.rstrip("\u201d;…").endswith("&am")


USAGE_INPUTS = [
    "",
    "stauts " + LONG_ID,
    "cancle",
    "status",
    "status " + "x" * 300,
    "<!channel> " * 30,
    "explain " + "&" * 300,
    "team " + "&<>" * 100,
    "team grant brand <!here>",
    "as",
    LONG_ID + " " + "x" * 300,
]


@pytest.mark.parametrize("text", USAGE_INPUTS)
def test_usage_and_help_are_valid(text):
    parsed = parse(text)
    if parsed.name == "usage":
        assert_valid(messages.usage_message(parsed.problem, parsed.word, parsed.suggestion))
    assert_valid(messages.help_message())


def link(**changes) -> Link:
    base = Link(
        team_id="T1",
        kind="user",
        owner="U1",
        open_id="o" * 256,
        display_name=HOSTILE_TITLE,
        scope="user.info.basic,video.upload," + "x" * 200,
        access_token="secret",
        access_expires_at=NOW,
        refresh_token="secret",
        refresh_expires_at=NOW,
    )
    return Link(**{**base.__dict__, **changes})


def test_linking_and_team_messages_are_valid():
    assert_valid(messages.connect_message("https://www.tiktok.com/v2/auth/?" + "x" * 2000))
    assert_valid(messages.connect_message(""))
    assert_valid(
        messages.whoami_message(
            messages.LinkView.of(link()), [{"account": "a" * 64, "linked_by": "U2"}] * 30
        )
    )
    assert_valid(messages.link_unreadable_message("https://example.com/x"))
    assert_valid(messages.not_linked_message(""))
    for code in ("ok", "revoke_failed", "not_linked"):
        assert_valid(messages.disconnect_message(code, HOSTILE_TITLE))
    assert_valid(messages.linked_dm(HOSTILE_TITLE, "o" * 256, "k" * 22, LONG_ID))
    assert_valid(messages.team_linked_dm("a" * 64, HOSTILE_TITLE, "o" * 256))
    assert_valid(messages.authorization_removed_dm(HOSTILE_TITLE, 9))
    assert_valid(messages.team_authorization_removed_dm("a" * 64, HOSTILE_TITLE, "x", ADMINS))
    assert_valid(messages.retry_gone_message())
    views = [
        SimpleNamespace(
            account="a" * 64,
            display_name=HOSTILE_TITLE,
            refresh_expires_at=NOW,
            users=[f"U{i:08d}" for i in range(40)],
            approvers=[f"S{i:030d}" for i in range(100)],
            needed=100,
        )
    ] * 30
    for is_admin in (True, False):
        assert_valid(messages.accounts_message(is_admin, views, ADMINS))
        assert_valid(messages.accounts_message(is_admin, [], ADMINS))
    for action in ("grant", "revoke", "remove", "connect"):
        for code in ("ok", "not_admin", "no_such_account", "revoke_failed"):
            users = [f"U{i:08d}" for i in range(40)]
            assert_valid(messages.team_change_message(action, code, "a" * 64, users, users))
    assert_valid(messages.team_connect_message("a" * 64, "https://example.com/" + "x" * 2000))
    most = [f"U{i:030d}" for i in range(50)] + [f"S{i:030d}" for i in range(50)]
    for code in ("ok", "unchanged", "not_admin", "no_such_account"):
        for approvers, previous in ((most, None), (most, (most, 100)), ((), (most, 1))):
            assert_valid(
                messages.approvers_message(code, "a" * 64, approvers, 100, previous, ADMINS)
            )
    assert_valid(messages.internal_problem_message(LONG_ID, ADMINS))
    assert_valid(messages.internal_problem_message())
    assert_valid(messages.stale_button_message())
    assert_valid(messages.in_flight_ack())


def test_the_home_tab_at_its_limits_is_a_valid_view():
    rows = [
        {
            "action": action,
            "outcome": outcome_code,
            "state": "finished",
            "publish_id": LONG_ID,
            "account": HOSTILE_TITLE[:64],
            "started_at": "2026-11-30T01:02:03.000Z",
            "reason": "held upload " + "k" * 128,
        }
        for action, outcome_code in [
            ("cancel", "ok"),
            ("cancel", "brand_new_code_2027"),
            ("disconnect", "revoke_failed"),
            ("grant", "ok"),
            ("weird_action", "weird_outcome"),
            ("cancel_held", "held_back"),
            ("start_held", "timeout"),
        ]
    ] * 2
    teams = [SimpleNamespace(account="a" * 64, display_name=HOSTILE_TITLE)] * 30
    uploads = [messages.AnnouncedView.of(announcement(status="PROCESSING_DOWNLOAD"))] * 30
    for user_link, url in (
        (messages.LinkView.of(link()), ""),
        (None, "https://example.com/c"),
        (None, ""),
    ):
        view = messages.home_view(user_link, url, True, teams, uploads, rows, time.time())
        View(**view).validate_json()
        for raw in view["blocks"]:
            Block.parse(raw).validate_json()
            _check_lengths(raw)


# --- held uploads (POST /uploads) ----------------------------------------------------------

LONG_CAPTION = ("&<>" * 300 + "\U0001f389 <!channel> #launch @brand ")[:2200]  # TikTok's limit


def held_upload(**changes) -> HeldUpload:
    base = HeldUpload(
        upload_key="k" * 128,
        team_id="T1",
        channel="C1",
        ts="1.2",
        account="a" * 64,
        source_url="https://cdn.example.com/" + "&<>" * 600,
        post={"title": LONG_CAPTION, "privacy_level": "FOLLOWER_OF_CREATOR"},
        hold_s=86400,
        created_at=NOW,
        starts_at=NOW + 86400,
        nickname=HOSTILE_TITLE[:64],
        publish_id=LONG_ID,
        code="x" * 256,
        log_id="L" * 64,
        by_user="U1",
        by_at=NOW,
    )
    return HeldUpload(**{**base.__dict__, **changes})


HELD_STATES = ["held", "starting", "started", "cancelled", "refused", "unknown", "asking", "retry"]
HELD_STATES += ["account_changed"]


@pytest.mark.parametrize("state", HELD_STATES)
@pytest.mark.parametrize("code", ["spam_risk_too_many_posts", "timeout", "x" * 256])
def test_held_messages_in_every_state_at_their_limits_are_valid(state, code):
    h = held_messages.HeldView.of(held_upload(state=state, code=code))
    warnings = ["&<> " * 50] * 7
    if state != "started":
        shown = held_messages.held_message(h, warnings)
        assert_valid(shown)
        # the start time stays in view however long the caption
        if state == "held":
            assert f"<!date^{int(NOW + 86400)}^" in shown["blocks"][0]["text"]["text"]
    for build in (
        held_messages.retry_reply,
        held_messages.cancelled_reply,
        held_messages.started_reply,
        held_messages.unknown_reply,
        held_messages.asking_reply,
        held_messages.done_message,
        held_messages.already_message,
        held_messages.account_changed_reply,
    ):
        assert_valid(build(h))
    assert_valid(held_messages.refused_reply(h, ADMINS))
    assert_valid(held_messages.not_allowed_message("a" * 64, ADMINS))
    assert_valid({"text": "row", "blocks": held_messages.held_rows(h)})


def test_list_and_home_with_many_held_and_running_uploads_stay_within_slacks_limits():
    held = [held_messages.HeldView.of(h) for h in (held_upload(), held_upload(state="asking"))]
    held *= 30
    running = [messages.AnnouncedView.of(announcement(status="PROCESSING_DOWNLOAD"))] * 60
    # 50 blocks: a heading and 10 held (2 blocks each), a heading and 27 running, the count
    # of the 50 + 33 left out; the note on hidden uploads takes one running row's place
    for hidden, left_out in ((False, 83), (True, 84)):
        shown = messages.list_message(running, NOW, hidden, held)
        assert_valid(shown)
        assert len(shown["blocks"]) == 50
        assert shown["blocks"][-1 if not hidden else -2]["elements"][0]["text"] == (
            f"{left_out} more not shown here."
        )
    teams = [SimpleNamespace(account="a" * 64, display_name=HOSTILE_TITLE)] * 30
    view = messages.home_view(
        messages.LinkView.of(link()),
        "",
        True,
        teams,
        running,
        [],
        NOW,
        uploads_unknown=True,
        held=held,
    )
    View(**view).validate_json()
    assert len(view["blocks"]) <= 100
    for raw in view["blocks"]:
        Block.parse(raw).validate_json()
        _check_lengths(raw)
