"""Team accounts: connect, grant, revoke, remove, approvers, and who may use which."""

from __future__ import annotations

from bot.interactions import COMMAND as CMD
from bot.messages.blocks import (
    LINKING_NOT_CONFIGURED,
    Message,
    actions,
    approver_mentions,
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


def _no_such_account(account: str) -> str:
    return (
        f"There is no team account {code(account)}, so nothing changed. "
        f"Link one first with `{CMD} team connect {escape(account)}`."
    )


def _approvals(needed: int) -> str:
    return "1 approval" if needed == 1 else f"{needed} approvals"


def approvers_message(
    code_: str, account: str, approvers=(), needed: int = 0, previous=None, admins=()
) -> Message:
    """The answer to `team approvers <account> …`: `code_` is "ok" (set, replaced or
    cleared), "unchanged", "not_admin" or "no_such_account"; no `approvers` means the rule was
    cleared (or there was none to clear); `previous` is the rule before, as (approvers,
    needed), or None."""
    if code_ == "not_admin":
        return not_admin_message(admins)
    name = code(account)
    if code_ == "no_such_account":
        text = _no_such_account(account)
        return message(text, [section(text)])
    change = f"`{CMD} team approvers {escape(account)} @someone @group needed N`"
    stop = f"`{CMD} team approvers {escape(account)} none`"
    if not approvers:
        if previous is None:
            headline = f"Uploads for {name} didn't wait for approval, so nothing changed."
            return message(headline, [section(headline), context(f"To ask for it: {change}")])
        headline = f"Uploads for {name} no longer wait for approval."
        text = (
            f"*{headline}*\nFrom now on they start when their hold window closes, unless the "
            "pipeline asks for approval itself. Uploads already waiting for approval still "
            "wait for theirs."
        )
        before = f"It was {_approvals(previous[1])} from {approver_mentions(previous[0], 1000)}."
        return message(headline, [section(text), context(before, f"To ask again: {change}")])
    people = approver_mentions(approvers)
    groups = any(a.startswith("S") for a in approvers)
    if code_ == "unchanged":
        headline = f"Uploads for {name} already wait for {_approvals(needed)}, so nothing changed."
        text = f"{headline}\n*Who may approve:* {people}"
        return message(
            headline, [section(text), context(f"To change it: {change}", f"To stop it: {stop}")]
        )
    headline = f"Every upload for {name} now waits for {_approvals(needed)} before it starts."
    text = (
        f"*{headline}*\n*Who may approve:* {people}"
        + (" (anyone in a named group may approve)" if groups else "")
        + "\nEach person counts once, and nobody approves an upload they submitted. This "
        "holds whatever the pipeline sends; uploads already held or waiting keep what they "
        "were sent with."
    )
    blocks = [section(text)]
    if previous is not None:
        was = f"{_approvals(previous[1])} from {approver_mentions(previous[0], 1000)}"
        blocks.append(context(f"This replaces the rule before: {was}."))
    blocks.append(context(f"To change it: {change}", f"To stop it: {stop}"))
    return message(headline, blocks)


def team_change_message(
    action: str, code_: str, account: str, users=(), unchanged=(), admins=()
) -> Message:
    name = code(account)
    if code_ == "not_admin":
        return not_admin_message(admins)
    if code_ == "no_such_account":
        text = _no_such_account(account)
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
        if is_admin and v.approvers:
            line += (
                f"; every upload waits for {_approvals(v.needed)} from "
                f"{approver_mentions(v.approvers, 300)}"
            )
        lines.append(line)
    usage = f"Cancel with one: `{CMD} as &lt;account&gt; &lt;publish_id&gt;`."
    text = f"{title}\n" + "\n".join(lines)
    return message("Team accounts", [section(text), context(usage)])
