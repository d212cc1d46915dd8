"""TikTok's rules the bot acts on, kept apart from how they are worded: which upload states
are final, which status values exist, when pressing Cancel can (still) help, and which
answers offer to link an account.

A cancel is best effort (tiktok-api.md §2): TikTok's `ok` means it will try, and only
`PULL_FROM_URL` downloads can be stopped at all, so an upload in `PROCESSING_UPLOAD` (a file
being sent in pieces) offers no Cancel button, nor does one TikTok is already stopping."""

from __future__ import annotations

from bot.tiktok.catalog import Running, explain, is_known

# How long after its announcement (or the cancel request) the bot keeps asking TikTok where an
# upload is; after that polling stops, and the messages say TikTok never told us.
GIVE_UP_AFTER_S = 2 * 3600.0

STATUS_VALUES = frozenset(
    {"PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX", "PUBLISH_COMPLETE", "FAILED"}
)
# What the status endpoint answers besides a status (tiktok-api.md §3).
STATUS_ERRORS = frozenset(
    {
        "invalid_publish_id",
        "token_not_authorized_for_specified_publish_id",
        "access_token_invalid",
        "scope_not_authorized",
        "rate_limit_exceeded",
        "internal_error",
    }
)
FINAL_STATUSES = frozenset({"PUBLISH_COMPLETE", "FAILED", "SEND_TO_USER_INBOX"})
NO_RETRY_CODES = frozenset({"ok", "publish_not_cancellable", "invalid_publish_id"})
# The answers that offer a "Connect TikTok" button, cancel and status alike: the person has no
# usable link of their own (never linked, the bot forgot a dead one, or it can't be read), so
# linking it is the next step. When linking isn't set up, the answer says that instead.
CONNECT_CODES = frozenset({"not_linked", "link_expired", "link_unreadable"})

# Our own codes for faults on the way (the catalog explains them like TikTok's codes).
TIMEOUT = "timeout"
SERVER_ERROR = "server_error"
BAD_RESPONSE = "bad_response"
CONNECTION_FAILED = "connection_failed"

RETRYABLE_CODES = frozenset(
    {"rate_limit_exceeded", "internal_error", SERVER_ERROR, CONNECTION_FAILED}
)

# Codes that leave it unknown whether TikTok acted on the request (no answer, a garbled one,
# TikTok's own failure).
UNKNOWN_OUTCOME_CODES = frozenset({TIMEOUT, BAD_RESPONSE, SERVER_ERROR, "internal_error"})
# Codes that say this try did nothing, or that there is nothing left to do: after an earlier
# try with an unknown outcome they would hide that it may have acted.
REFUSED_WITHOUT_ACTING = frozenset(
    {"rate_limit_exceeded", CONNECTION_FAILED, "publish_not_cancellable"}
)


def retry_makes_sense(code: str) -> bool:
    """After a failed cancel, is the button still worth pressing (by anyone)?"""
    return code not in NO_RETRY_CODES and explain(code).running is not Running.NO


# TikTok's cancel stops pull-from-URL downloads only; a file upload can't be stopped.
NOT_CANCELLABLE_STATUSES = frozenset({"PROCESSING_UPLOAD"})


def shows_cancel_button(status: str, last_code: str, *, final: bool, stopping: bool) -> bool:
    """Is pressing Cancel on an announced upload worth offering (announcement, list, Home)?
    `last_code` is how the last cancel attempt ended ("" if none); `stopping`: TikTok said it
    would try to cancel it and hasn't said how that ended."""
    if final or stopping or status in NOT_CANCELLABLE_STATUSES:
        return False
    return not last_code or retry_makes_sense(last_code)


FAILED_FOR_UNKNOWN_REASON = "failed_for_unknown_reason"


def failure_code(fail_reason: str) -> str:
    """The catalog code that explains a FAILED upload with this reason: the reason itself, or
    the entry that names a reason we don't know yet (never "TikTok gave no reason")."""
    return fail_reason if is_known(fail_reason) else FAILED_FOR_UNKNOWN_REASON


def ending_code(status: str, fail_reason: str = "", cancel_by: str = "") -> str:
    """The catalog code that explains where a final upload ended up.

    A failure is explained by its reason; a post or inbox draft after a cancel TikTok said it
    would try is the cancel that didn't make it, said as such.
    """
    if status == "FAILED" and fail_reason:
        return failure_code(fail_reason)
    if cancel_by and status == "PUBLISH_COMPLETE":
        return "posted_despite_cancel"
    if cancel_by and status == "SEND_TO_USER_INBOX":
        return "inbox_despite_cancel"
    return status


# A held upload's start that failed before TikTok took the video, for a reason that passes
# (the creator_info check, or a token renewal, got no clear answer; the init was refused as
# too many requests, or never reached TikTok). Nothing was posted, so Start now may be
# pressed again. An init that may have acted (timeout, 5xx, garbled reply) is not here: that
# is unknown, and never tried again.
START_AGAIN_CODES = frozenset(
    {
        "timeout",
        "bad_response",
        "server_error",
        "internal_error",
        "connection_failed",
        "rate_limit_exceeded",
        "refresh_unavailable",
    }
)
# What TikTok itself can answer a held upload's creator_info check or its Direct Post init with
# to refuse the start (tiktok-api.md §10–11): the catalog's words for these read right for a
# start. Any other code refusing a start is shown as a code we have no start words for.
START_REFUSAL_CODES = frozenset(
    {
        "invalid_param",
        "invalid_params",
        "invalid_file_upload",
        "app_version_check_failed",
        "spam_risk_too_many_posts",
        "spam_risk_user_banned_from_posting",
        "spam_risk_too_many_pending_share",
        "reached_active_user_cap",
        "unaudited_client_can_only_post_to_private_accounts",
        "url_ownership_unverified",
        "privacy_level_option_mismatch",
        "access_token_invalid",
        "scope_not_authorized",
        "scope_permission_missed",
    }
)
# A held upload's start stopped by the team account's link (expired, unreadable, removed) or
# the bot's own TikTok settings before TikTok was asked to post anything.
START_NOT_SENT_CODES = frozenset(
    {
        "link_expired",
        "team_link_expired",
        "link_unreadable",
        "not_linked",
        "no_such_account",
        "refresh_misconfigured",
    }
)
# A start the bot gave up waiting on because the process making the init died mid-call.
INTERRUPTED = "interrupted"
# A start that found the team account relinked to another TikTok account than the one the
# upload was announced with: a state and a code; TikTok is never asked.
ACCOUNT_CHANGED = "account_changed"
