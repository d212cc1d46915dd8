"""The next step fits the question, and the same situation reads the same.

Every catalog entry is walked through every request kind (cancel, status check, held start,
linking) and its next step must name only commands that fit that request: no cancel handed to
someone whose status check failed, no command at all for a held upload that has no publish_id,
no upload for a link. Every code's "Still running" value is pinned, per request kind, in a
table written out here. Then the same through the real bot over HTTP: a status check that
failed, for every fault and refusal, says to check again with `status`.
"""

from __future__ import annotations

import pytest

from bot.messages.outcomes import Words
from bot.tiktok.catalog import CATALOG, FALLBACK, REQUESTS, explain
from sandbox.fakes.server import Reply
from sandbox.fakes.tiktok import oauth_error
from tests.conftest import text_of
from tests.test_token_refresh import age_access_token

PID = "v_pub_url~v2.777000111"
CANCEL_CMD = f"`/tiktok-cancel {PID}`"  # a bare cancel, as a next step writes it
STATUS_CMD = f"`/tiktok-cancel status {PID}`"

# --- "Still running", per request kind -------------------------------------------------------
# TikTok refused the request without acting on it: after a cancel, the upload runs on as
# before ("yes"); nothing reached TikTok at all: the same. After a status check that failed we
# learnt nothing about the upload: "unknown". TikTok's own word on it: the same after either.
STILL_RUNNING = {
    # code: (after a cancel, after a status check)
    "ok": ("stopping", "unknown"),
    "publish_not_cancellable": ("no", "unknown"),
    "invalid_publish_id": ("unknown", "unknown"),
    "token_not_authorized_for_specified_publish_id": ("yes", "unknown"),
    "url_ownership_unverified": ("yes", "unknown"),
    "access_token_invalid": ("yes", "unknown"),
    "scope_not_authorized": ("yes", "unknown"),
    "scope_permission_missed": ("yes", "unknown"),
    "rate_limit_exceeded": ("yes", "unknown"),
    "internal_error": ("unknown", "unknown"),
    "invalid_params": ("yes", "unknown"),
    "invalid_file_upload": ("unknown", "unknown"),
    "invalid_param": ("unknown", "unknown"),
    "app_version_check_failed": ("unknown", "unknown"),
    "spam_risk_too_many_pending_share": ("unknown", "unknown"),
    "reached_active_user_cap": ("unknown", "unknown"),
    "unaudited_client_can_only_post_to_private_accounts": ("unknown", "unknown"),
    "privacy_level_option_mismatch": ("unknown", "unknown"),
    "timeout": ("unknown", "unknown"),
    "server_error": ("unknown", "unknown"),
    "bad_response": ("unknown", "unknown"),
    "connection_failed": ("unknown", "unknown"),
    "refresh_unavailable": ("yes", "unknown"),
    "refresh_misconfigured": ("yes", "unknown"),
    "PROCESSING_UPLOAD": ("yes", "yes"),
    "PROCESSING_DOWNLOAD": ("yes", "yes"),
    "SEND_TO_USER_INBOX": ("no", "no"),
    "PUBLISH_COMPLETE": ("no", "no"),
    "FAILED": ("no", "no"),
    "failed_for_unknown_reason": ("no", "no"),
    "posted_despite_cancel": ("no", "no"),
    "inbox_despite_cancel": ("no", "no"),
    "cancel_pending": ("stopping", "stopping"),
    "file_format_check_failed": ("no", "no"),
    "duration_check_failed": ("no", "no"),
    "frame_rate_check_failed": ("no", "no"),
    "picture_size_check_failed": ("no", "no"),
    "internal": ("no", "no"),
    "video_pull_failed": ("no", "no"),
    "photo_pull_failed": ("no", "no"),
    "publish_cancelled": ("no", "no"),
    "auth_removed": ("no", "no"),
    "spam_risk_too_many_posts": ("no", "no"),
    "spam_risk_user_banned_from_posting": ("no", "no"),
    "spam_risk_text": ("no", "no"),
    "spam_risk": ("no", "no"),
    "not_linked": ("yes", "unknown"),
    "link_expired": ("yes", "unknown"),
    "link_unreadable": ("yes", "unknown"),
    "in_flight": ("unknown", "unknown"),
    "already_final": ("no", "unknown"),
    "already_stopping": ("stopping", "unknown"),
    "team_link_expired": ("yes", "unknown"),
    "not_granted": ("yes", "unknown"),
    "no_such_account": ("yes", "unknown"),
    "bot_error": ("unknown", "unknown"),
    "brand_new_code_2027": ("unknown", "unknown"),  # any code we don't know yet
}
NO_UPLOAD = {c for c, e in CATALOG.items() if e.kind == "oauth"}  # linking: no such line


