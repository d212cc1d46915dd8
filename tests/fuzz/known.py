"""Failures the fuzz suite found that are being fixed elsewhere (bot/messages.py, and routes
other people own). Each is matched narrowly, by its input and by what broke, so anything else
still fails the suite; each also has its own xfail test in test_known_failures.py with the
concrete input. Remove an entry (and its xfail mark) once its fix lands.
"""

from __future__ import annotations

import json
from typing import Any

CONFIRM_LIMIT = 300  # Slack's limit on a confirm dialog's text
BUTTON_VALUE_LIMIT = 2000  # Slack's limit on a button's value


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cancel_confirm_length(title: str) -> int:
    """How long the Cancel button's confirm text is today for `title` (bot/messages.py quotes
    the title, cuts it at 200 characters, then escapes it: `&` grows to 5 characters)."""
    name = "\u201c" + title + "\u201d"
    shown = _escaped(name[:200])
    return len(f"TikTok will stop fetching {shown} if it still can. This can't be undone.")


def known_notification_failure(body: Any, status: int, text: str) -> bool:
    """KNOWN-1: a title whose escaped form makes the Cancel button's confirm text longer than
    300 characters: building the announcement raises, and `POST /notifications` answers
    502 "Slack could not be reached" although Slack was never called."""
    if status != 502 or "Slack could not be reached" not in text or not isinstance(body, dict):
        return False
    title = body.get("title")
    return isinstance(title, str) and cancel_confirm_length(title.strip()) > CONFIRM_LIMIT


def known_oauth_failure(kind: str, reason: str, status: int) -> bool:
    """KNOWN-2: a cancel reason that JSON-escapes to more than 2 000 characters (about 170
    emoji) makes the "Cancel it now" button's value too long after linking: the OAuth callback
    answers 500 after the link was saved."""
    if status != 500 or kind != "state+code":
        return False
    return len(json.dumps({"publish_id": "v_pub_url~v2.900001", "reason": reason.strip()})) > (
        BUTTON_VALUE_LIMIT
    )
