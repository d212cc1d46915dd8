"""`/tiktok-cancel <publish_id> [reason]`: what the person sees and what the audit keeps."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from bot import messages
from sandbox.fakes import Reply
from tests.conftest import button_urls, text_of
from tests.upload_helpers import overlapping

PID = "v_pub_url~v2.123456789"


async def test_cancel_with_linked_account(h):
    await h.link()
    h.tiktok.add_upload(PID, open_id="open-1")
    answer = await h.command(f"{PID} wrong video")
    text = text_of(answer)
    assert "TikTok is stopping upload" in text
    assert "Still running:* stopping \u2014 we'll tell you by direct message when TikTok" in text
    assert "Cancelled" not in text and "won't be posted" not in text
    cancel_calls = h.tiktok.calls_to("cancel")
    assert len(cancel_calls) == 1
    assert cancel_calls[0].body == {"publish_id": PID}
    log_id = cancel_calls[0].response["error"]["log_id"]
    assert log_id in text
    assert PID in text
    row = h.last_audit()
    assert row["state"] == "finished"
    assert row["outcome"] == "ok"
    assert row["publish_id"] == PID
    assert row["reason"] == "wrong video"
    assert row["source"] == "command"
    assert row["http_status"] == 200
    assert row["log_id"] == log_id
    assert row["account"] == "Brand Social"
    assert row["user_id"] == "U1"
    assert row["latency_ms"] is not None


async def test_cancel_without_link_offers_connect_and_makes_no_call(h):
    answer = await h.command(PID)
    assert h.tiktok.calls_to("cancel") == []
    urls = button_urls(answer)
    assert urls and urls[0].startswith(h.settings.tiktok_authorize_url)
    assert h.last_audit()["outcome"] == "not_linked"


# --- every cancel code TikTok documents ---------------------------------------------------

# TikTok refused the request without acting on it: the cancel stopped nothing, so the upload
# runs on as before, whichever of these codes said so (one situation, one value).
REFUSED = "yes"
# A code TikTok uses to refuse *starting* an upload, answering a cancel instead.
START_CODE = "a code it uses when it refuses to start an upload"

CODE_CASES = [
    # (http status, code, words the person must see, still running after the cancel)
    (400, "invalid_publish_id", "TikTok doesn't know this upload", "unknown"),
    (400, "token_not_authorized_for_specified_publish_id", "didn't start this upload", REFUSED),
    (400, "publish_not_cancellable", "TikTok had already finished with it", "no"),
    (403, "url_ownership_unverified", "doesn't accept the website the video comes from", REFUSED),
    (401, "scope_not_authorized", "doesn't include permission to manage uploads", REFUSED),
    (429, "rate_limit_exceeded", "too many requests from this account", REFUSED),
    (500, "internal_error", "TikTok reported an error on its side", "unknown"),
    (400, "invalid_params", "the request was incomplete or malformed", REFUSED),
    (400, "scope_permission_missed", "a permission this needs is missing", REFUSED),
    # codes TikTok uses to refuse *starting* an upload say so, never "refused to start" it
    (400, "invalid_param", START_CODE, "unknown"),
    (403, "privacy_level_option_mismatch", START_CODE, "unknown"),
    (403, "unaudited_client_can_only_post_to_private_accounts", START_CODE, "unknown"),
]


@pytest.mark.parametrize(("http_status", "code", "words", "running"), CODE_CASES)
async def test_each_cancel_code_is_explained_and_audited(h, http_status, code, words, running):
    await h.link()
    h.tiktok.add_upload(PID)
    # retryable codes are retried: script enough answers for every attempt
    h.tiktok.script_error("cancel", http_status, code, times=3)
    answer = await h.command(PID)
    text = text_of(answer)
    assert f"Still running:* {running}" in text
    assert words in text
    assert "*Next:*" in text
    assert PID in text
    calls = h.tiktok.calls_to("cancel")
    log_id = calls[-1].response["error"]["log_id"]
    assert log_id in text
    row = h.last_audit()
    assert (row["state"], row["outcome"], row["http_status"], row["log_id"]) == (
        "finished",
        code,
        http_status,
        log_id,
    )
    retryable = code in ("rate_limit_exceeded", "internal_error")
    assert len(calls) == (3 if retryable else 1)
    assert row["attempts"] == len(calls)
    assert "refused to start" not in text
    # the same code reads the same through `explain` (a start code: as TikTok refusing a start)
    explained = "TikTok refused to start" if words == START_CODE else words
    assert explained in text_of(await h.command(f"explain {code}"))


async def test_unknown_code_gets_the_fallback_and_keeps_the_code(h):
    await h.link()
    h.tiktok.script_error("cancel", 400, "brand_new_code")
    text = text_of(await h.command(PID))
    assert "TikTok answered `brand_new_code`, which we don't know yet" in text
    assert "Still running:* unknown" in text
    assert h.last_audit()["outcome"] == "brand_new_code"
    explained = text_of(await h.command("explain brand_new_code"))
    assert "TikTok answered `brand_new_code`, which we don't know yet" in explained


# --- faults on the way to TikTok ----------------------------------------------------------


async def test_timeout_says_outcome_unknown_and_how_to_check(h):
    await h.link()
    h.tiktok.script("cancel", Reply(hang=True))
    started = time.monotonic()
    text = text_of(await h.command(PID))
    assert time.monotonic() - started < h.settings.cancel_deadline + 2
    assert "Still running:* unknown" in text
    assert f"/tiktok-cancel status {PID}" in text
    row = h.last_audit()
    assert (row["state"], row["outcome"], row["http_status"]) == ("finished", "timeout", None)
    assert len(h.tiktok.calls_to("cancel")) == 1, "a timeout is not retried: it may have worked"


async def test_a_slow_tiktok_is_cut_off_by_the_whole_cancel_deadline(h):
    await h.restart(tiktok_request_timeout=10.0, cancel_deadline=1.0)
    await h.link()
    h.tiktok.script("cancel", Reply(delay=5, json={"error": {"code": "ok", "log_id": "x"}}))
    started = time.monotonic()
    text = text_of(await h.command(PID))
    assert time.monotonic() - started < 3
    assert "Still running:* unknown" in text
    assert h.last_audit()["outcome"] == "timeout"


SERVERS_FAILING = "TikTok's servers kept failing without an answer"
GARBLED = "TikTok's reply was garbled"


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (
            Reply(
                status=502, body="<html><body>Bad Gateway</body></html>", content_type="text/html"
            ),
            "server_error",
        ),
        (Reply(status=500, body=b""), "server_error"),
        (Reply(status=200, body="{not json", content_type="application/json"), "bad_response"),
        (Reply(status=200, body=b""), "bad_response"),
        (Reply(status=200, json={"data": {}}), "bad_response"),
        (Reply(status=200, json=["ok"]), "bad_response"),
        (Reply(reset=True, json={"error": {"code": "ok", "log_id": "L" * 40}}), "bad_response"),
        (Reply(drop=True), "bad_response"),  # read, then ECONNRESET: it may have acted
    ],
    ids=[
        "html-502",
        "empty-500",
        "bad-json",
        "empty-200",
        "no-error-object",
        "json-list",
        "reset",
        "dropped",
    ],
)
async def test_broken_answers_are_explained_without_a_traceback(h, reply, code):
    await h.link()
    retries = 3 if code == "server_error" else 1
    h.tiktok.script("cancel", *([reply] * retries))
    answer = await h.command(PID)
    text = text_of(answer)
    assert "Traceback" not in text
    assert "Still running:* unknown" in text and "*Next:*" in text
    assert (SERVERS_FAILING if code == "server_error" else GARBLED) in text
    row = h.last_audit()
    assert (row["state"], row["outcome"]) == ("finished", code)
    assert len(h.tiktok.calls_to("cancel")) == retries


async def test_429_then_ok_is_retried_quietly(h):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script_error("cancel", 429, "rate_limit_exceeded")
    text = text_of(await h.command(PID))
    assert "TikTok is stopping" in text
    row = h.last_audit()
    assert (row["outcome"], row["attempts"]) == ("ok", 2)


async def test_connection_refused(h):
    await h.link()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    await h.restart(tiktok_api_url=f"http://127.0.0.1:{closed_port}")
    text = text_of(await h.command(PID))
    assert "Traceback" not in text
    assert "Still running:*" in text
    row = h.last_audit()
    assert (row["state"], row["outcome"], row["attempts"]) == ("finished", "connection_failed", 3)


# --- one call for one upload --------------------------------------------------------------


async def test_two_requests_for_one_upload_make_one_tiktok_call(h):
    await h.link()
    h.tiktok.add_upload(PID)
    first, second = await overlapping(h, h.command(PID), h.click("cancel_upload", PID))
    assert len(h.tiktok.calls_to("cancel")) == 1
    assert "already" in text_of(second).lower() and "under way" in text_of(second).lower()
    assert "TikTok is stopping" in text_of(first)
    outcomes = sorted(r["outcome"] for r in h.audit_rows() if r["action"] == "cancel")
    assert outcomes == ["in_flight", "ok"]


async def test_after_a_cancel_finishes_another_request_calls_again(h):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script_error("cancel", 400, "invalid_params")  # the first one ends, refused
    assert "malformed" in text_of(await h.command(PID))
    text = text_of(await h.command(PID))
    assert "TikTok is stopping" in text
    assert len(h.tiktok.calls_to("cancel")) == 2


# --- input is checked before anything is sent ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "v_pub<@U123>",
        "<!channel>",
        "@channel",
        "*bold*",
        "<https://evil.example|click>",
        "x" * 257,
        f"{PID} " + "r" * 257,
        "status",
        "stauts v_pub_url~v2.1",
    ],
    ids=[
        "mention",
        "channel",
        "at-channel",
        "bold",
        "link",
        "long-id",
        "long-reason",
        "status-no-id",
        "typo",
    ],
)
async def test_bad_input_gets_usage_and_no_call(h, text):
    await h.link()
    answer = await h.command(text)
    shown = text_of(answer)
    assert "<!channel>" not in shown and "<@U123>" not in shown and "<https://evil" not in shown
    assert "/tiktok-cancel status <publish_id>" not in shown  # the usage is escaped too
    assert h.tiktok.calls_to("cancel") == []
    assert not [r for r in h.audit_rows() if r["action"] == "cancel"]


async def test_audit_row_is_written_before_tiktok_is_called(h):
    await h.link()
    h.tiktok.script("cancel", Reply(hang=True))
    await h.command(PID, wait=False)
    for _ in range(200):
        if h.tiktok.calls_to("cancel"):
            break
        await asyncio.sleep(0.01)
    row = h.last_audit()
    assert (row["action"], row["state"], row["outcome"]) == ("cancel", "started", None)


async def test_text_slack_escaped_is_stored_as_typed_and_shown_escaped_once(h):
    await h.restart(audit_channel="CAUDIT")
    await h.link()
    h.tiktok.add_upload(PID)
    # Slack sends what a person typed as "a & b <c>" like this:
    await h.command(f"{PID} a &amp; b &lt;c&gt;")
    assert h.last_audit()["reason"] == "a & b <c>"
    await h.bot.parts.cancels.drain()
    (post,) = [c for c in h.slack.calls_to("chat.postMessage") if c.params["channel"] == "CAUDIT"]
    shown = text_of(post.params)
    assert "a &amp; b &lt;c&gt;" in shown
    assert "&amp;amp;" not in shown


# --- the words of an answer -------------------------------------------------------------------


def test_an_internal_problem_about_a_cancel_says_unknown_and_how_to_check():
    text = text_of(messages.internal_problem_message(PID, {"U0ADMIN"}))
    assert "before TikTok was asked" not in text
    assert "can't tell whether TikTok was asked" in text
    assert "Still running:* unknown" in text
    assert f"/tiktok-cancel status {PID}" in text
    assert "<@U0ADMIN>" in text


async def test_a_cancel_without_a_log_id_has_no_empty_log_line(h):
    await h.link()
    h.tiktok.script("cancel", *[Reply(status=500, body=b"")] * 3)
    text = text_of(await h.command(PID))
    assert "log ID: none" not in text
    assert "log ID below" not in text


async def test_cancel_is_accepted_as_a_word(h):
    await h.link()
    h.tiktok.add_upload(PID)
    text = text_of(await h.command(f"cancel {PID} wrong cut"))
    assert "TikTok is stopping" in text
    assert h.last_audit()["reason"] == "wrong cut"


async def test_a_start_code_answering_a_cancel_does_not_read_refused_to_start(h):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script("cancel", Reply(403, json={"error": {"code": "reached_active_user_cap"}}))
    text = text_of(await h.command(PID))
    assert "refused to start" not in text
    assert "TikTok answered with `reached_active_user_cap`" in text


async def test_a_refusal_after_a_try_that_may_have_acted_says_unknown(h):
    """TikTok's own error on the first try, then "too many requests": the first try may have
    cancelled it, so the answer is TikTok's error (unknown), never "we didn't stop it"."""
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script(
        "cancel",
        Reply(500, json={"error": {"code": "internal_error", "log_id": "L-first"}}),
        Reply(429, json={"error": {"code": "rate_limit_exceeded", "log_id": "L-second"}}),
        Reply(429, json={"error": {"code": "rate_limit_exceeded", "log_id": "L-third"}}),
    )
    text = text_of(await h.command(PID))
    assert "TikTok reported an error on its side" in text, text
    assert "Still running:* unknown" in text
    assert "too many requests" not in text
    assert len(h.tiktok.calls_to("cancel")) == 3
    assert h.last_audit()["outcome"] == "internal_error"
