"""Every message a person reads, built in one place: Slack Block Kit and the OAuth pages.

Outcomes are turned into the VOICE.md shape: headline, "Still running", next step, and a
context line with the details support needs. Everything echoed back is escaped for mrkdwn,
so no input can ping a channel, render a link or break a message.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    SectionBlock,
)

from bot.catalog import Explanation, Running, explain, is_known
from bot.command_parser import MAX_VALUE_LENGTH, Parsed
from bot.outcome import Outcome
from storage.announcements import Announcement

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
def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(*parts: str) -> dict:
    text = "  \u00b7  ".join(p for p in parts if p)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def _button(
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


def _message(text: str, blocks: list[dict]) -> Message:
    return {"text": text, "blocks": blocks}


def connect_button(url: str) -> ButtonElement:
    return _button("Connect TikTok", CONNECT_ACTION, url=url, style="primary")


def cancel_button(publish_id: str, title: str = "") -> ButtonElement:
    name = f"\u201c{title}\u201d" if title else publish_id
    confirm = ConfirmObject(
        title="Cancel this upload?",
        text=f"TikTok will stop fetching {escape(name[:200])} if it still can. "
        "This can't be undone.",
        confirm="Cancel upload",
        deny="Keep it",
    )
    return _button(
        "Cancel upload", CANCEL_ACTION, value=publish_id, style="danger", confirm=confirm
    )


def retry_button(publish_id: str, reason: str = "") -> ButtonElement:
    value = json.dumps({"publish_id": publish_id, "reason": reason})
    return _button("Cancel it now", RETRY_ACTION, value=value, style="danger")


def fill(
    template: str, publish_id: str, title: str = "", verb: str = "cancel", account: str = ""
) -> str:
    return template.format(
        upload=upload_name(publish_id, title),
        id=escape(publish_id).replace("`", "'"),  # the catalog puts it inside a code span
        verb=verb,
        account=escape(account) if account else "your TikTok account",
        cmd=CMD,
    )


def running_line(entry: Explanation) -> str:
    line = f"*Still running:* {entry.running.value}"
    if entry.running_note:
        line += " \u2014 " + entry.running_note
    return line


def explanation_blocks(
    entry: Explanation, publish_id: str, title: str = "", verb: str = "cancel", account: str = ""
) -> tuple[str, list[dict]]:
    """The headline (plain fallback text) and the three sections of an explained outcome."""
    headline = fill(entry.headline, publish_id, title, verb, account)
    blocks = [
        _section(f"*{headline}*\n{fill(entry.what, publish_id, title, verb, account)}"),
        _section(running_line(entry)),
        _section("*Next:* " + fill(entry.next_step, publish_id, title, verb, account)),
    ]
    return headline, blocks


def context_line(outcome: Outcome) -> dict:
    account = f"TikTok account: {escape(outcome.account)}" if outcome.account else ""
    log_id = f"TikTok log ID: {code(outcome.log_id)}" if outcome.log_id else "TikTok log ID: none"
    return _context(
        f"Upload {code(outcome.publish_id)}",
        account,
        f"by <@{outcome.actor.user_id}>",
        when(outcome.at),
        log_id,
    )


def _status_details(outcome: Outcome) -> list[dict]:
    if outcome.action != "status" or not outcome.data:
        return []
    blocks = []
    reason = outcome.data.get("fail_reason")
    if outcome.code == "FAILED" and isinstance(reason, str) and reason:
        entry = explain(reason)
        _, reason_blocks = explanation_blocks(
            entry, outcome.publish_id, outcome.title, "check", outcome.account
        )
        blocks.append(_section(f"*Why it failed* ({code(reason)}):"))
        blocks.extend(reason_blocks)
    fetched = outcome.data.get("downloaded_bytes")
    if isinstance(fetched, int) and fetched > 0 and outcome.code == "PROCESSING_DOWNLOAD":
        blocks.append(_context(f"TikTok has fetched {fetched / 1_000_000:.1f} MB so far."))
    post_ids = outcome.data.get("publicaly_available_post_id")
    if isinstance(post_ids, list) and post_ids:
        ids = ", ".join(code(str(p)) for p in post_ids[:5])
        blocks.append(_context(f"Public post ID: {ids}"))
    return blocks


def outcome_message(outcome: Outcome) -> Message:
    """A cancel or status outcome, explained."""
    verb = "cancel" if outcome.action == "cancel" else "check"
    entry = explain(outcome.code)
    headline, blocks = explanation_blocks(
        entry, outcome.publish_id, outcome.title, verb, outcome.account
    )
    blocks.extend(_status_details(outcome))
    buttons = []
    if outcome.connect_url:
        buttons.append(connect_button(outcome.connect_url))
    elif outcome.code in ("not_linked", "link_expired", "link_unreadable"):
        blocks.append(_section(LINKING_NOT_CONFIGURED))
    if outcome.code in ("not_granted", "no_such_account", "team_link_expired"):
        blocks.append(grant_hint(outcome.data.get("admins", ())))
    if outcome.action == "status" and outcome.code == "PROCESSING_DOWNLOAD":
        buttons.append(cancel_button(outcome.publish_id, outcome.title))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons).to_dict())
    blocks.append(context_line(outcome))
    return _message(headline, blocks)


# Why nothing reached TikTok, said about someone (the catalog speaks *to* the person).
NOT_SENT = {
    "not_linked": "they have no linked TikTok account yet",
    "link_expired": "their TikTok link had expired",
    "link_unreadable": "their TikTok link needs to be made again",
    "not_granted": "they haven't been given the team account {account}",
    "no_such_account": "there is no team account {account}",
    "team_link_expired": "the team account {account} needs to be linked again",
}


def is_personal(code_: str) -> bool:
    """An outcome about the person (no TikTok call), not about the upload."""
    return code_ in NOT_SENT


def audit_entry(outcome: Outcome) -> Message:
    """The public audit line for one attempt (audit channel or the upload's thread)."""
    entry = explain(outcome.code)
    headline = fill(entry.headline, outcome.publish_id, outcome.title, "cancel", outcome.account)
    source = "a button" if outcome.actor.source == "button" else CMD
    text = f"<@{outcome.actor.user_id}> asked to cancel via {escape(source)}: {headline}"
    if is_personal(outcome.code):
        why = NOT_SENT[outcome.code].format(account=code(outcome.account or "-"))
        headline = f"nothing was sent to TikTok: {why}"
        name = upload_name(outcome.publish_id, outcome.title)
        text = (
            f"<@{outcome.actor.user_id}> asked to cancel {name} via {escape(source)}, "
            f"but {headline}."
        )
    if outcome.reason:
        text += f"\n*Reason given:* {escape(outcome.reason)}"
    blocks = [_section(text), _section(running_line(entry)), context_line(outcome)]
    return _message(f"Cancel attempt: {headline}", blocks)


LINKING_NOT_CONFIGURED = (
    "Linking isn't set up on this bot yet: the person who installed tiktok-cancel needs to set "
    "`TIKTOK_REDIRECT_URI` (see `.env.example`)."
)

HELP_TEXT = escape(
    "\n".join(
        [
            "*tiktok-cancel* stops a TikTok upload that is still being fetched.",
            f"\u2022 `{CMD} <publish_id> [reason]` \u2014 cancel that upload",
            f"\u2022 `{CMD} status <publish_id>` \u2014 where the upload is now",
            f"\u2022 `{CMD} list` \u2014 announced uploads still running, with Cancel buttons",
            f"\u2022 `{CMD} as <account> <publish_id> [reason]` \u2014 cancel with a team account",
            f"\u2022 `{CMD} accounts` \u2014 the team accounts you may use",
            f"\u2022 `{CMD} connect` \u2014 link your TikTok account",
            f"\u2022 `{CMD} disconnect` \u2014 unlink it (TikTok forgets the access too)",
            f"\u2022 `{CMD} whoami` \u2014 which TikTok account you act as",
            f"\u2022 `{CMD} explain <code>` \u2014 what a TikTok code or fail reason means",
            f"\u2022 `{CMD} help` \u2014 this list",
            f"Admins: `{CMD} team connect <account>`, `{CMD} team grant <account> @someone`, "
            f"`{CMD} team revoke <account> @someone`, `{CMD} team remove <account>`.",
            "The publish_id is the one your upload pipeline got from TikTok, "
            "like `v_pub_url~v2.123456789`.",
        ]
    )
)

PROBLEMS = {
    "unknown_word": "I don't know the word {word}.",
    "missing_id": "Which upload? Add its publish_id after {word}.",
    "malformed_id": "{word} doesn't look like a TikTok publish_id, so nothing was sent to TikTok.",
    "too_long": f"That value is longer than {MAX_VALUE_LENGTH} characters, so nothing was sent "
    "to TikTok.",
    "reason_too_long": f"The reason is longer than {MAX_VALUE_LENGTH} characters; please shorten "
    "it. Nothing was sent to TikTok.",
    "extra_words": "{word} takes no extra words here.",
    "missing_code": "Which code? For example `" + CMD + " explain publish_not_cancellable`.",
    "malformed_code": "{word} doesn't look like a TikTok code.",
    "missing_account": "Which team account? Add its short name after {word}.",
    "malformed_account": "{word} isn't a team account name: use letters, digits, - and _.",
    "team_usage": "Use `" + CMD + " team connect|grant|revoke|remove &lt;account&gt; …`.",
    "missing_users": "Whom? Mention them after the account, like `"
    + CMD
    + " team grant brand @alex`.",
    "bad_mention": "{word} isn't a Slack mention. Mention people with @, like @alex.",
}


def help_message() -> Message:
    return _message("How to use /tiktok-cancel", [_section(HELP_TEXT)])


def usage_message(parsed: Parsed) -> Message:
    word = code(parsed.word[:80] + ("\u2026" if len(parsed.word) > 80 else ""))
    problem = PROBLEMS.get(parsed.problem, "I didn't understand that.").format(word=word)
    if parsed.suggestion:
        problem += f" Did you mean `{CMD} {parsed.suggestion}`?"
    return _message(problem, [_section(problem), _section(HELP_TEXT)])


def connect_message(url: str) -> Message:
    if not url:
        return _message(LINKING_NOT_CONFIGURED, [_section(LINKING_NOT_CONFIGURED)])
    text = (
        "*Link your TikTok account* so you can cancel uploads from Slack.\n"
        "The button opens TikTok's own consent page; the link it makes is yours alone "
        "and works for 10 minutes."
    )
    blocks = [_section(text), ActionsBlock(elements=[connect_button(url)]).to_dict()]
    return _message("Link your TikTok account", blocks)


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
    return _message(text, [_section(text), _section(details), _section(next_step)])


def link_unreadable_message(connect_url: str) -> Message:
    """`whoami` when the stored link can't be decrypted (the key changed): no upload involved."""
    text = (
        "Your TikTok link needs to be made again: the bot's security key was changed, so the "
        "link it stored for you can't be read any more."
    )
    blocks = [_section(text), _section(f"*Next:* link your account again with `{CMD} connect`.")]
    if connect_url:
        blocks.append(ActionsBlock(elements=[connect_button(connect_url)]).to_dict())
    return _message(text, blocks)


def not_linked_message(connect_url: str) -> Message:
    text = "You haven't linked a TikTok account yet, so there is nothing to show."
    blocks = [_section(text)]
    if connect_url:
        blocks.append(ActionsBlock(elements=[connect_button(connect_url)]).to_dict())
    else:
        blocks.append(_section(LINKING_NOT_CONFIGURED))
    return _message(text, blocks)


def disconnect_message(result_code: str, display_name: str) -> Message:
    name = f"*{escape(display_name)}*" if display_name else "your TikTok account"
    if result_code == "not_linked":
        text = "You had no TikTok account linked, so there was nothing to unlink."
    elif result_code == "revoke_failed":
        text = (
            f"Unlinked {name} here, but TikTok didn't confirm it forgot the access. "
            "To be sure, remove tiktok-cancel under Settings \u2192 Security \u2192 Manage app "
            "permissions in the TikTok app."
        )
    else:
        text = f"Unlinked {name}. TikTok has forgotten this bot's access to it."
    text += f"\n*Next:* `{CMD} connect` links an account again."
    return _message(text.split("\n")[0], [_section(text)])


def explain_message(requested: str) -> Message:
    entry = explain(requested)
    headline, blocks = explanation_blocks(entry, "v_pub_url~v2.123456789", verb="cancel")
    intro = f"*What {code(requested)} means* (shown for an example upload):"
    if not is_known(entry.code):
        intro = (
            f"{code(requested)} isn't a code this bot knows. This is what we say when TikTok "
            "answers with something new:"
        )
    return _message(f"What {escape(requested)} means", [_section(intro), *blocks])


def linked_dm(display_name: str, retry_publish_id: str = "", retry_reason: str = "") -> Message:
    text = f"Your TikTok account *{escape(display_name)}* is linked. You can cancel uploads now."
    blocks = [_section(text)]
    if retry_publish_id:
        ask = f"Still want to cancel {upload_name(retry_publish_id)}?"
        blocks.append(_section(ask))
        blocks.append(
            ActionsBlock(elements=[retry_button(retry_publish_id, retry_reason)]).to_dict()
        )
    return _message(f"Your TikTok account {escape(display_name)} is linked.", blocks)


def in_flight_ack() -> Message:
    text = "Working on it\u2026"
    return _message(text, [_section(text)])


def stale_button_message() -> Message:
    text = "That button no longer does anything. Type `/tiktok-cancel help` to see what you can do."
    return _message(text, [_section(text)])


def internal_problem_message() -> Message:
    text = (
        "Something went wrong inside tiktok-cancel before TikTok was asked, so nothing was "
        f"cancelled. Try again in a moment; `{CMD} status &lt;publish_id&gt;` shows where an "
        "upload is."
    )
    return _message("Something went wrong inside tiktok-cancel", [_section(text)])


# --- OAuth callback pages (HTML) -----------------------------------------------------------

PAGE_PROBLEMS = {
    "state_unknown": (
        "This link isn't one we made",
        "It may have been copied incompletely, or made by another bot. Nothing was linked.",
    ),
    "state_used": (
        "This link was already used",
        "Each link works once. Nothing new was linked.",
    ),
    "state_expired": (
        "This link has expired",
        "Links work for 10 minutes. Nothing was linked.",
    ),
    "access_denied": (
        "TikTok access wasn't allowed",
        "You chose not to let tiktok-cancel act for your TikTok account, so nothing was linked.",
    ),
}


def oauth_page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)} \u2014 tiktok-cancel</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
        "padding:0 1rem;color:#1d1c1d}h1{font-size:1.4rem}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>"
    )


