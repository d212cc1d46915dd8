"""Slack messages about a person's TikTok link: after linking, when TikTok removes access, when
a link can't be renewed, and `whoami`.

Plain dicts in Block Kit shape; everything echoed is escaped for mrkdwn. Admins are named as
Slack mentions (`ADMIN_USERS`) plus "any workspace admin or owner".
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ButtonElement, ConfirmObject

from bot import messages
from bot.messages import CMD, Message, escape, upload_name, when
from bot.outcome import Outcome

RETRY_KEY_ACTION = "retry_cancel_key"  # the "Cancel it now" button after linking (value: a key)
ADMIN_CODES = frozenset({"refresh_misconfigured"})  # our settings: name who can fix them

# TikTok's `authorization.removed` reasons (tiktok-api.md §7).
REMOVED_REASONS = {
    0: "TikTok didn't say why",
    1: "the account's owner disconnected tiktok-cancel in the TikTok app",
    2: "the TikTok account was deleted",
    3: "the account's age setting changed",
    4: "the TikTok account was banned",
    5: "the TikTok app behind this bot had its access revoked by its developer",
}


# `verbatim`: Slack must not turn echoed text (a TikTok name like https://evil.example) into a
# link; our own <@U…> mentions and <!date…> tokens still render.
def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text[:3000], "verbatim": True}


def _section(text: str) -> dict:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(*parts: str) -> dict:
    return {"type": "context", "elements": [_mrkdwn("  \u00b7  ".join(p for p in parts if p))]}


def _actions(*elements: ButtonElement) -> dict:
    return {"type": "actions", "elements": [e.to_dict() for e in elements]}


def _message(text: str, blocks: list[dict]) -> Message:
    return {"text": text, "blocks": blocks}


def _code(text: str) -> str:
    """Inline code, safe for any input (a backtick can't close it early)."""
    return "`" + escape(text).replace("`", "'") + "`"


def _fit(text: str, limit: int) -> str:
    """`text` escaped for mrkdwn and no longer than `limit` (cut, with an ellipsis, if needed)."""
    shown = escape(text)
    while len(shown) > limit and text:
        text = text[: max(0, min(len(text) - 1, limit - 1))]
        shown = escape(text) + "\u2026"
    return shown


def who_can_fix(admins) -> str:
    """The admins as Slack mentions, and the workspace's own admins."""
    named = ", ".join(f"<@{escape(a)}>" for a in sorted(admins))
    if named:
        return f"{named}, or any workspace admin or owner"
    return "any workspace admin or owner (their profiles carry an Admin or Owner badge)"


def _linked_when(linked_at: str) -> str:
    """A stored ISO time as a Slack date token; "" when there is none or it can't be read."""
    if not linked_at:
        return ""
    try:
        moment = datetime.fromisoformat(linked_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return when(moment.timestamp())


# --- outcomes (cancel, status) --------------------------------------------------------------


def outcome_message(outcome: Outcome, admins=()) -> Message:
    """`messages.outcome_message`, naming the admins where our own settings are at fault."""
    message = messages.outcome_message(outcome)
    if outcome.code not in ADMIN_CODES:
        return message
    blocks = list(message["blocks"])
    hint = _section(f"*Who can fix it:* {who_can_fix(admins)}.")
    blocks.insert(max(0, len(blocks) - 1), hint)  # before the context line
    return {**message, "blocks": blocks}


# --- after linking --------------------------------------------------------------------------


def retry_button(key: str, publish_id: str, title: str = "") -> ButtonElement:
    """The "Cancel it now" button: its value is a short key to the stored retry, not the reason."""
    name = f"\u201c{title}\u201d" if title else publish_id
    confirm = ConfirmObject(
        title="Cancel this upload?",
        text=f"TikTok will stop fetching {_fit(name, 200)} if it still can. This can't be undone.",
        confirm="Cancel upload",
        deny="Keep it",
    )
    return ButtonElement(
        text="Cancel it now", action_id=RETRY_KEY_ACTION, value=key, style="danger", confirm=confirm
    )


def linked_dm(
    display_name: str, open_id: str, retry_key: str = "", publish_id: str = ""
) -> Message:
    """The DM after a person linked their own account, naming the TikTok account."""
    name = escape(display_name)
    text = (
        f"The TikTok account *{name}* (open_id {_code(open_id)}) is linked to your Slack "
        "account. You can cancel uploads with it now."
    )
    blocks = [_section(text)]
    if retry_key and publish_id:
        blocks.append(_section(f"Still want to cancel {upload_name(publish_id)}?"))
        blocks.append(_actions(retry_button(retry_key, publish_id)))
    blocks.append(
        _context(
            f"Not your TikTok account? `{CMD} disconnect` unlinks it at once; "
            f"`{CMD} whoami` shows what is linked."
        )
    )
    return _message(f"The TikTok account {name} is linked to your Slack account.", blocks)


def team_linked_dm(account: str, display_name: str, open_id: str) -> Message:
    """The DM to the admin who linked a team account, naming the TikTok account."""
    text = (
        f"The team account {_code(account)} is linked to the TikTok account "
        f"*{escape(display_name)}* (open_id {_code(open_id)}). "
        f"Give people access with `{CMD} team grant {escape(account)} @someone`."
    )
    blocks = [
        _section(text),
        _context(f"Wrong account? `{CMD} team remove {escape(account)}` unlinks it."),
    ]
    return _message(f"The team account {escape(account)} is linked", blocks)


def retry_gone_message() -> Message:
    """The retry button's key is unknown, used, or belongs to someone else."""
    text = (
        "That button no longer does anything: it was used already, or it was made for "
        f"someone else. Cancel with `{CMD} <publish_id>`."
    )
    text = text.replace("<publish_id>", "&lt;publish_id&gt;")
    return _message(text, [_section(text)])


# --- TikTok removed the access (webhook) ------------------------------------------------------


def reason_number(reason: object) -> int | None:
    """TikTok's reason as a number (an int, or digits in a string), else None."""
    if isinstance(reason, int) and not isinstance(reason, bool):
        return reason
    if isinstance(reason, str) and reason.isdigit() and len(reason) < 4:
        return int(reason)
    return None


def removed_reason(reason: object) -> str:
    return REMOVED_REASONS.get(reason_number(reason), REMOVED_REASONS[0])


def authorization_removed_dm(display_name: str, reason: object) -> Message:
    """To the person whose own link TikTok removed."""
    name = escape(display_name)
    headline = f"Your TikTok link to *{name}* stopped working: TikTok says access was removed."
    blocks = [
        _section(f"{headline}\n*Why:* {removed_reason(reason)}."),
        _section(
            f"*Next:* link your account again with `{CMD} connect` if you still want to cancel "
            "uploads from Slack. Until then nothing can be cancelled with it."
        ),
    ]
    return _message(
        f"Your TikTok link to {name} stopped working: TikTok says access was removed.", blocks
    )


def team_authorization_removed_dm(
    account: str, display_name: str, reason: object, admins
) -> Message:
    """To the admins: TikTok removed a team account's access."""
    name = escape(display_name)
    label = _code(account)
    headline = (
        f"The team account {label} (TikTok account *{name}*) stopped working: "
        "TikTok says access was removed."
    )
    blocks = [
        _section(f"{headline}\n*Why:* {removed_reason(reason)}."),
        _section(
            f"*Next:* link it again with `{CMD} team connect {escape(account)}` (its grants are "
            "kept). Until then nobody can cancel with it. "
            f"Who can do that: {who_can_fix(admins)}."
        ),
    ]
    return _message(
        f"The team account {escape(account)} stopped working: TikTok says access was removed.",
        blocks,
    )


# --- whoami -----------------------------------------------------------------------------------


def team_lines(rows: list[dict]) -> str:
    """The team accounts a person may use, each with who linked it and when."""
    lines = []
    for row in rows[:20]:
        linked = _linked_when(row.get("linked_at") or "")
        by = f"<@{escape(row['linked_by'])}>" if row.get("linked_by") else "an admin"
        detail = f"linked {linked} by {by}" if linked else f"linked by {by}"
        if row.get("linked_via") == "confirmed":
            detail += ", confirmed on our page"
        lines.append(
            f"• {_code(row['account'])} — *{escape(row.get('display_name') or '')}*, {detail}"
        )
    return "\n".join(lines)


def whoami_message(link, team_rows: list[dict] | None = None) -> Message:
    """Which TikTok account you act as, and when and how it was linked."""
    text = f"You act as *{escape(link.display_name)}* on TikTok."
    scopes = ", ".join(_code(s) for s in link.scope.split(",") if s) or "none"
    linked = _linked_when(link.linked_at)
    if link.linked_via == "confirmed":
        how = "by you: you allowed it on TikTok's page and confirmed it on ours"
    else:
        how = "by you on TikTok's page (before the bot asked to confirm links)"
    history = f"Linked {linked} {how}." if linked else f"Linked {how}."
    details = (
        f"Account ID (open_id): {_code(link.open_id)}\n"
        f"Permissions: {scopes}\n"
        f"{history}\n"
        f"Access renews automatically; current access ends {when(link.access_expires_at)}, "
        f"the link itself lasts until {when(link.refresh_expires_at)}."
    )
    next_step = (
        f"*Next:* `{CMD} disconnect` unlinks it; `{CMD} connect` links another account. "
        "Not yours? Disconnect it now."
    )
    blocks = [_section(text), _section(details)]
    if team_rows:
        blocks.append(_section("*Team accounts you may use*\n" + team_lines(team_rows)))
    blocks.append(_section(next_step))
    return _message(text, blocks)


def link_forgotten_message(forgotten, connect_url: str) -> Message:
    """`whoami` after the bot forgot a link TikTok refused: it stopped working, not "never"."""
    name = escape(forgotten.display_name) if forgotten.display_name else "your TikTok account"
    if forgotten.reason == "authorization_removed":
        why = f"TikTok says access was removed ({removed_reason(forgotten.detail)})"
    else:
        why = "TikTok refused to renew it (it ran out, or access was removed in the TikTok app)"
    moment = _linked_when(forgotten.forgotten_at)
    text = f"Your TikTok link to *{name}* stopped working, so it needs to be made again."
    detail = f"{why}, so we forgot it{' ' + moment if moment else ''}."
    blocks = [
        _section(f"{text}\n{detail}"),
        _section(f"*Next:* link your account again with `{CMD} connect`."),
    ]
    if connect_url:
        blocks.append(_actions(messages.connect_button(connect_url)))
    return _message(
        f"Your TikTok link to {name} stopped working, so it needs to be made again.", blocks
    )
