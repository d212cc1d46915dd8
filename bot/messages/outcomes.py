"""Outcomes of a cancel or status request: the VOICE.md shape (headline, still running?,
next step, context line), the public audit entry, `explain`, and the bot's own short answers.

The words come from the catalog (`bot/tiktok/catalog.toml`); `Words` fills its placeholders for one
message, escaping everything it echoes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.interactions import COMMAND as CMD
from bot.messages.blocks import (
    Message,
    actions,
    admins_phrase,
    cancel_button,
    code,
    connect_button,
    context,
    escape,
    grant_hint,
    linking_not_configured,
    message,
    section,
    upload_name,
    when,
)
from bot.outcome import Outcome
from bot.tiktok.catalog import Explanation, Running, explain, is_known
from bot.tiktok.rules import CONNECT_CODES, ending_code, failure_code

SAMPLE_ID = "v_pub_url~v2.123456789"
# What `explain` shows where a message names an account: a placeholder, never a real name.
SAMPLE_ACCOUNT = "<account>"
# "Still running: stopping" — where the person will hear how it ended ({confirm}).
CONFIRM_HERE = "we'll confirm here when TikTok does"
CONFIRM_ON_ANNOUNCEMENT = "we'll confirm on the announcement and in its thread when TikTok does"
CONFIRM_BY_DM = "we'll tell you by direct message when TikTok confirms"


@dataclass(frozen=True)
class Words:
    """What fills a catalog template for one message."""

    publish_id: str = SAMPLE_ID
    title: str = ""
    verb: str = "cancel"  # what was asked: "cancel", "check", "start" or "link"
    account: str = ""
    admins: tuple[str, ...] | frozenset[str] = ()
    log_id: str = ""
    confirm: str = ""  # where TikTok's final word will show; "" = ask `status`
    code: str = ""  # the code itself, for ones we don't know
    name: str = ""  # how to call the upload instead of its title ("this upload")
    by: str = "Someone"  # who asked to cancel, as a Slack mention
    asked: str = ""  # when they asked, as a Slack date token

    def fill(self, template: str) -> str:
        quoted_id = escape(self.publish_id).replace("`", "'")  # templates put it in backticks
        confirm = self.confirm or (
            "we'll say so when TikTok confirms: on the upload's announcement, or by direct "
            f"message to whoever asked; `{CMD} status {quoted_id}` checks now"
        )
        support = "the TikTok log ID below" if self.log_id else f"the upload ID `{quoted_id}`"
        text = template.format(
            upload=self.name or upload_name(self.publish_id, self.title),
            id=quoted_id,
            verb=self.verb,
            account=escape(self.account) if self.account else "your TikTok account",
            admins=admins_phrase(self.admins),
            support=support,
            confirm=confirm,
            code=escape(self.code).replace("`", "'"),
            cmd=CMD,
            by=self.by,
            asked=self.asked or "earlier",
        )
        return text[:1].upper() + text[1:] if template.startswith("{upload}") else text


def fill(
    template: str, publish_id: str, title: str = "", verb: str = "cancel", account: str = ""
) -> str:
    return Words(publish_id, title, verb, account).fill(template)


def mention(user_id: object) -> str:
    """`<@U…>` for a Slack user ID we hold, "Someone" when we don't know who."""
    return f"<@{escape(user_id)}>" if isinstance(user_id, str) and user_id else "Someone"


def running_line(entry: Explanation, words: Words) -> str:
    """ "*Still running:* …" for what was asked, or "" where no upload is involved."""
    value, note = entry.still_running(words.verb)
    if value is Running.NONE:
        return ""
    line = f"*Still running:* {value.value}"
    if note:
        line += " \u2014 " + words.fill(note)
    return line


