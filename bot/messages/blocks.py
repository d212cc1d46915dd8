"""Block Kit pieces every message family shares: escaping, names, times, sections and
buttons. Plain dicts for the fixed shapes; slack_sdk models for the interactive parts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import ButtonElement, ConfirmObject

CMD = "/tiktok-cancel"
Message = dict[str, Any]

CONNECT_ACTION = "connect_tiktok"
CANCEL_ACTION = "cancel_upload"
RETRY_ACTION = "retry_cancel"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """Inline code, safe for any input (backticks cannot close it early)."""
    return "`" + escape(text).replace("`", "'") + "`"


def upload_name(publish_id: str, title: str = "") -> str:
    if title:
        return "\u201c" + escape(title) + "\u201d"
    return "upload " + code(publish_id)


def when(epoch: float) -> str:
    """A Slack date token, shown in the reader's own time zone."""
    fallback = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(epoch)}^{{date_short_pretty}} at {{time}}|{fallback}>"


# Sections and contexts are the bulk of every message and their shape is fixed, so they are
# written as dicts; slack_sdk's models (with their validation) build the interactive parts.
# (Building these two through the models cost ~0.1 ms a message on the cancel path.)
def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context(*parts: str) -> dict:
    text = "  \u00b7  ".join(p for p in parts if p)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def button(
    text: str,
    action_id: str,
    *,
    url: str | None = None,
    value: str | None = None,
    style: str | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    return ButtonElement(
        text=text, action_id=action_id, url=url, value=value, style=style, confirm=confirm
    )


def message(text: str, blocks: list[dict]) -> Message:
    return {"text": text, "blocks": blocks}


def connect_button(url: str) -> ButtonElement:
    return button("Connect TikTok", CONNECT_ACTION, url=url, style="primary")


def cancel_button(publish_id: str, title: str = "") -> ButtonElement:
    name = f"\u201c{title}\u201d" if title else publish_id
    confirm = ConfirmObject(
        title="Cancel this upload?",
        text=f"TikTok will stop fetching {escape(name[:200])} if it still can. "
        "This can't be undone.",
        confirm="Cancel upload",
        deny="Keep it",
    )
    return button("Cancel upload", CANCEL_ACTION, value=publish_id, style="danger", confirm=confirm)


def retry_button(publish_id: str, reason: str = "") -> ButtonElement:
    value = json.dumps({"publish_id": publish_id, "reason": reason})
    return button("Cancel it now", RETRY_ACTION, value=value, style="danger")


LINKING_NOT_CONFIGURED = (
    "Linking isn't set up on this bot yet: the person who installed tiktok-cancel needs to set "
    "`TIKTOK_REDIRECT_URI` (see `.env.example`)."
)


def who_can_grant(admins: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    named = ", ".join(f"<@{escape(a)}>" for a in sorted(admins))
    if named:
        return f"{named}, or any workspace admin or owner"
    return "any workspace admin or owner (their profiles carry an Admin or Owner badge)"


def grant_hint(admins) -> dict:
    return section(f"*Who can grant it:* {who_can_grant(admins)}.")


def mentions(users) -> str:
    return ", ".join(f"<@{escape(u)}>" for u in users)