def linked_page(display_name: str) -> str:
    return oauth_page(
        f"Linked as {display_name}",
        "tiktok-cancel can now cancel uploads for this TikTok account. "
        "You can close this tab and go back to Slack.",
    )


def link_failed_page(code_: str) -> str:
    again = f"Go back to Slack and type {CMD} connect to get a fresh link."
    if code_ in PAGE_PROBLEMS:
        title, body = PAGE_PROBLEMS[code_]
        return oauth_page(title, f"{body} {again}")
    entry = explain(code_)
    what = fill(entry.what, "-")
    return oauth_page(
        "TikTok didn't complete the link",
        f"{strip_mrkdwn(what)} Nothing was linked. {again} (TikTok said: {code_[:60]})",
    )


def strip_mrkdwn(text: str) -> str:
    return text.replace("`", "").replace("*", "")


# --- announcements (POST /notifications, the Cancel button, status follow-up) -------------

FINAL_STATUSES = frozenset({"PUBLISH_COMPLETE", "FAILED", "SEND_TO_USER_INBOX"})
NO_RETRY_CODES = frozenset({"ok", "publish_not_cancellable", "invalid_publish_id"})


def retry_makes_sense(code_: str) -> bool:
    """After a failed cancel, is the button still worth pressing (by anyone)?"""
    return code_ not in NO_RETRY_CODES and explain(code_).running is not Running.NO