def explanation_blocks(entry: Explanation, words: Words) -> tuple[str, list[dict]]:
    """The headline (plain fallback text) and the sections of an explained outcome."""
    words = words if is_known(entry.code) else _with_code(words, entry.code)
    headline = words.fill(entry.headline_for(words.verb))
    blocks = [section(f"*{headline}*\n{words.fill(entry.what)}")]
    running = running_line(entry, words)
    if running:
        blocks.append(section(running))
    blocks.append(section("*Next:* " + words.fill(entry.next_for(words.verb))))
    return headline, blocks


def _with_code(words: Words, code_: str) -> Words:
    return Words(**{**words.__dict__, "code": code_})


def context_line(outcome: Outcome) -> dict:
    account = f"TikTok account: {escape(outcome.account)}" if outcome.account else ""
    log_id = f"TikTok log ID: {code(outcome.log_id)}" if outcome.log_id else ""
    return context(
        f"Upload {code(outcome.publish_id)}",
        account,
        f"by <@{outcome.actor.user_id}>",
        when(outcome.at),
        log_id,
    )


def _entry_for(outcome: Outcome) -> tuple[Explanation, str]:
    """The catalog entry that explains `outcome`, and the code shown for an unknown one.

    A FAILED status is explained by its fail reason alone: one headline, one explanation
    (a reason we don't know is named in it, once).
    """
    reason = outcome.data.get("fail_reason") if outcome.action == "status" else None
    if outcome.code == "FAILED" and isinstance(reason, str) and reason:
        return explain(failure_code(reason)), reason
    return explain(outcome.code), outcome.code


def _status_details(outcome: Outcome, shown_code: str) -> list[dict]:
    if outcome.action != "status" or not outcome.data:
        return []
    blocks = []
    if outcome.code == "FAILED" and shown_code != "FAILED" and is_known(shown_code):
        blocks.append(context(f"TikTok status: `FAILED`, reason {code(shown_code)}"))
    elif outcome.code == "FAILED":  # a reason we don't know is named once, in the explanation
        blocks.append(context("TikTok status: `FAILED`"))
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
    ending = ending_code(status, reason, by)
    words = Words(outcome.publish_id, outcome.title, "check", code=ending, by=mention(by))
    blocks = [section(f"*What TikTok told us:* {words.fill(explain(ending).headline)}")]
    at = data.get("at")
    if "{by}" not in explain(ending).headline and by and isinstance(at, int | float) and at:
        blocks.append(context(f"{mention(by)} asked TikTok to cancel it {when(at)}"))
    return blocks


def followed_confirm(outcome: Outcome, to_actor: bool = True) -> str:
    """Where TikTok's final word on a cancel will show, for an upload that was announced or
    whose cancel is followed (`to_actor`: the reader is the person who made this request);
    "" when neither."""
    if outcome.data.get("unfollowed"):
        quoted_id = escape(outcome.publish_id).replace("`", "'")
        return (
            "TikTok hasn't said how it ended and we've stopped checking; "
            f"`{CMD} status {quoted_id}` checks now"
        )
    if outcome.announced:
        return CONFIRM_ON_ANNOUNCEMENT
    if not outcome.followed:
        return ""
    by = str(outcome.data.get("by") or outcome.actor.user_id)
    if to_actor and by == outcome.actor.user_id:
        return CONFIRM_BY_DM
    return f"we'll tell {mention(by)} by direct message when TikTok confirms"


def outcome_words(outcome: Outcome, admins=(), confirm: str = "") -> Words:
    asked = outcome.data.get("at")
    return Words(
        publish_id=outcome.publish_id,
        title=outcome.title,
        verb="cancel" if outcome.action == "cancel" else "check",
        account=outcome.account,
        admins=tuple(admins or outcome.data.get("admins", ())),
        log_id=outcome.log_id,
        confirm=confirm or followed_confirm(outcome),
        code=outcome.code,
        by=mention(outcome.data.get("by")),
        asked=when(asked) if isinstance(asked, int | float) and asked else "",
    )


