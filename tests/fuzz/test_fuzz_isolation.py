"""Fuzzing isolation: generated command text, button clicks and modal submissions sent from
workspace TA, which shares every id with workspace TB (tests/isolation_helpers.py), never show
TA anything of TB and never touch TB's rows.

The bot, both workspaces and their data are set up once for the module (`two`, on its own
event loop, as the rest of the fuzz suite does); each generated case then, from TA: sends one
request, waits for its answer and for the work it started, and checks the four things the
isolation table checks (tests/test_workspace_isolation.py): no Web API call with TB's token or
for TB's things, TB's rows unchanged, no TB marker in anything TA saw (unless the case typed it),
TikTok called only with TA's tokens. TA's own state drifts from case to case (a disconnect, a
cancelled hold); TB's never may. Inputs lean on the ids both share and on TB's own secrets.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.fakes import FakeSlack, FakeTikTok
from sandbox.fakes.slack_requests import (
    block_actions_payload,
    interactive_body,
    slash_command_body,
    view_submission_payload,
)
from tests.conftest import Harness
from tests.fuzz.conftest import LiveBot, examples
from tests.fuzz.counting import count_case
from tests.fuzz.strategies import command_texts, hostile_text, json_values, slack_escaped
from tests.isolation_helpers import (
    APPROVAL_KEY,
    CHANNEL,
    KEY,
    PID,
    PID2,
    TA,
    TB,
    U1,
    UADMIN,
    Watch,
    World,
    leaks,
    markers,
    rows_of,
    two_worlds,
)
from tests.pg import database_url_for_test
from tests.workspaces_helpers import CLIENT_ID, CLIENT_SECRET

ANSWER_TIMEOUT_S = 15
USERS = st.sampled_from([U1, UADMIN, UADMIN, "U02"])
# TB's own secrets and ids, named here and filled in when a case runs
THEIRS = ["{tb_token_id}", "{tb_retry_key}", "{tb_ts}", "{tb_pipeline}", "{tb_approval}"]
IDS = st.sampled_from([PID, PID2, KEY, APPROVAL_KEY, "brand", f"<@{U1}>", f"<#{CHANNEL}>", *THEIRS])
WORDS = st.sampled_from(
    [
        "",
        "status",
        "as brand",
        "cancel",
        "list",
        "accounts",
        "whoami",
        "team grant brand",
        "team revoke brand",
        "team approvers brand",
        "team remove",
        "settings",
        "settings admins",
        "settings audit",
        "settings pipeline-token revoke",
        "explain",
        "disconnect",
    ]
)
# Commands each aimed at something both workspaces have, or at TB's own
AIMED_TEXTS = st.sampled_from(
    [
        PID,
        f"status {PID}",
        f"as brand {PID}",
        f"{PID2} again",
        "list",
        "accounts",
        "whoami",
        "settings",
        "settings pipeline-token revoke {tb_token_id}",
        f"team approvers brand <@{U1}> needed 1",
        "team remove brand",
        "{tb_retry_key}",
        "status {tb_ts}",
    ]
)
TEXTS = st.one_of(
    command_texts(),
    AIMED_TEXTS,
    AIMED_TEXTS,
    st.builds(lambda word, ids: " ".join([word, *ids]).strip(), WORDS, st.lists(IDS, max_size=3)),
    st.builds(
        lambda word, ids, rest: " ".join([word, *ids, rest]).strip(),
        WORDS,
        st.lists(IDS, min_size=1, max_size=3),
        hostile_text(20),
    ),
)
ACTIONS = st.sampled_from(
    [
        "cancel_upload",
        "retry_cancel",
        "retry_cancel_key",
        "cancel_held",
        "start_held",
        "review_upload",
        "reject_upload",
        "disconnect_tiktok",
        "connect_tiktok",
        "no_such_button",
    ]
)
VALUES = st.one_of(
    IDS,
    IDS,
    st.builds(
        lambda pid, reason: json.dumps({"publish_id": pid, "reason": reason}), IDS, hostile_text()
    ),
    hostile_text(30),
    st.builds(json.dumps, json_values()),
)
# What each button is meant to carry, TB's own where it has one: half the clicks carry one
AIMED = {
    "cancel_upload": [PID, PID2],
    "retry_cancel": [json.dumps({"publish_id": PID, "reason": "x"})],
    "retry_cancel_key": ["{tb_retry_key}"],
    "cancel_held": [KEY, APPROVAL_KEY],
    "start_held": [KEY],
    "review_upload": [APPROVAL_KEY],
    "reject_upload": [APPROVAL_KEY],
}
CLICKS = ACTIONS.flatmap(
    lambda action: st.tuples(st.just(action), st.sampled_from(AIMED.get(action, [PID])) | VALUES)
)
VIEWS = st.sampled_from(["approve_upload", "reject_upload_reason", "no_such_view"])
METADATA = st.one_of(
    st.builds(
        lambda key, options: json.dumps({"k": key, "o": options, "d": [], "m": 600, "v": 42.5}),
        st.sampled_from([APPROVAL_KEY, KEY]) | IDS,
        st.lists(st.sampled_from(["SELF_ONLY", "PUBLIC_TO_EVERYONE"]), max_size=2),
    ),
    st.sampled_from([APPROVAL_KEY, KEY]),
    hostile_text(60),
)
FORM = st.fixed_dictionaries(
    {
        "privacy": st.sampled_from(["SELF_ONLY", "PUBLIC_TO_EVERYONE", "nope"]),
        "reason": hostile_text(40),
        "caption": hostile_text(60),
    }
)


class TwoWorkspaces(LiveBot):
    """The fuzz suite's live bot, serving many workspaces: TA and TB as `two_worlds` sets
    them up."""

    world: World
    typed: list[str]  # what every case so far typed (TA may keep it and show it again)

    async def _start(self) -> Harness:
        slack, tiktok = FakeSlack(), FakeTikTok()
        await slack.start()
        await tiktok.start()
        settings_ = self.settings_for(
            slack,
            tiktok,
            slack_bot_token=None,
            slack_client_id=CLIENT_ID,
            slack_client_secret=CLIENT_SECRET,
        )
        h = Harness(slack, tiktok, settings_, aiohttp.ClientSession())
        await h.start()
        self.world = await two_worlds(h)
        self.typed = []
        return h


@pytest.fixture(scope="module")
def two(request, tmp_path_factory):
    bot = TwoWorkspaces(tmp_path_factory.mktemp("fuzz-isolation"), database_url_for_test(request))
    bot.start()
    bot.new_problems()  # the set-up's own messages were checked by the isolation suite
    yield bot
    bot.stop()


def _filled(text: str, world: World, h) -> str:
    """`text` with TB's secrets and ids where the strategies named them."""
    theirs = world.b
    return (
        text.replace("{tb_token_id}", theirs.token_id)
        .replace("{tb_retry_key}", theirs.retry_key)
        .replace("{tb_ts}", theirs.announced_ts)
        .replace("{tb_pipeline}", theirs.pipeline)
        .replace("{tb_approval}", theirs.approval_path)
    )


