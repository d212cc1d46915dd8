"""TikTok's rules the bot acts on, kept apart from how they are worded: which upload states
are final, which status values exist, and when pressing Cancel again can still help."""

from __future__ import annotations

from bot.catalog import Running, explain
from storage.announcements import Announcement

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


def retry_makes_sense(code: str) -> bool:
    """After a failed cancel, is the button still worth pressing (by anyone)?"""
    return code not in NO_RETRY_CODES and explain(code).running is not Running.NO


def shows_cancel_button(a: Announcement) -> bool:
    if a.final:
        return False
    return not a.last_code or retry_makes_sense(a.last_code)