def shows_cancel_button(a: Announcement) -> bool:
    if a.final:
        return False
    return not a.last_code or retry_makes_sense(a.last_code)


def status_line(a: Announcement) -> str:
    if not a.status:
        return "*Status:* announced; waiting for TikTok's first word on it."
    if a.status == "FAILED" and a.fail_reason == "publish_cancelled":  # the reason says it all
        return "*Status:* " + fill(explain(a.fail_reason).headline, a.publish_id, a.title)
    entry = explain(a.status)
    line = "*Status:* " + fill(entry.headline, a.publish_id, a.title, "check")
    if a.status == "FAILED" and a.fail_reason:
        reason = explain(a.fail_reason)
        line += "\n*Why:* " + fill(reason.headline, a.publish_id, a.title, "check")
    return line


def last_attempt_line(a: Announcement) -> str:
    if not a.last_code:
        return ""
    who = f"<@{a.last_user_id}>" if a.last_user_id else "someone"
    if a.last_code == "ok":
        return f":no_entry_sign: Cancelled by {who} {when(a.last_at)}."
    headline = fill(
        explain(a.last_code).headline, a.publish_id, a.title, "cancel", "their TikTok account"
    )
    return f"Last cancel attempt by {who} {when(a.last_at)}: {headline}"


def announcement_message(a: Announcement) -> Message:
    head = f"*TikTok upload:* {upload_name(a.publish_id, a.title)}"
    if a.account:
        head += f"\n*Account:* {escape(a.account)}"
    if a.source_url:
        head += f"\n*Source:* {code(a.source_url)}"
    blocks = [_section(head), _section(status_line(a))]
    if a.warnings and not a.final:
        lines = "\n".join("\u2022 " + escape(w) for w in a.warnings)
        blocks.append(_section(f":warning: *TikTok will likely reject this upload:*\n{lines}"))
    attempt = last_attempt_line(a)
    if attempt:
        blocks.append(_section(attempt))
    if shows_cancel_button(a):
        blocks.append(ActionsBlock(elements=[cancel_button(a.publish_id, a.title)]).to_dict())
    blocks.append(_context(f"Upload {code(a.publish_id)}", f"announced {when(a.created_at)}"))
    fallback = f"TikTok upload {escape(a.title or a.publish_id)}"
    return _message(fallback, blocks)