def test_every_code_has_its_still_running_value_pinned():
    assert set(STILL_RUNNING) | NO_UPLOAD == set(CATALOG) | {"brand_new_code_2027"}


@pytest.mark.parametrize("code", sorted(STILL_RUNNING))
def test_still_running_per_request_kind(code):
    entry = explain(code)
    after_cancel, after_check = STILL_RUNNING[code]
    assert entry.still_running("cancel")[0].value == after_cancel
    assert entry.still_running("check")[0].value == after_check


def test_a_final_answer_never_says_just_now():
    """TikTok has no such upload: asking again a moment later won't change that."""
    entry = explain("invalid_publish_id")
    for verb in ("cancel", "check"):
        words = Words(publish_id=PID, verb=verb)
        text = " ".join(words.fill(t) for t in (entry.still_running(verb)[1], entry.next_for(verb)))
        assert "just now" not in text
        assert "asking again won't help" in text
        assert "Try again" not in text and "try once more" not in text


# --- the next step's command fits the request -------------------------------------------------

ENTRIES = [*CATALOG.values(), FALLBACK]


def _next(entry, request: str) -> str:
    words = Words(publish_id=PID, title="Spring teaser", verb=request, account="brand")
    return words.fill(entry.next_for(request))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.code)
@pytest.mark.parametrize("request_kind", REQUESTS)
def test_every_next_step_fits_the_request(entry, request_kind):
    step = _next(entry, request_kind)
    assert step
    if request_kind == "check" and entry.kind not in ("status", "fail_reason"):
        # the check failed: try the check again, never a cancel
        assert CANCEL_CMD not in step, step
    if request_kind == "start":
        # a held upload that didn't start has no publish_id: no command names one
        assert PID not in step, step
        assert "/tiktok-cancel status" not in step, step
        assert "Connect button" not in step, step
    if request_kind == "link":
        assert PID not in step, step
        assert "Spring teaser" not in step, step


def test_the_requests_are_the_four_a_person_makes():
    assert REQUESTS == ("cancel", "check", "start", "link")


def test_a_failed_check_is_told_to_check_again_for_every_retryable_code():
    for code in ("timeout", "server_error", "bad_response", "rate_limit_exceeded"):
        step = _next(explain(code), "check")
        assert STATUS_CMD in step and "check again" in step.lower(), code
        assert CANCEL_CMD not in step, code


# --- through the real bot: a status check that failed -----------------------------------------


def _status_faults():
    html = Reply(502, body="<html>Bad gateway</html>", content_type="text/html")
    return {
        "5xx": [html] * 3,
        "429": [Reply(429, json={"error": {"code": "rate_limit_exceeded", "log_id": "L1"}})] * 3,
        "internal_error": [Reply(500, json={"error": {"code": "internal_error"}})] * 3,
        "no answer": [Reply(drop=True)],
        "token refused": [Reply(401, json={"error": {"code": "access_token_invalid"}})] * 2,
    }


@pytest.mark.parametrize("fault", ["5xx", "429", "internal_error", "no answer", "token refused"])
async def test_a_failed_status_check_says_check_again_never_cancel(h, fault):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script("status", *_status_faults()[fault])
    text = text_of(await h.command(f"status {PID}"))
    assert "Still running:* unknown" in text, text
    assert STATUS_CMD in text, text
    assert CANCEL_CMD not in text, text
    assert h.tiktok.uploads[PID].status == "PROCESSING_DOWNLOAD"  # nothing was cancelled


@pytest.mark.parametrize("refresh", ["expired", "unavailable", "misconfigured"])
async def test_a_status_check_whose_renewal_failed_says_check_again_never_cancel(h, refresh):
    await h.link("U1", "open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    age_access_token(h, "expired")
    if refresh == "expired":
        h.tiktok.script("token", Reply(400, json=oauth_error("invalid_grant", "dead")))
    elif refresh == "unavailable":
        h.tiktok.script("token", Reply(503, body="down", content_type="text/plain"))
    else:
        h.tiktok.script("token", Reply(401, json=oauth_error("invalid_client", "who?")))
    text = text_of(await h.command(f"status {PID}"))
    assert "Still running:* unknown" in text, text
    assert CANCEL_CMD not in text, text
    if refresh != "expired":  # an expired link is linked again first (the Connect button)
        assert STATUS_CMD in text, text
    assert h.tiktok.calls_to("status") == []


async def test_a_cancel_that_failed_still_offers_cancelling_again(h):
    """The other side of the same entry: after a cancel, asking to cancel again is the step."""
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script("cancel", Reply(drop=True))
    text = text_of(await h.command(PID))
    assert CANCEL_CMD in text and STATUS_CMD in text, text
