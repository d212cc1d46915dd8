"""A person's TikTok link: connect, whoami, disconnect, the DM after linking (naming the
account, with a retry button whose value is a short key), and the notices when TikTok removes
access or a link stops working."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.interactions import COMMAND as CMD
from bot.interactions import RETRY_KEY_ACTION
from bot.messages.blocks import (
    LINKING_NOT_CONFIGURED,
    Message,
    actions,
    button,
    cancel_confirm,
    code,
    confirm_name,
    connect_button,
    context,
    escape,
    message,
    section,
    upload_name,
    when,
    who_can_grant,
)


@dataclass(frozen=True)
class LinkView:
    """What the messages show of a person's TikTok link (never its tokens): plain facts,
    copied by the caller from the stored link (`LinkView.of(link)`)."""

    display_name: str
    open_id: str
    scope: str = ""  # comma-separated, as TikTok granted it
    linked_at: str = ""  # a stored UTC timestamp
    linked_via: str = ""  # "confirmed" once confirmed on our page
    access_expires_at: float = 0.0
    refresh_expires_at: float = 0.0

    @classmethod
    def of(cls, row) -> LinkView:
        """The facts of a stored link (any record with these names)."""
        return cls(
            display_name=row.display_name,
            open_id=row.open_id,
            scope=row.scope,
            linked_at=row.linked_at,
            linked_via=row.linked_via,
            access_expires_at=row.access_expires_at,
            refresh_expires_at=row.refresh_expires_at,
        )


@dataclass(frozen=True)
class ForgottenView:
    """What the messages show of a link the bot forgot because TikTok refused it."""

    display_name: str
    reason: str  # "refresh_refused" or "authorization_removed"
    detail: str = ""  # for authorization_removed: TikTok's reason number, as text
    forgotten_at: str = ""  # a stored UTC timestamp

    @classmethod
    def of(cls, row) -> ForgottenView:
        """The facts of a stored tombstone (any record with these names)."""
        return cls(row.display_name, row.reason, row.detail, row.forgotten_at)


def connect_message(url: str) -> Message:
    if not url:
        return message(LINKING_NOT_CONFIGURED, [section(LINKING_NOT_CONFIGURED)])
    text = (
        "*Link your TikTok account* so you can cancel uploads from Slack.\n"
        "The button works once, for 10 minutes, and opens TikTok's own consent page. The "
        "link it makes is yours alone and lasts until you disconnect it or TikTok stops "
        f"renewing it (`{CMD} whoami` shows when)."
    )
    blocks = [section(text), actions(connect_button(url))]
    return message("Link your TikTok account", blocks)


def link_unreadable_message(connect_url: str) -> Message:
    """`whoami` when the stored link can't be decrypted (the key changed): no upload involved."""
    text = (
        "Your TikTok link needs to be made again: the bot's security key was changed, so the "
        "link it stored for you can't be read any more."
    )
    blocks = [section(text), section(f"*Next:* link your account again with `{CMD} connect`.")]
    if connect_url:
        blocks.append(actions(connect_button(connect_url)))
    return message(text, blocks)


def not_linked_message(connect_url: str) -> Message:
    text = "You haven't linked a TikTok account yet, so there is nothing to show."
    blocks = [section(text)]
    if connect_url:
        blocks.append(actions(connect_button(connect_url)))
    else:
        blocks.append(section(LINKING_NOT_CONFIGURED))
    return message(text, blocks)


def disconnect_message(result_code: str, display_name: str) -> Message:
    name = f"*{escape(display_name)}*" if display_name else "your TikTok account"
    if result_code == "not_linked":
        text = "You had no TikTok account linked, so there was nothing to unlink."
    elif result_code == "revoke_failed":
        text = (
            f"Unlinked {name} here, but TikTok didn't confirm it forgot the access. "
            "To be sure, remove tiktok-cancel from the apps allowed to use the account, in the "
            "TikTok app's settings."
        )
    else:
        text = f"Unlinked {name}. TikTok has forgotten this bot's access to it."
    text += f"\n*Next:* `{CMD} connect` links an account again."
    return message(text.split("\n")[0], [section(text)])


# TikTok's `authorization.removed` reasons (tiktok-api.md §7).
REMOVED_REASONS = {
    0: "TikTok didn't say why",
    1: "the account's owner disconnected tiktok-cancel in the TikTok app",
    2: "the TikTok account was deleted",
    3: "the account's age setting changed",
    4: "the TikTok account was banned",
    5: "the TikTok app behind this bot had its access revoked by its developer",
}


