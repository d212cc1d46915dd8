"""Fuzzing `/tiktok-cancel settings <anything>`, by admins and by members, with one workspace
and with many: whatever follows `settings`, the ack is never a 5xx, exactly one answer comes
back with no traceback, every message the bot sent is valid Block Kit, and a pipeline token's
secret appears only in the answer that made it.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import Settings
from sandbox.fakes.slack_requests import slash_command_body
from storage import pipeline_tokens
from tests.conftest import db_rows, text_of
from tests.fuzz.conftest import ADMIN, LINKED, examples
from tests.fuzz.counting import count_case
from tests.fuzz.strategies import hostile_text, slack_escaped
from tests.workspaces_helpers import CLIENT_ID, CLIENT_SECRET, install

ANSWER_TIMEOUT_S = 15
OWNER = "U0FUZZOWNER"  # a Slack workspace owner: an admin in every mode, whatever is named
USERS = st.sampled_from([OWNER, ADMIN, LINKED])
ACTIONS = st.sampled_from(
    [
        "",
        "admins",
        "admins none",
        "audit",
        "audit none",
        "pipeline-token",
        "pipeline-token revoke",
        "ADMINS",
        "adminz",
        "pipeline-tokens",
    ]
)
MENTIONS = st.one_of(
    st.from_regex(r"<@[UWuwS][A-Z0-9a-z]{0,40}(\|[^>]{0,20})?>", fullmatch=True),
    st.from_regex(r"<#[CGcD][A-Z0-9]{0,40}(\|[^>]{0,20})?>", fullmatch=True),
    st.from_regex(r"<!subteam\^S[A-Z0-9]{1,12}(\|@[a-z-]{0,12})?>", fullmatch=True),
    st.from_regex(r"(pt|PT|tcp)_[0-9a-fA-F]{0,12}", fullmatch=True),
    st.sampled_from(["none", "NONE", "revoke", "@alex", "#general", "U0ALICE", "needed 2"]),
)
ARGUMENTS = st.one_of(
    hostile_text(40),
    st.lists(MENTIONS, max_size=6).map(" ".join),
    st.lists(st.one_of(MENTIONS, hostile_text(8)), max_size=5).map(" ".join),
    st.builds(lambda n: " ".join(f"<@U{i:04d}>" for i in range(n)), st.integers(95, 105)),
)
TEXTS = st.one_of(
    st.builds(lambda action, rest: f"settings {action} {rest}", ACTIONS, ARGUMENTS),
    st.builds(lambda rest: f"settings {rest}", hostile_text(60)),
)
SECRET_SHAPE = re.compile(r"tcp_[A-Za-z0-9_-]{43}")  # a pipeline token (storage/pipeline_tokens)
ORIGINAL: dict[int, Settings] = {}  # each live bot's settings as the fuzz suite started it


def assert_clean(status: int, text: str) -> None:
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text


async def _as_mode(live, many: bool) -> None:
    """The live bot serving one workspace (as the suite starts it) or many (its workspace
    installed with the fake's bot token); restarted only when it is in the other mode."""
    h = live.h
    first = ORIGINAL.setdefault(id(live), h.settings)
    h.slack.set_user(OWNER, is_owner=True)
    if h.bot.parts.workspaces.many == many:
        return
    if many:
        await h.restart(
            slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET
        )
        await install(h, h.slack.team_id, h.slack.bot_token)
    else:
        await h.restart(slack_bot_token=first.slack_bot_token, slack_client_id=None)


async def _command(h, text: str, user_id: str) -> tuple[int, str, list[dict]]:
    url = h.slack.new_response_url()
    status, body = await h.post_slack(slash_command_body(text, response_url=url, user_id=user_id))
    answers = await h.slack.wait_for_responses(url, 1, timeout=ANSWER_TIMEOUT_S)
    return status, body, answers


def _check(live, text: str, user: str, escaped: bool) -> None:
    sent = slack_escaped(text) if escaped else text
    status, body, answers = live.call(_command(live.h, sent, user))
    assert_clean(status, body)
    assert len(answers) == 1
    shown = text_of(answers[0])
    assert "Traceback" not in shown
    shaped = {pipeline_tokens.digest(found) for found in SECRET_SHAPE.findall(shown)}
    if shaped:  # a real secret is shown only in the answer that made it
        made = {r["token_hash"] for r in db_rows(live.h, "SELECT token_hash FROM pipeline_tokens")}
        assert not (shaped & made) or "Made the pipeline token" in shown, shown[:500]
    live.settle()
    assert live.new_problems() == []


@settings(max_examples=examples(50))
@given(text=TEXTS, user=USERS, escaped=st.booleans())
def test_any_settings_text_with_one_workspace_gets_a_valid_answer(live, text, user, escaped):
    count_case()
    live.call(_as_mode(live, many=False))
    _check(live, text, user, escaped)


@settings(max_examples=examples(50))
@given(text=TEXTS, user=USERS, escaped=st.booleans())
def test_any_settings_text_with_many_workspaces_gets_a_valid_answer(live, text, user, escaped):
    count_case()
    live.call(_as_mode(live, many=True))
    _check(live, text, user, escaped)
