"""Team accounts: connect, grant, revoke, remove, and who may use which."""

from __future__ import annotations

from bot.interactions import COMMAND as CMD
from bot.messages.blocks import (
    LINKING_NOT_CONFIGURED,
    Message,
    actions,
    code,
    connect_button,
    context,
    escape,
    mentions,
    message,
    section,
    when,
    who_can_grant,
)


def not_admin_message(admins) -> Message:
    text = f"Only admins manage team accounts, so nothing changed. Admins: {who_can_grant(admins)}."
    return message("Only admins manage team accounts", [section(text)])


def team_connect_message(account: str, url: str) -> Message:
    text = (
        f"*Link a TikTok account as the team account {code(account)}.*\n"
        "The button opens TikTok's consent page: sign in there as the shared account "
        "(not your own). The button works once, for 10 minutes; the link it makes lasts until "
        "an admin removes it or TikTok stops renewing it. Linking again replaces the "
        "account's access."
    )
    blocks = [section(text), actions(connect_button(url))]
    return message(f"Link the team account {escape(account)}", blocks)


def team_change_message(
    action: str, code_: str, account: str, users=(), unchanged=(), admins=()
) -> Message:
    name = code(account)
    if code_ == "not_admin":
        return not_admin_message(admins)
    if code_ == "no_such_account":
        text = (
            f"There is no team account {name}, so nothing changed. "
            f"Link one first with `{CMD} team connect {escape(account)}`."
        )
    elif code_ == "linking_not_configured":
        text = LINKING_NOT_CONFIGURED
    elif action == "grant":
        text = f"{mentions(users)} may now act with {name}." if users else ""
        if unchanged:
            text += f" {mentions(unchanged)} already could."
    elif action == "revoke":
        text = f"{mentions(users)} may no longer act with {name}." if users else ""
        if unchanged:
            text += f" {mentions(unchanged)} couldn't anyway."
    elif action == "remove" and code_ == "revoke_failed":
        text = (
            f"Removed {name} and its grants here, but TikTok didn't confirm it forgot the "
            "access. To be sure, remove tiktok-cancel from the apps allowed to use that account, "
            "in the TikTok app's settings."
        )
    else:
        text = f"Removed the team account {name} and everyone's grants to it."
    text = text.strip()
    return message(text, [section(text)])


def accounts_message(is_admin: bool, views, admins=()) -> Message:
    if not views:
        text = (
            "No team accounts are linked yet."
            if is_admin
            else "You haven't been given any team accounts."
        )
        if is_admin:
            text += f" Link one with `{CMD} team connect &lt;account&gt;`."
        else:
            text += f" Who can give you one: {who_can_grant(admins)}."
        return message(text, [section(text)])
    title = "*Team accounts*" if is_admin else "*Team accounts you may use*"
    lines = []
    for v in views:
        line = (
            f"\u2022 {code(v.account)} \u2014 TikTok account *{escape(v.display_name)}*, "
            f"link lasts until {when(v.refresh_expires_at)}"
        )
        if is_admin:
            line += f"; may use it: {mentions(v.users) or 'nobody yet'}"
        lines.append(line)
    usage = f"Cancel with one: `{CMD} as &lt;account&gt; &lt;publish_id&gt;`."
    text = f"{title}\n" + "\n".join(lines)
    return message("Team accounts", [section(text), context(usage)])