def final_state_message(a: Announcement) -> Message:
    """Posted in the thread when the upload reaches a final state."""
    entry = explain(a.fail_reason if a.status == "FAILED" and a.fail_reason else a.status)
    headline, blocks = explanation_blocks(entry, a.publish_id, a.title, "check", a.account)
    blocks.append(_context(f"Upload {code(a.publish_id)}", f"TikTok status: {code(a.status)}"))
    return _message(headline, blocks)


def list_message(items: list[Announcement], now: float) -> Message:
    if not items:
        text = "No announced uploads are still running. Nothing to cancel."
        return _message(text, [_section(text)])
    blocks = [_section(f"*Uploads still running* ({len(items)}):")]
    for a in items:
        age_min = max(0, int((now - a.created_at) // 60))
        age = f"{age_min} min ago" if age_min < 120 else f"{age_min // 60} h ago"
        state = explain(a.status).headline if a.status else "waiting for TikTok's first word"
        text = (
            f"{upload_name(a.publish_id, a.title)} \u2014 announced {age}\n"
            f"{fill(state, a.publish_id, a.title, 'check')}"
        )
        section = SectionBlock(
            text=MarkdownTextObject(text=text), accessory=cancel_button(a.publish_id, a.title)
        )
        blocks.append(section.to_dict())
    return _message(f"{len(items)} uploads still running", blocks[:50])


# --- team accounts --------------------------------------------------------------------------


def who_can_grant(admins: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    named = ", ".join(f"<@{escape(a)}>" for a in sorted(admins))
    if named:
        return f"{named}, or any workspace admin or owner"
    return "any workspace admin or owner (their profiles carry an Admin or Owner badge)"


def grant_hint(admins) -> dict:
    return _section(f"*Who can grant it:* {who_can_grant(admins)}.")


def not_admin_message(admins) -> Message:
    text = f"Only admins manage team accounts, so nothing changed. Admins: {who_can_grant(admins)}."
    return _message("Only admins manage team accounts", [_section(text)])


def team_connect_message(account: str, url: str) -> Message:
    text = (
        f"*Link a TikTok account as the team account {code(account)}.*\n"
        "The button opens TikTok's consent page: sign in there as the shared account "
        "(not your own). The link works once, for 10 minutes. Linking again replaces the "
        "account's access."
    )
    blocks = [_section(text), ActionsBlock(elements=[connect_button(url)]).to_dict()]
    return _message(f"Link the team account {escape(account)}", blocks)


def mentions(users) -> str:
    return ", ".join(f"<@{escape(u)}>" for u in users)


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
            "access. To be sure, remove tiktok-cancel in that account's TikTok app settings."
        )
    else:
        text = f"Removed the team account {name} and everyone's grants to it."
    text = text.strip()
    return _message(text, [_section(text)])


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
        return _message(text, [_section(text)])
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
    return _message("Team accounts", [_section(text), _context(usage)])


def team_linked_dm(account: str, display_name: str) -> Message:
    text = (
        f"The team account {code(account)} is linked as *{escape(display_name)}*. "
        f"Give people access with `{CMD} team grant {escape(account)} @someone`."
    )
    return _message(f"Team account {escape(account)} is linked", [_section(text)])


# --- App Home -------------------------------------------------------------------------------

DISCONNECT_ACTION = "disconnect_tiktok"
ACTION_WORDS = {
    "cancel": "cancel",
    "connect": "linked TikTok",
    "disconnect": "unlinked TikTok",
    "team_connect": "linked team account",
    "team_remove": "removed team account",
    "grant": "granted",
    "revoke": "revoked",
}


def _audit_line(row: dict) -> str:
    action = ACTION_WORDS.get(row.get("action") or "", escape(row.get("action") or ""))
    outcome = row.get("outcome") or ""
    if row.get("state") == "started":
        result = "unfinished (the bot stopped mid-call; check with status)"
    elif row.get("action") == "cancel" and outcome:
        headline = explain(outcome).headline
        result = fill(headline, row.get("publish_id") or "-", account=row.get("account") or "")
    else:
        result = escape(outcome)
    subject = f" {code(row['publish_id'])}" if row.get("publish_id") else ""
    account = f" ({escape(row['account'])})" if row.get("account") else ""
    moment = escape((row.get("started_at") or "")[:16].replace("T", " "))
    return f"\u2022 {moment} UTC \u2014 {action}{subject}{account}: {result}"


def home_view(
    link, connect_url: str, is_admin: bool, teams, uploads, audit_rows, now: float
) -> dict:
    """The Home tab: your link, team accounts you may use, uploads in flight, your history."""
    blocks: list[dict] = [_section("*tiktok-cancel* \u2014 stop a TikTok upload from Slack.")]
    if link is not None:
        text = (
            f"*Your TikTok link:* *{escape(link.display_name)}* (open_id {code(link.open_id)}), "
            f"lasts until {when(link.refresh_expires_at)}."
        )
        button = _button(
            "Disconnect",
            DISCONNECT_ACTION,
            value="me",
            confirm=ConfirmObject(
                title="Unlink TikTok?",
                text="TikTok will forget this bot's access to your account.",
                confirm="Disconnect",
                deny="Keep it",
            ),
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text), accessory=button).to_dict())
    elif connect_url:
        text = "*Your TikTok link:* none yet. Link your account to cancel uploads."
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=text), accessory=connect_button(connect_url)
            ).to_dict()
        )
    else:
        blocks.append(_section("*Your TikTok link:* none yet. " + LINKING_NOT_CONFIGURED))
    if teams:
        lines = "\n".join(
            f"\u2022 {code(v.account)} \u2014 *{escape(v.display_name)}*" for v in teams
        )
        title = "*Team accounts*" if is_admin else "*Team accounts you may use*"
        blocks.append(_section(f"{title}\n{lines}"))
    if uploads:
        blocks.append(_section(f"*Uploads still running* ({len(uploads)}):"))
        for a in uploads[:20]:
            state = explain(a.status).headline if a.status else "waiting for TikTok's first word"
            where = fill(state, a.publish_id, a.title, "check")
            text = f"{upload_name(a.publish_id, a.title)}\n{where}"
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=text),
                    accessory=cancel_button(a.publish_id, a.title),
                ).to_dict()
            )
    else:
        blocks.append(_section("*Uploads still running:* none."))
    if audit_rows:
        lines = "\n".join(_audit_line(r) for r in audit_rows[:10])
        blocks.append(_section(f"*Your last {min(10, len(audit_rows))} actions*\n{lines}"))
    return {"type": "home", "blocks": blocks[:100]}
