"""Checking a Slack HTTP request before Bolt sees it: UTF-8 body, numeric timestamp, signature.

Bolt checks the signature too, but logs the whole body of every request it refuses; here a
refused request is logged as one line (why, and how many bytes), never its body or headers.
"""

from __future__ import annotations

import logging

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)


class SlackRequestRefused(Exception):
    """Not a request from Slack (or not a readable one); `status` is the answer's HTTP status."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def checked_body(signing_secret: str, headers, raw: bytes) -> str:
    """The body as text, if Slack signed it; else `SlackRequestRefused` (logged once)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _refused(400, "body_not_utf8", raw) from None
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp and not signature:
        raise _refused(401, "unsigned", raw)
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise _refused(401, "timestamp_not_a_number", raw)
    if not signature.isascii():
        raise _refused(401, "bad_signature", raw)
    if not SignatureVerifier(signing_secret).is_valid(text, timestamp, signature):
        raise _refused(401, "bad_signature", raw)
    return text


def _refused(status: int, reason: str, raw: bytes) -> SlackRequestRefused:
    log.warning("slack.request_refused", extra={"reason": reason, "bytes": len(raw)})
    return SlackRequestRefused(status, reason)