async def _settled(h, url: str, answered: bool) -> None:
    """Until a command's answer came (when `answered`), then until the work every request
    started is done. Bolt answers Slack only once the listener called `ack()`, and each
    listener counts itself in `parts.work` right after, so that work is there to wait for."""
    if answered:
        await h.slack.wait_for_responses(url, 1, timeout=ANSWER_TIMEOUT_S)
    parts = h.bot.parts
    while pending := [
        *parts.work.pending(),
        *parts.cancels.pending(),
        *parts.link_notices.pending(),
        *parts.webhooks.pending(),
    ]:
        await asyncio.gather(*pending, return_exceptions=True)


async def _from_ta(two: TwoWorkspaces, body_for, typed: str, answered: bool = False) -> None:
    """Send one request from TA (`body_for(response_url)` builds it), let it finish, and check
    isolation."""
    h, world = two.h, two.world
    two.typed.append(typed)  # what TA typed, it may be shown again later (a Home's audit list)
    hidden = [m for m in markers(h, world.b) if not any(m in said for said in two.typed)]
    before = rows_of(h, TB)
    watch = Watch(h)
    url = h.slack.new_response_url()
    with h.slack.expect_team(TA):
        status, answer = await h.post_slack(body_for(url))
        assert status < 500 and "Traceback" not in answer, (status, answer[:300])
        await _settled(h, url, answered)

    calls = watch.slack_calls()
    assert [(c.method, c.token_team) for c in calls if c.token_team != TA] == []
    assert [(c.method, c.owners) for c in calls if c.wrong_team] == []
    assert rows_of(h, TB) == before
    assert leaks(watch.seen([answer]), hidden) == []
    assert leaks(json.dumps(rows_of(h, TA)), hidden) == []  # nor in anything TA keeps
    assert not {"open-brand-b", "open-u1-b"} & watch.tiktok_accounts()


