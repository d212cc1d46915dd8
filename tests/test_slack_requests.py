"""What Slack sends the bot and what comes back: signatures, the 3-second ack, stale and
hostile buttons, usage answers, mrkdwn escaping and the audit post (`explain` is in
test_explain_command.py, `status` in test_status_command.py)."""

from __future__ import annotations

import json
import re
import time

import pytest

from sandbox.fakes.server import Reply
from sandbox.fakes.slack_requests import block_actions_body, sign, slash_command_body
from tests.conftest import text_of

PID = "v_pub_url~v2.123456789"
ACK_BUDGET_S = 3.0  # Slack's contract: an answer within 3 seconds or the user sees an error


async def refused_without_effect(h, response_url: str) -> None:
    """The refused command (a cancel of PID) had no effect: the same command, signed properly
    and sent after it (the sentinel), is answered as the first cancel of PID — TikTok's one
    cancel call is the sentinel's — and by then nothing was ever posted to `response_url`. A
    refused request the bot had acted on anyway would have been served first."""
    sentinel = await h.command(PID)
    assert "TikTok is stopping" in text_of(sentinel)
    await h.bot.parts.cancels.drain()
    assert len(h.tiktok.calls_to("cancel")) == 1
    assert h.slack.responses.get(response_url, []) == []
    assert [r["outcome"] for r in h.audit_rows() if r["action"] == "cancel"] == ["ok"]


def assert_usage_without_call(h, answer: dict) -> str:
    assert h.tiktok.calls_to("cancel") == []
    assert h.tiktok.calls_to("status") == []
    assert answer.get("response_type") == "ephemeral"
    return text_of(answer)


# --- request signatures ----------------------------------------------------------------


async def linked_with_upload(h) -> None:
    await h.link()
    h.tiktok.add_upload(PID, open_id="open-1")


async def test_forged_signature_is_refused(h):
    await linked_with_upload(h)
    url = h.slack.new_response_url()
    body = slash_command_body(PID, response_url=url)
    headers = sign("not-the-signing-secret", body)
    async with h.session.post(h.url + "/slack/events", data=body, headers=headers) as resp:
        assert resp.status == 401
    await refused_without_effect(h, url)


async def test_missing_signature_headers_are_refused(h):
    await linked_with_upload(h)
    url = h.slack.new_response_url()
    body = slash_command_body(PID, response_url=url)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with h.session.post(h.url + "/slack/events", data=body, headers=headers) as resp:
        assert resp.status == 401
    # a signature without its timestamp is no better
    only_sig = sign(h.settings.slack_signing_secret, body)
    del only_sig["X-Slack-Request-Timestamp"]
    async with h.session.post(h.url + "/slack/events", data=body, headers=only_sig) as resp:
        assert resp.status == 401
    await refused_without_effect(h, url)


