"""Linking a person's own TikTok account: connect, whoami, disconnect, the DM after linking."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock

from bot.messages.blocks import (
    CMD,
    LINKING_NOT_CONFIGURED,
    Message,
    code,
    connect_button,
    escape,
    message,
    retry_button,
    section,
    upload_name,
    when,
)


def connect_message(url: str) -> Message:
    if not url:
        return message(LINKING_NOT_CONFIGURED, [section(LINKING_NOT_CONFIGURED)])
    text = (
        "*Link your TikTok account* so you can cancel uploads from Slack.\n"
        "The button opens TikTok's own consent page; the link it makes is yours alone "
        "and works for 10 minutes."
    )
    blocks = [section(text), ActionsBlock(elements=[connect_button(url)]).to_dict()]
    return message("Link your TikTok account", blocks)


def whoami_message(
    display_name: str, open_id: str, scope: str, expires_at: float, refresh_expires_at: float
) -> Message:
    text = f"You act as *{escape(display_name)}* on TikTok."
    scopes = ", ".join(code(s) for s in scope.split(",") if s) or "none"
    details = (
        f"Account ID (open_id): {code(open_id)}\n"
        f"Permissions: {scopes}\n"
        f"Access renews automatically; current access ends {when(expires_at)}, "
        f"the link itself lasts until {when(refresh_expires_at)}."
    )
    next_step = f"*Next:* `{CMD} disconnect` unlinks it; `{CMD} connect` links another account."
    return message(text, [section(text), section(details), section(next_step)])


def link_unreadable_message(connect_url: str) -> Message:
    """`whoami` when the stored link can't be decrypted (the key changed): no upload involved."""
    text = (
        "Your TikTok link needs to be made again: the bot's security key was changed, so the "
        "link it stored for you can't be read any more."
    )
    blocks = [section(text), section(f"*Next:* link your account again with `{CMD} connect`.")]
    if connect_url:
        blocks.append(ActionsBlock(elements=[connect_button(connect_url)]).to_dict())
    return message(text, blocks)


def not_linked_message(connect_url: str) -> Message:
    text = "You haven't linked a TikTok account yet, so there is nothing to show."
    blocks = [section(text)]
    if connect_url:
        blocks.append(ActionsBlock(elements=[connect_button(connect_url)]).to_dict())
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


def linked_dm(display_name: str, retry_publish_id: str = "", retry_reason: str = "") -> Message:
    text = f"Your TikTok account *{escape(display_name)}* is linked. You can cancel uploads now."
    blocks = [section(text)]
    if retry_publish_id:
        ask = f"Still want to cancel {upload_name(retry_publish_id)}?"
        blocks.append(section(ask))
        blocks.append(
            ActionsBlock(elements=[retry_button(retry_publish_id, retry_reason)]).to_dict()
        )
    return message(f"Your TikTok account {escape(display_name)} is linked.", blocks)