@settings(max_examples=examples(40))
@given(text=TEXTS, user=USERS, escaped=st.booleans())
def test_any_command_from_one_workspace_keeps_to_it(two, text, user, escaped):
    count_case()
    typed = _filled(text, two.world, two.h)
    sent = slack_escaped(typed) if escaped else typed

    def body_for(url: str) -> str:
        return slash_command_body(
            sent,
            response_url=url,
            user_id=user,
            team_id=TA,
            trigger_id=two.h.slack.new_trigger_id(user, TA),
        )

    two.call(_from_ta(two, body_for, typed, answered=True), timeout=60)
    assert two.new_problems() == []


@settings(max_examples=examples(40))
@given(click=CLICKS, user=USERS, on_theirs=st.booleans())
def test_any_click_from_one_workspace_keeps_to_it(two, click, user, on_theirs):
    """A button on TA's announcement, or on a message naming TB's ts (same channel id)."""
    count_case()
    action_id, value = click
    typed = _filled(value, two.world, two.h)
    ts = two.world.b.announced_ts if on_theirs else two.world.a.announced_ts

    def body_for(url: str) -> str:
        payload = block_actions_payload(
            action_id,
            typed,
            response_url=url,
            user_id=user,
            team_id=TA,
            channel_id=CHANNEL,
            message_ts=ts,
            trigger_id=two.h.slack.new_trigger_id(user, TA),
        )
        return interactive_body(payload)

    two.call(_from_ta(two, body_for, typed + ts), timeout=60)
    assert two.new_problems() == []


@settings(max_examples=examples(40))
@given(callback_id=VIEWS, metadata=METADATA, form=FORM, user=USERS)
def test_any_modal_submission_from_one_workspace_keeps_to_it(
    two, callback_id, metadata, form, user
):
    """The post page or the rejection modal submitted from TA, naming any key (TB's too)."""
    count_case()
    typed = _filled(metadata, two.world, two.h)
    values = {
        "privacy": {
            "privacy": {"type": "static_select", "selected_option": {"value": form["privacy"]}}
        },
        "caption": {"caption": {"type": "plain_text_input", "value": form["caption"]}},
        "reason": {"reason": {"type": "plain_text_input", "value": form["reason"]}},
    }

    def body_for(url: str) -> str:
        view = {
            "id": "VFUZZISO",
            "team_id": TA,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": typed,
            "state": {"values": values},
        }
        payload = view_submission_payload(
            view, user_id=user, team_id=TA, trigger_id=two.h.slack.new_trigger_id(user, TA)
        )
        return interactive_body(payload)

    two.call(_from_ta(two, body_for, typed + json.dumps(form)), timeout=60)
    assert two.new_problems() == []