async def test_stale_timestamp_is_refused(h):
    await linked_with_upload(h)
    url = h.slack.new_response_url()
    body = slash_command_body(PID, response_url=url)
    status, _ = await h.post_slack(body, timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    await refused_without_effect(h, url)


async def test_correctly_signed_request_is_served(h):
    url = h.slack.new_response_url()
    status, _ = await h.post_slack(slash_command_body("help", response_url=url))
    assert status == 200
    (answer,) = await h.slack.wait_for_responses(url, 1)
    assert "status" in text_of(answer)


# --- the 3-second ack ------------------------------------------------------------------


async def test_command_is_acked_fast_while_tiktok_hangs(h):
    await linked_with_upload(h)
    h.tiktok.script("cancel", Reply(hang=True))
    url = h.slack.new_response_url()
    started = time.monotonic()
    status, _ = await h.post_slack(slash_command_body(PID, response_url=url))
    elapsed = time.monotonic() - started
    assert status == 200
    assert elapsed < ACK_BUDGET_S
    # the hung call ends as "we don't know" within the bot's own budget
    (answer,) = await h.slack.wait_for_responses(url, 1, timeout=15)
    assert "Still running:* unknown" in text_of(answer)
    assert len(h.tiktok.calls_to("cancel")) == 1


async def test_button_is_acked_fast_while_tiktok_hangs(h):
    await linked_with_upload(h)
    h.tiktok.script("cancel", Reply(hang=True))
    url = h.slack.new_response_url()
    started = time.monotonic()
    status, _ = await h.post_slack(block_actions_body("cancel_upload", PID, response_url=url))
    elapsed = time.monotonic() - started
    assert status == 200
    assert elapsed < ACK_BUDGET_S
    await h.slack.wait_for_responses(url, 1, timeout=15)


# --- stale and hostile buttons ---------------------------------------------------------


async def test_unknown_button_gets_a_quiet_answer(h):
    answer = await h.click("some_old_button", "x")
    assert answer["response_type"] == "ephemeral"
    assert "help" in text_of(answer)
    assert h.tiktok.calls == []


@pytest.mark.parametrize(
    "value", ["<!channel>", "", "   ", "{not json", '{"publish_id": "<!here>"}']
)
async def test_cancel_button_with_garbage_value(h, value):
    await h.link()
    calls_before = len(h.tiktok.calls)
    answer = await h.click("cancel_upload", value)
    assert answer["response_type"] == "ephemeral"
    text = text_of(answer)
    assert "<!channel>" not in text and "<!here>" not in text
    assert h.tiktok.calls_to("cancel") == []
    assert len(h.tiktok.calls) == calls_before


# --- usage answers ---------------------------------------------------------------------

SUBCOMMANDS = ("status", "connect", "disconnect", "whoami", "explain", "help")


@pytest.mark.parametrize("text", ["help", "", "   ", "HELP"])
async def test_help_lists_the_subcommands(h, text):
    answer = await h.command(text)
    body = text_of(answer)
    for word in SUBCOMMANDS:
        assert f"/tiktok-cancel {word}" in body
    assert "/tiktok-cancel <publish_id>" in body.replace("&lt;", "<").replace("&gt;", ">")
    assert h.tiktok.calls == []


CONTROL = re.compile(
    r"<(@[UW][A-Z0-9]+|#C[A-Z0-9]+|![a-z]+(\^[^>]*)?|https?://[^>]+|mailto:[^>]+)>"
)


@pytest.mark.parametrize("text", ["help", "stauts", "status <!here>"])
async def test_bot_text_has_no_stray_angle_brackets(h, text):
    """Slack reads `<…>` as a link or mention: the bot's own words must escape `<` too."""
    answer = await h.command(text)
    leftover = CONTROL.sub("", text_of(answer))
    assert "<" not in leftover and ">" not in leftover, leftover


async def test_unknown_word_suggests_the_close_one(h):
    answer = await h.command("stauts")
    text = assert_usage_without_call(h, answer)
    assert "don't know the word" in text
    assert "stauts" in text
    assert "Did you mean `/tiktok-cancel status`" in text


async def test_status_without_an_id_asks_which_upload(h):
    await h.link()
    answer = await h.command("status")
    text = assert_usage_without_call(h, answer)
    assert "Which upload?" in text


@pytest.mark.parametrize(
    "bad_id",
    ["v_pub<@U123>", "@channel", "*bold*", "<!here>", "<https://evil.example|click>"],
)
async def test_malformed_publish_id_gets_usage_and_no_call(h, bad_id):
    await h.link()
    for text in (bad_id, f"status {bad_id}"):
        answer = await h.command(text)
        body = assert_usage_without_call(h, answer)
        assert "doesn't look like a TikTok publish_id" in body
        assert "nothing was sent to TikTok" in body


async def test_publish_id_over_256_characters_is_refused(h):
    await h.link()
    long_id = PID + "9" * (257 - len(PID))
    assert len(long_id) == 257
    for text in (long_id, f"status {long_id}"):
        answer = await h.command(text)
        body = assert_usage_without_call(h, answer)
        assert "longer than 256 characters" in body
        assert long_id not in body


async def test_publish_id_of_256_characters_is_sent(h):
    await h.link()
    answer = await h.command(PID + "9" * (256 - len(PID)))
    assert len(h.tiktok.calls_to("cancel")) == 1
    assert "longer than" not in text_of(answer)


async def test_reason_over_256_characters_is_refused(h):
    await linked_with_upload(h)
    answer = await h.command(f"{PID} " + "r" * 300)
    body = assert_usage_without_call(h, answer)
    assert "reason is longer than 256" in body
    assert h.tiktok.uploads[PID].status == "PROCESSING_DOWNLOAD"


async def test_a_typo_gets_the_nearest_command_and_one_example_not_the_whole_help(h):
    text = text_of(await h.command(f"stauts {PID}"))
    assert "We don't know the word `stauts`." in text
    assert "Did you mean `/tiktok-cancel status`?" in text
    assert f"For example: `/tiktok-cancel status {PID}`" in text
    assert "whoami" not in text, "the whole help list is not repeated"


# --- mrkdwn injection ------------------------------------------------------------------

HOSTILE = ("<!channel>", "<!here>", "<@U999>", "<http", "<https", "<#C1>", "<!subteam")


def assert_no_raw_markup(text: str, typed: str) -> None:
    """No control sequence that came from `typed` survives unescaped in `text`."""
    for token in HOSTILE:
        if token in typed:
            assert token not in text, f"{token!r} echoed raw in {text!r}"


@pytest.mark.parametrize(
    "typed, shown",
    [
        ("explain <!channel>", "&lt;!channel&gt;"),
        ("explain <@U999>", "&lt;@U999&gt;"),
        ("explain a&b", "a&amp;b"),
        ("<!here>", "&lt;!here&gt;"),
        ("<https://evil.example|click> because", "&lt;https://evil.example|click&gt;"),
        ("status <!channel>", "&lt;!channel&gt;"),
        ("v_pub<@U999>", "&lt;@U999&gt;"),
        ("x<!subteam^S1> reason", "&lt;!subteam^S1&gt;"),
    ],
)
async def test_echoed_input_is_escaped(h, typed, shown):
    await h.link()
    answer = await h.command(typed)
    text = text_of(answer)
    assert_no_raw_markup(text, typed)
    assert shown in text
    assert h.tiktok.calls_to("cancel") == []


async def test_hostile_reason_is_kept_in_audit_but_never_echoed_raw(h):
    await h.restart(audit_channel="CAUDIT")
    await linked_with_upload(h)
    reason = "<!channel> & <https://x|y>"
    answer = await h.command(f"{PID} {reason}")
    assert "TikTok is stopping" in text_of(answer)
    assert_no_raw_markup(text_of(answer), reason)
    row = h.last_audit()
    assert row["reason"] == reason
    assert row["outcome"] == "ok"
    posts = [
        c
        for c in await h.slack.wait_for_call("chat.postMessage", 2)
        if c.params.get("channel") == "CAUDIT"
    ]
    assert len(posts) == 1
    posted = json.dumps(posts[0].params)
    assert "<!channel>" not in posted
    assert "<https://x" not in posted


async def test_what_was_typed_is_echoed_escaped(h):
    text = text_of(await h.command("status <!channel>"))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text


# --- AUDIT_CHANNEL ---------------------------------------------------------------------


async def link_for_audit(h) -> None:
    """Restart with an audit channel and link U1; the linked DM is posted first."""
    await h.restart(audit_channel="CAUDIT")
    await linked_with_upload(h)
    await h.slack.wait_for_call("chat.postMessage", 1)  # the "you are linked" DM


async def test_cancel_is_posted_to_the_audit_channel(h):
    await link_for_audit(h)
    answer = await h.command(f"{PID} wrong cut")
    log_id = h.last_audit()["log_id"]
    assert log_id
    calls = await h.slack.wait_for_call("chat.postMessage", 2)
    audit_posts = [c for c in calls if c.params.get("channel") == "CAUDIT"]
    assert len(audit_posts) == 1
    post = audit_posts[0]
    posted = post.params.get("text", "") + json.dumps(post.params.get("blocks", []))
    assert "TikTok is stopping" in posted
    assert log_id in posted
    assert PID in posted
    assert "<@U1>" in posted
    assert "TikTok is stopping" in text_of(answer)


async def test_audit_channel_failure_does_not_undo_the_cancel(h):
    await link_for_audit(h)
    h.slack.fail("chat.postMessage", "channel_not_found")
    answer = await h.command(PID)
    assert "TikTok is stopping" in text_of(answer)
    await h.slack.wait_for_call("chat.postMessage", 2)
    row = h.last_audit()
    assert row["state"] == "finished"
    assert row["outcome"] == "ok"
    assert len(h.tiktok.calls_to("cancel")) == 1


async def test_not_cancellable_is_posted_with_its_outcome(h):
    await link_for_audit(h)
    h.tiktok.uploads[PID].cancellable = False
    await h.command(PID)
    calls = await h.slack.wait_for_call("chat.postMessage", 2)
    (post,) = [c for c in calls if c.params.get("channel") == "CAUDIT"]
    posted = post.params.get("text", "") + json.dumps(post.params.get("blocks", []))
    assert "Couldn't cancel" in posted
    assert h.last_audit()["log_id"] in posted


async def test_audit_post_shows_the_reason_escaped(h):
    """The public audit entry carries the attempt's reason (SPEC "Audit"), escaped."""
    await link_for_audit(h)
    await h.command(f"{PID} <!channel> & <https://x|y>")
    calls = await h.slack.wait_for_call("chat.postMessage", 2)
    (post,) = [c for c in calls if c.params.get("channel") == "CAUDIT"]
    posted = post.params.get("text", "") + json.dumps(post.params.get("blocks", []))
    assert "&lt;!channel&gt; &amp; &lt;https://x|y&gt;" in posted


# --- response_url retry ----------------------------------------------------------------


async def test_response_url_failing_once_is_retried(h):
    h.slack.fail_response(500)
    answer = await h.command("help")
    assert "/tiktok-cancel status" in text_of(answer)


@pytest.mark.parametrize("reason", ["payload was the wrong cut", "bad payload&x=1"])
async def test_a_command_that_says_payload_is_served_like_any_other(h, reason):
    # Bolt read any form body containing the word "payload" as a button payload, found none,
    # and the command went unanswered (404).
    await linked_with_upload(h)
    answer = await h.command(f"{PID} {reason}")
    assert "TikTok is stopping" in text_of(answer)
    (row,) = [r for r in h.audit_rows() if r["action"] == "cancel"]
    assert (row["reason"], row["outcome"]) == (reason, "ok")
    usage = await h.command("payload")
    assert "We don't know the word `payload`" in text_of(usage)
