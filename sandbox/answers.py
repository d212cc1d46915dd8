"""What the sandbox's TikTok can be told to answer, and how the page offers it.

The answers to a cancel (an accepted `ok`, each error code the catalog knows for the cancel
endpoint, faults such as a 429 or a hang) and to a Direct Post init, the HTTP status TikTok
sends with each code, the statuses an upload can be moved to, and `scripted_reply`, the
stand-in's reply for one scripted answer.
"""

from __future__ import annotations

from bot.tiktok.catalog import CATALOG
from sandbox.fakes import Reply
from sandbox.fakes.tiktok import envelope_error

# HTTP statuses TikTok uses with each error code (tiktok-api.md); anything else: 400.
HTTP_STATUS = {
    "access_token_invalid": 401,
    "scope_not_authorized": 401,
    "rate_limit_exceeded": 429,
    "internal_error": 500,
    "url_ownership_unverified": 403,
    "spam_risk_too_many_pending_share": 403,
    "reached_active_user_cap": 403,
    "unaudited_client_can_only_post_to_private_accounts": 403,
    "privacy_level_option_mismatch": 403,
    "spam_risk_too_many_posts": 403,
}
# Answers that are faults rather than a TikTok error code, with what the panel calls them.
FAULTS = {
    "429": "HTTP 429, rate limited",
    "5xx": "HTTP 500, TikTok's server failed",
    "html": "HTTP 502 with an HTML page (a proxy in the way)",
    "hang": "no answer at all (the bot times out)",
}
NORMAL = "normal"
# A cancel TikTok accepted ends this many seconds later, with the webhook TikTok would send.
CANCEL_SETTLE_S = 5.0
# Accepted-cancel answers, and where each leaves the upload once TikTok has had its go.
ACCEPTED = {"ok": "FAILED", "ok_posted": "PUBLISH_COMPLETE"}
STATUSES = {
    "PUBLISH_COMPLETE": "post.publish.complete",
    "SEND_TO_USER_INBOX": "post.publish.inbox_delivered",
    "FAILED": "post.publish.failed",
}
# Where an upload can start at TikTok when the page announces it.
UPLOAD_STATES = ("PROCESSING_DOWNLOAD", "PROCESSING_UPLOAD", *STATUSES)
STATUS_ALIASES = {"complete": "PUBLISH_COMPLETE", "inbox": "SEND_TO_USER_INBOX", "failed": "FAILED"}


def cancel_codes() -> list[str]:
    """Every error code the catalog knows for TikTok's cancel endpoint."""
    return sorted(c for c, e in CATALOG.items() if e.kind == "cancel" and c != "ok")


def answer_choices() -> list[dict[str, str]]:
    """What the "next answer" panel offers: normal, ok, each error code, then the faults."""
    choices = [
        {"value": NORMAL, "label": "as TikTok would (by the upload's state)", "group": ""},
        {
            "value": "ok",
            "label": "ok: TikTok stops it (confirmed a few seconds later)",
            "group": "",
        },
        {"value": "ok_posted", "label": "ok, but it gets posted anyway", "group": ""},
    ]
    for code in cancel_codes():
        status = HTTP_STATUS.get(code, 400)
        choices.append({"value": code, "label": f"{code} (HTTP {status})", "group": "error codes"})
    for value, label in FAULTS.items():
        choices.append({"value": value, "label": label, "group": "faults"})
    return choices


def init_codes() -> list[str]:
    """The error codes the panel offers for TikTok's Direct Post init: every code the catalog
    knows for starting an upload, and the refusals TikTok documents for init besides."""
    codes = {c for c, e in CATALOG.items() if e.kind == "start"}
    return sorted(codes | {"spam_risk_too_many_posts", "url_ownership_unverified"})


def init_choices() -> list[dict[str, str]]:
    """What the "next start" panel offers: normal, each refusal, then the faults."""
    choices = [
        {"value": NORMAL, "label": "ok: TikTok takes it (a new publish_id)", "group": ""},
    ]
    for code in init_codes():
        status = HTTP_STATUS.get(code, 400)
        choices.append({"value": code, "label": f"{code} (HTTP {status})", "group": "refusals"})
    for value in ("5xx", "html", "hang"):
        choices.append({"value": value, "label": FAULTS[value], "group": "faults"})
    return choices


def scripted_reply(answer: str) -> Reply:
    """A fresh reply for one scripted answer (each carries a new TikTok log ID)."""
    if answer in ACCEPTED:
        return Reply(status=200, json=envelope_error("ok", ""))
    if answer == "429":
        return Reply(
            status=429, json=envelope_error("rate_limit_exceeded"), headers={"Retry-After": "1"}
        )
    if answer == "5xx":
        return Reply(status=500, json=envelope_error("internal_error"))
    if answer == "html":
        return Reply(
            status=502,
            body="<html><body><h1>502 Bad Gateway</h1></body></html>",
            content_type="text/html",
        )
    if answer == "hang":
        return Reply(hang=True)
    return Reply(status=HTTP_STATUS.get(answer, 400), json=envelope_error(answer))
