"""Block Kit pieces every message family shares: escaping, names, times, sections and
buttons. Plain dicts throughout: the tests check every message against slack_sdk's Block Kit
models (tests/fuzz/blockkit.py), so the bot itself needs no model to build one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.interactions import CANCEL_ACTION, CONNECT_ACTION

Message = dict[str, Any]


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


def when(epoch: float, relative: bool = False) -> str:
    """A Slack date token, shown in the reader's own time zone; `relative` adds how far it is
    from now, as Slack keeps it current: "Today at 3:52 PM (in 5 minutes)"."""
    fallback = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
    ago = " ({ago})" if relative else ""
    return f"<!date^{int(epoch)}^{{date_short_pretty}} at {{time}}{ago}|{fallback}>"


# Every block is written as the dict Slack reads, keys in the order slack_sdk's models would
# write them (tests/test_message_dicts.py holds that), so a payload reads the same as before.
# (Building them through the models cost ~0.1 ms a message on the cancel path.)
# `verbatim` stops Slack from turning bare URLs and #names in echoed text into links; the
# mentions and date tokens we write ourselves are explicit, so they still work.
def section(text: str, accessory: dict | None = None) -> dict:
    """A section of mrkdwn `text`, with a button beside it when `accessory` is given."""
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000], "verbatim": True}}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(*parts: str) -> dict:
    text = "  \u00b7  ".join(p for p in parts if p)
    element = {"type": "mrkdwn", "text": text[:3000], "verbatim": True}
    return {"type": "context", "elements": [element]}


def clip(text: str, limit: int) -> str:
    """`text` escaped for mrkdwn in at most `limit` characters, cut with an ellipsis (never
    inside an escape such as `&amp;`)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    out, size = [], 0
    for char in text:
        piece = escape(char)
        if size + len(piece) > limit - 1:
            break
        out.append(piece)
        size += len(piece)
    return "".join(out) + "\u2026"


def plain_text(text: str) -> dict:
    return {"emoji": True, "text": text, "type": "plain_text"}


def button(
    text: str,
    action_id: str,
    *,
    url: str | None = None,
    value: str | None = None,
    style: str | None = None,
    confirm: dict | None = None,
) -> dict:
    """A button element; an empty `url`, `value` or `style` is left out, as Slack wants."""
    element: dict[str, Any] = {"action_id": action_id}
    if confirm:
        element["confirm"] = confirm
    if style:
        element["style"] = style
    element["text"] = plain_text(text)
    element["type"] = "button"
    if url:
        element["url"] = url
    if value:
        element["value"] = value
    return element


def confirm_dialog(title: str, text: str, yes: str, no: str, style: str | None = None) -> dict:
    """A button's confirm dialog: `text` is mrkdwn (verbatim), the rest plain text."""
    dialog = {
        "title": plain_text(title),
        "text": {"text": text, "type": "mrkdwn", "verbatim": True},
        "confirm": plain_text(yes),
        "deny": plain_text(no),
    }
    if style:
        dialog["style"] = style
    return dialog


def actions(*elements: dict) -> dict:
    """A row of buttons."""
    return {"elements": list(elements), "type": "actions"}


def message(text: str, blocks: list[dict]) -> Message:
    return {"text": text, "blocks": blocks}


def connect_button(url: str) -> dict:
    return button("Connect TikTok", CONNECT_ACTION, url=url, style="primary")


def confirm_name(publish_id: str, title: str = "") -> str:
    """How a confirm dialog names an upload: its title in quotes or its id, ≤ 125 characters."""
    if title:
        return "\u201c" + clip(title, 120) + "\u201d"
    return "`" + clip(publish_id, 120).replace("`", "'") + "`"


def cancel_confirm(name: str = "the video") -> dict:
    """The confirm dialog of every button that asks TikTok to cancel; `name` is mrkdwn, at
    most ~125 characters, so the text stays under Slack's 300."""
    text = (
        f"TikTok will try to stop fetching {name}; one nearly done may still be posted. "
        "This can't be undone."
    )
    return confirm_dialog("Cancel this upload?", text, "Cancel upload", "Keep it")


def cancel_button(publish_id: str, title: str = "") -> dict:
    return button(
        "Cancel upload",
        CANCEL_ACTION,
        value=publish_id,
        style="danger",
        confirm=cancel_confirm(confirm_name(publish_id, title)),
    )


def admins_phrase(admins=()) -> str:
    """Who administers the bot here, as a noun phrase: named admins as Slack mentions."""
    named = ", ".join(f"<@{escape(a)}>" for a in sorted(admins))
    return f"an admin ({named})" if named else "a workspace admin or owner"


def linking_not_configured(admins=()) -> str:
    return (
        "Linking isn't set up on this bot yet: it needs `TIKTOK_REDIRECT_URI` (see "
        f"`.env.example`). Ask {admins_phrase(admins)} to set it."
    )


LINKING_NOT_CONFIGURED = linking_not_configured()


def who_can_grant(admins: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    named = ", ".join(f"<@{escape(a)}>" for a in sorted(admins))
    if named:
        return f"{named}, or any workspace admin or owner"
    return "any workspace admin or owner (their profiles carry an Admin or Owner badge)"


def grant_hint(admins) -> dict:
    return section(f"*Who can grant it:* {who_can_grant(admins)}.")


def mentions(users) -> str:
    return ", ".join(f"<@{escape(u)}>" for u in users)


def approver_mention(approver: str) -> str:
    """A Slack user id as a mention, a user group id ("S…") as a group mention."""
    if approver.startswith("S"):
        return f"<!subteam^{escape(approver)}>"
    return f"<@{escape(approver)}>"


def approver_mentions(approvers, budget: int = 2000) -> str:
    """The approvers as mentions, in at most about `budget` characters: those that don't fit
    are counted ("and 12 more"), never cut in the middle of a mention."""
    approvers = tuple(approvers)
    shown: list[str] = []
    size = 0
    for approver in approvers:
        piece = approver_mention(approver)
        if shown and size + len(piece) + 2 > budget:
            break
        shown.append(piece)
        size += len(piece) + 2
    more = len(approvers) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")