def _linked_when(linked_at: str) -> str:
    """A stored ISO time as a Slack date token; "" when there is none or it can't be read."""
    if not linked_at:
        return ""
    try:
        moment = datetime.fromisoformat(linked_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return when(moment.timestamp())


# --- after linking --------------------------------------------------------------------------


def retry_button(key: str, publish_id: str, title: str = "") -> dict:
    """The "Cancel it now" button: its value is a short key to the stored retry, not the reason."""
    return button(
        "Cancel it now",
        RETRY_KEY_ACTION,
        value=key,
        style="danger",
        confirm=cancel_confirm(confirm_name(publish_id, title)),
    )


def linked_dm(
    display_name: str, open_id: str, retry_key: str = "", publish_id: str = ""
) -> Message:
    """The DM after a person linked their own account, naming the TikTok account."""
    name = escape(display_name)
    text = (
        f"The TikTok account *{name}* (open_id {code(open_id)}) is linked to your Slack "
        "account. You can cancel uploads with it now."
    )
    blocks = [section(text)]
    if retry_key and publish_id:
        blocks.append(section(f"Still want to cancel {upload_name(publish_id)}?"))
        blocks.append(actions(retry_button(retry_key, publish_id)))
    blocks.append(
        context(
            f"Not your TikTok account? `{CMD} disconnect` unlinks it at once; "
            f"`{CMD} whoami` shows what is linked."
        )
    )
    return message(f"The TikTok account {name} is linked to your Slack account.", blocks)


def team_linked_dm(account: str, display_name: str, open_id: str) -> Message:
    """The DM to the admin who linked a team account, naming the TikTok account."""
    text = (
        f"The team account {code(account)} is linked to the TikTok account "
        f"*{escape(display_name)}* (open_id {code(open_id)}). "
        f"Give people access with `{CMD} team grant {escape(account)} @someone`."
    )
    blocks = [
        section(text),
        context(f"Wrong account? `{CMD} team remove {escape(account)}` unlinks it."),
    ]
    return message(f"The team account {escape(account)} is linked", blocks)


def retry_gone_message() -> Message:
    """The retry button's key is unknown, used, or belongs to someone else."""
    text = (
        "That button no longer does anything: it was used already, or it was made for "
        f"someone else. Cancel with `{CMD} <publish_id>`."
    )
    text = text.replace("<publish_id>", "&lt;publish_id&gt;")
    return message(text, [section(text)])


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
        section(f"{headline}\n*Why:* {removed_reason(reason)}."),
        section(
            f"*Next:* link your account again with `{CMD} connect` if you still want to cancel "
            "uploads from Slack. Until then nothing can be cancelled with it."
        ),
    ]
    return message(
        f"Your TikTok link to {name} stopped working: TikTok says access was removed.", blocks
    )


def team_authorization_removed_dm(
    account: str, display_name: str, reason: object, admins
) -> Message:
    """To the admins: TikTok removed a team account's access."""
    name = escape(display_name)
    label = code(account)
    headline = (
        f"The team account {label} (TikTok account *{name}*) stopped working: "
        "TikTok says access was removed."
    )
    blocks = [
        section(f"{headline}\n*Why:* {removed_reason(reason)}."),
        section(
            f"*Next:* link it again with `{CMD} team connect {escape(account)}` (its grants are "
            "kept). Until then nobody can cancel with it. "
            f"Who can do that: {who_can_grant(admins)}."
        ),
    ]
    return message(
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
            f"• {code(row['account'])} — *{escape(row.get('display_name') or '')}*, {detail}"
        )
    return "\n".join(lines)


def whoami_message(link: LinkView, team_rows: list[dict] | None = None) -> Message:
    """Which TikTok account you act as, and when and how it was linked."""
    text = f"You act as *{escape(link.display_name)}* on TikTok."
    scopes = ", ".join(code(s) for s in link.scope.split(",") if s) or "none"
    linked = _linked_when(link.linked_at)
    if link.linked_via == "confirmed":
        how = "by you: you allowed it on TikTok's page and confirmed it on ours"
    else:
        how = "by you on TikTok's page (before the bot asked to confirm links)"
    history = f"Linked {linked} {how}." if linked else f"Linked {how}."
    details = (
        f"Account ID (open_id): {code(link.open_id)}\n"
        f"Permissions: {scopes}\n"
        f"{history}\n"
        f"Access renews automatically; current access ends {when(link.access_expires_at)}, "
        f"the link itself lasts until {when(link.refresh_expires_at)}."
    )
    next_step = (
        f"*Next:* `{CMD} disconnect` unlinks it; `{CMD} connect` links another account. "
        "Not yours? Disconnect it now."
    )
    blocks = [section(text), section(details)]
    if team_rows:
        blocks.append(section("*Team accounts you may use*\n" + team_lines(team_rows)))
    blocks.append(section(next_step))
    return message(text, blocks)


def link_forgotten_message(forgotten: ForgottenView, connect_url: str) -> Message:
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
        section(f"{text}\n{detail}"),
        section(f"*Next:* link your account again with `{CMD} connect`."),
    ]
    if connect_url:
        blocks.append(actions(connect_button(connect_url)))
    return message(
        f"Your TikTok link to {name} stopped working, so it needs to be made again.", blocks
    )