def outcome_message(outcome: Outcome, admins=(), confirm: str = "") -> Message:
    """A cancel or status outcome, explained, for the person who asked. `confirm`: where
    TikTok's final word will show, when not where `outcome` says (see `outcome_words`)."""
    entry, shown_code = _entry_for(outcome)
    words = _with_code(outcome_words(outcome, admins, confirm), shown_code)
    headline, blocks = explanation_blocks(entry, words)
    blocks.extend(_known_ending(outcome))
    blocks.extend(_status_details(outcome, shown_code))
    buttons = []
    if outcome.connect_url:
        buttons.append(connect_button(outcome.connect_url))
    elif outcome.code in CONNECT_CODES:
        blocks.append(section(linking_not_configured(words.admins)))
    if outcome.code in ("not_granted", "no_such_account", "team_link_expired"):
        blocks.append(grant_hint(words.admins))
    if outcome.action == "status" and outcome.code == "PROCESSING_DOWNLOAD":
        buttons.append(cancel_button(outcome.publish_id, outcome.title))
    if buttons:
        blocks.append(actions(*buttons))
    blocks.append(context_line(outcome))
    return message(headline, blocks)


# Outcomes about the person, where nothing reached TikTok (no link, no grant): answered to
# them and kept in the audit log, never posted in a channel.
PERSONAL_CODES = frozenset(
    {
        "not_linked",
        "link_expired",
        "link_unreadable",
        "not_granted",
        "no_such_account",
        "team_link_expired",
    }
)


def is_personal(code_: str) -> bool:
    """An outcome about the person (no TikTok call), not about the upload."""
    return code_ in PERSONAL_CODES


def audit_entry(outcome: Outcome) -> Message:
    """The public audit line for one attempt (audit channel or the upload's thread)."""
    entry = explain(outcome.code)
    confirm = CONFIRM_HERE if outcome.announced else followed_confirm(outcome, to_actor=False)
    words = outcome_words(outcome, confirm=confirm)
    headline = words.fill(entry.headline_for(words.verb))
    source = "a button" if outcome.actor.source == "button" else CMD
    text = f"<@{outcome.actor.user_id}> asked to cancel via {escape(source)}: {headline}"
    fallback = f"Cancel attempt: {headline}"
    if outcome.reason:
        text += f"\n*Reason given:* {escape(outcome.reason)}"
    blocks = [section(text)]
    running = running_line(entry, words)
    if running:
        blocks.append(section(running))
    blocks.append(context_line(outcome))
    return message(fallback, blocks)


# `explain` shows a code as an answer to the request that gives it.
EXPLAINED_AS = {"start": "start", "oauth": "link"}


def explain_message(requested: str, admins=()) -> Message:
    entry = explain(requested)
    request = EXPLAINED_AS.get(entry.kind, "cancel")
    words = Words(account=SAMPLE_ACCOUNT, admins=tuple(admins), code=requested, verb=request)
    headline, blocks = explanation_blocks(entry, words)
    example = " (shown for an example upload)" if request != "link" else ""
    intro = f"*What {code(requested)} means*{example}:"
    if not is_known(entry.code):
        intro = (
            f"{code(requested)} isn't a code we know yet. This is what we say when TikTok "
            "answers with it:"
        )
    return message(f"What {escape(requested)} means", [section(intro), *blocks])


def in_flight_ack() -> Message:
    text = "Working on it\u2026"
    return message(text, [section(text)])


def stale_button_message() -> Message:
    text = f"That button no longer does anything. Type `{CMD} help` to see what you can do."
    return message(text, [section(text)])


def internal_problem_message(publish_id: str = "", admins=()) -> Message:
    """Our own failure. About a cancel, we can't tell whether TikTok was asked."""
    if publish_id:
        words = Words(publish_id=publish_id, admins=tuple(admins))
        _, blocks = explanation_blocks(explain("bot_error"), words)
        return message("Something went wrong inside tiktok-cancel", blocks)
    text = (
        "Something went wrong inside tiktok-cancel while answering. Try again in a moment; "
        f"if it keeps happening, tell {admins_phrase(admins)}."
    )
    return message("Something went wrong inside tiktok-cancel", [section(text)])
