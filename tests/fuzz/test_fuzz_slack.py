"""Fuzzing what Slack sends the bot: `/tiktok-cancel <anything>` and clicks on any button,
with any value, from a message or from the App Home, by linked and unlinked people.

Each case goes over real HTTP, signed as Slack signs, to the running bot. Whatever the input:
no 5xx, an answer (where one is due) with no traceback, and every message the bot sent to
the Slack stand-in valid by slack_sdk's Block Kit models.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.fakes.slack_requests import block_actions_payload, slash_command_body
from tests.fuzz.conftest import ADMIN, LINKED, UNLINKED, examples
from tests.fuzz.counting import count_case
from tests.fuzz.strategies import (
    action_ids,
    button_values,
    command_texts,
    slack_escaped,
)

ANSWER_TIMEOUT_S = 15
USERS = st.sampled_from([LINKED, UNLINKED, ADMIN])


def assert_clean(status: int, text: str) -> None:
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text


async def _command(h, text: str, user_id: str) -> tuple[int, str, list[dict]]:
    url = h.slack.new_response_url()
    status, body = await h.post_slack(slash_command_body(text, response_url=url, user_id=user_id))
    answers = await h.slack.wait_for_responses(url, 1, timeout=ANSWER_TIMEOUT_S)
    return status, body, answers


@settings(max_examples=examples(120))
@given(text=command_texts(), user=USERS, escaped=st.booleans())
def test_any_command_text_gets_a_valid_answer(live, text, user, escaped):
    count_case()
    sent = slack_escaped(text) if escaped else text  # Slack escapes; a forger might not
    status, body, answers = live.call(_command(live.h, sent, user))
    assert_clean(status, body)
    assert len(answers) == 1
    live.settle()
    assert live.new_problems() == []
    if user == LINKED and "disconnect" in text.lower():
        live.relink()


async def _click(h, action_id: str, value: str, user_id: str, from_home: bool):
    if from_home:  # a Home click: container is the view, no response_url, no channel
        payload = block_actions_payload(action_id, value, response_url="", user_id=user_id)
        for key in ("response_url", "channel", "message"):
            del payload[key]
        payload["container"] = {"type": "view", "view_id": "V1"}
        payload["view"] = {"id": "V1", "type": "home", "blocks": [], "state": {"values": {}}}
        url = None
    else:
        url = h.slack.new_response_url()
        payload = block_actions_payload(action_id, value, response_url=url, user_id=user_id)
    before = len(h.slack.calls_to("views.publish"))
    status, body = await h.post_slack(urlencode({"payload": json.dumps(payload)}))
    if action_id == "connect_tiktok":
        return status, body  # a URL button: acknowledged, nothing to answer
    if url is not None:
        await h.slack.wait_for_responses(url, 1, timeout=ANSWER_TIMEOUT_S)
    else:  # answered by DM, and the Home republished
        await h.slack.wait_for_call("views.publish", before + 1, timeout=ANSWER_TIMEOUT_S)
    return status, body


@settings(max_examples=examples(120))
@given(action_id=action_ids(), value=button_values(), user=USERS, from_home=st.booleans())
def test_any_button_click_gets_a_valid_answer(live, action_id, value, user, from_home):
    count_case()
    status, body = live.call(_click(live.h, action_id, value, user, from_home))
    assert_clean(status, body)
    live.settle()
    assert live.new_problems() == []
    if user == LINKED and action_id == "disconnect_tiktok":
        live.relink()


# --- requests to /slack/events that are not what Slack sends ---------------------------------

TIMESTAMPS = st.one_of(
    st.none(),
    st.just("now"),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
    st.integers(-(10**15), 10**15).map(str),
)
CONTENT_TYPES = st.sampled_from(
    ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data"]
)
RAW_SLACK_BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.builds(
        lambda text: urlencode({"payload": text}).encode(),
        st.text(max_size=100) | st.builds(json.dumps, st.lists(st.integers(), max_size=3)),
    ),
    st.builds(
        lambda text: urlencode({"command": "/tiktok-cancel", "text": text}).encode() + b"\xff",
        st.text(max_size=40),
    ),
)


async def _raw_slack(h, body: bytes, timestamp: str | None, signed: bool, content_type: str):
    ts = str(int(time.time())) if timestamp in (None, "now") else timestamp
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts}
    if timestamp is None:
        del headers["X-Slack-Request-Timestamp"]
    base = b"v0:" + ts.encode() + b":" + body
    secret = h.settings.slack_signing_secret if signed else "not-the-secret"
    headers["X-Slack-Signature"] = (
        "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    )
    async with h.session.post(h.url + "/slack/events", data=body, headers=headers) as resp:
        return resp.status, (await resp.read()).decode(errors="replace")


@settings(max_examples=examples(80))
@given(
    body=RAW_SLACK_BODIES,
    timestamp=TIMESTAMPS,
    signed=st.booleans(),
    content_type=CONTENT_TYPES,
)
def test_any_request_body_to_slack_events_gets_a_4xx_or_an_answer(
    live, body, timestamp, signed, content_type
):
    count_case()
    status, text = live.call(_raw_slack(live.h, body, timestamp, signed, content_type))
    assert_clean(status, text)
    if not signed:
        assert status in (400, 401), (status, text)
    live.settle()
    assert live.new_problems() == []
