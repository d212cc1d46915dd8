"""Outcomes of a cancel or status request: the VOICE.md shape (headline, still running?,
next step, context line), the public audit entry, `explain`, and the bot's own short answers."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock

from bot.catalog import Explanation, Running, explain, is_known
from bot.messages.blocks import (
    CMD,
    LINKING_NOT_CONFIGURED,
    Message,
    cancel_button,
    code,
    connect_button,
    context,
    escape,
    grant_hint,
    message,
    section,
    upload_name,
    when,
)
from bot.outcome import Outcome
from bot.tiktok_rules import ending_code


def fill(
    template: str,
    publish_id: str,
    title: str = "",
    verb: str = "cancel",
    account: str = "",
    by: str = "Someone",
) -> str:
    """A catalog text with its placeholders; `by` is who asked to cancel, as a mention."""
    return template.format(
        upload=upload_name(publish_id, title),
        id=escape(publish_id).replace("`", "'"),  # the catalog puts it inside a code span
        verb=verb,
        account=escape(account) if account else "your TikTok account",
        cmd=CMD,
        by=by,
    )


def mention(user_id: object) -> str:
    """`<@U…>` for a Slack user ID we hold, "Someone" when we don't know who."""
    return f"<@{escape(user_id)}>" if isinstance(user_id, str) and user_id else "Someone"


# "Still running: stopping" — where the person will hear how it ended.
STOPPING_FOLLOWED = "we'll confirm on the announcement and in its thread when TikTok does"
STOPPING_HERE = "we'll confirm here when TikTok does"
STOPPING_NOT_FOLLOWED = (
    "this upload wasn't announced, so nobody here will be told; check with "
    "`{cmd} status {id}` in a minute"
)


def running_line(entry: Explanation, follow_up: str = "") -> str:
    line = f"*Still running:* {entry.running.value}"
    note = entry.running_note
    if entry.running is Running.STOPPING and follow_up:
        note = f"{note}; {follow_up}" if note else follow_up
    if note:
        line += " \u2014 " + note
    return line


def explanation_blocks(
    entry: Explanation,
    publish_id: str,
    title: str = "",
    verb: str = "cancel",
    account: str = "",
    by: str = "Someone",
    follow_up: str = "",
) -> tuple[str, list[dict]]:
    """The headline (plain fallback text) and the three sections of an explained outcome."""
    headline = fill(entry.headline, publish_id, title, verb, account, by)
    blocks = [
        section(f"*{headline}*\n{fill(entry.what, publish_id, title, verb, account, by)}"),
        section(running_line(entry, fill(follow_up, publish_id))),
        section("*Next:* " + fill(entry.next_step, publish_id, title, verb, account, by)),
    ]
    return headline, blocks


def context_line(outcome: Outcome) -> dict:
    account = f"TikTok account: {escape(outcome.account)}" if outcome.account else ""
    log_id = f"TikTok log ID: {code(outcome.log_id)}" if outcome.log_id else "TikTok log ID: none"
    return context(
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
        blocks.append(section(f"*Why it failed* ({code(reason)}):"))
        blocks.extend(reason_blocks)
    fetched = outcome.data.get("downloaded_bytes")
    if isinstance(fetched, int) and fetched > 0 and outcome.code == "PROCESSING_DOWNLOAD":
        blocks.append(context(f"TikTok has fetched {fetched / 1_000_000:.1f} MB so far."))
    post_ids = outcome.data.get("publicaly_available_post_id")
    if isinstance(post_ids, list) and post_ids:
        ids = ", ".join(code(str(p)) for p in post_ids[:5])
        blocks.append(context(f"Public post ID: {ids}"))
    return blocks


def _known_ending(outcome: Outcome) -> list[dict]:
    """For an answer given from what we know (`already_final`): how TikTok said it ended."""
    if outcome.code != "already_final":
        return []
    data = outcome.data
    status, reason = str(data.get("status") or ""), str(data.get("fail_reason") or "")
    by = str(data.get("by") or "")
    entry = explain(ending_code(status, reason, by))
    ended = fill(entry.headline, outcome.publish_id, outcome.title, "check", "", mention(by))
    blocks = [section(f"*What TikTok told us:* {ended}")]
    at = data.get("at")
    if "{by}" not in entry.headline and by and isinstance(at, int | float) and at:
        blocks.append(context(f"{mention(by)} asked TikTok to cancel it {when(at)}"))
    return blocks


def outcome_message(outcome: Outcome) -> Message:
    """A cancel or status outcome, explained."""
    verb = "cancel" if outcome.action == "cancel" else "check"
    entry = explain(outcome.code)
    follow_up = STOPPING_FOLLOWED if outcome.announced else STOPPING_NOT_FOLLOWED
    headline, blocks = explanation_blocks(
        entry,
        outcome.publish_id,
        outcome.title,
        verb,
        outcome.account,
        by=mention(outcome.data.get("by")),
        follow_up=follow_up,
    )
    blocks.extend(_known_ending(outcome))
    blocks.extend(_status_details(outcome))
    buttons = []
    if outcome.connect_url:
        buttons.append(connect_button(outcome.connect_url))
    elif outcome.code in ("not_linked", "link_expired", "link_unreadable"):
        blocks.append(section(LINKING_NOT_CONFIGURED))
    if outcome.code in ("not_granted", "no_such_account", "team_link_expired"):
        blocks.append(grant_hint(outcome.data.get("admins", ())))
    if outcome.action == "status" and outcome.code == "PROCESSING_DOWNLOAD":
        buttons.append(cancel_button(outcome.publish_id, outcome.title))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons).to_dict())
    blocks.append(context_line(outcome))
    return message(headline, blocks)


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
    by = mention(outcome.data.get("by"))
    headline = fill(
        entry.headline, outcome.publish_id, outcome.title, "cancel", outcome.account, by
    )
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
    follow_up = STOPPING_HERE if outcome.announced else STOPPING_NOT_FOLLOWED
    running = running_line(entry, fill(follow_up, outcome.publish_id))
    blocks = [section(text), section(running), context_line(outcome)]
    return message(f"Cancel attempt: {headline}", blocks)


def explain_message(requested: str) -> Message:
    entry = explain(requested)
    headline, blocks = explanation_blocks(entry, "v_pub_url~v2.123456789", verb="cancel")
    intro = f"*What {code(requested)} means* (shown for an example upload):"
    if not is_known(entry.code):
        intro = (
            f"{code(requested)} isn't a code this bot knows. This is what we say when TikTok "
            "answers with something new:"
        )
    return message(f"What {escape(requested)} means", [section(intro), *blocks])


def in_flight_ack() -> Message:
    text = "Working on it\u2026"
    return message(text, [section(text)])


def stale_button_message() -> Message:
    text = "That button no longer does anything. Type `/tiktok-cancel help` to see what you can do."
    return message(text, [section(text)])


def internal_problem_message() -> Message:
    text = (
        "Something went wrong inside tiktok-cancel before TikTok was asked, so nothing was "
        f"cancelled. Try again in a moment; `{CMD} status &lt;publish_id&gt;` shows where an "
        "upload is."
    )
    return message("Something went wrong inside tiktok-cancel", [section(text)])
