"""Announced uploads: the channel message with its Cancel button, the final-state reply in its
thread, and `list`.

A cancel TikTok accepted is only a promise to try, so the announcement says "Stopping" (and
offers no button) until TikTok's word: then "Cancelled, won't be posted", or that it was
posted (or sent to the inbox) despite the request, naming who asked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.interactions import COMMAND as CMD
from bot.messages.approval_card import waiting_rows
from bot.messages.blocks import (
    Message,
    actions,
    cancel_button,
    code,
    context,
    escape,
    message,
    section,
    upload_name,
    when,
)
from bot.messages.held import HeldView, held_rows
from bot.messages.outcomes import CONFIRM_HERE, Words, explanation_blocks, mention
from bot.tiktok.catalog import explain
from bot.tiktok.rules import (
    FAILED_FOR_UNKNOWN_REASON,
    GIVE_UP_AFTER_S,
    ending_code,
    failure_code,
    shows_cancel_button,
)


@dataclass(frozen=True)
class AnnouncedView:
    """What the messages show of an announced upload: plain facts, copied by the caller from
    the stored announcement (`AnnouncedView.of(row)`)."""

    publish_id: str
    title: str = ""
    account: str = ""
    source_url: str = ""
    warnings: tuple[str, ...] = ()
    status: str = ""
    fail_reason: str = ""
    final: bool = False
    stopping: bool = False  # TikTok said it would try to cancel it and hasn't said how it ended
    unfollowed: bool = False  # not final, and polling gave up on it
    last_user_id: str = ""
    last_code: str = ""
    last_at: float = 0.0
    created_at: float = 0.0
    cancel_by: str = ""
    cancel_at: float = 0.0
    final_at: float = 0.0

    @classmethod
    def of(cls, row) -> AnnouncedView:
        """The facts of a stored announcement (any record with these names)."""
        return cls(
            publish_id=row.publish_id,
            title=row.title,
            account=row.account,
            source_url=row.source_url,
            warnings=tuple(row.warnings),
            status=row.status,
            fail_reason=row.fail_reason,
            final=row.final,
            stopping=row.stopping,
            unfollowed=row.unfollowed,
            last_user_id=row.last_user_id,
            last_code=row.last_code,
            last_at=row.last_at,
            created_at=row.created_at,
            cancel_by=row.cancel_by,
            cancel_at=row.cancel_at,
            final_at=row.final_at,
        )


WAITING = "Waiting for TikTok's first word."
GIVE_UP_WORDS = f"within {GIVE_UP_AFTER_S / 3600:g} hours of the announcement"


def _words(a: AnnouncedView, code_: str, verb: str = "check", name: str = "this upload") -> Words:
    """Catalog words about an announced upload, inside a message that already names it."""
    return Words(publish_id=a.publish_id, title=a.title, verb=verb, code=code_, name=name)


def _headline(a: AnnouncedView, code_: str, verb: str = "check", name: str = "this upload") -> str:
    """The catalog's headline for `code_` (a fail reason: its entry, naming one we don't know)."""
    entry = explain(failure_code(code_) if code_ == a.fail_reason else code_)
    return _words(a, code_, verb, name).fill(entry.headline_for(verb))


def unfollowed_note(a: AnnouncedView) -> str:
    return (
        f"TikTok hadn't said how it ended {GIVE_UP_WORDS}, so we stopped checking; "
        f"{code(f'{CMD} status {a.publish_id}')} checks now."
    )


def status_line(a: AnnouncedView) -> str:
    if not a.status:
        line = "*Status:* announced; waiting for TikTok's first word on it."
        if a.unfollowed:
            line = "*Status:* announced; TikTok never said where it is. " + unfollowed_note(a)
        return line
    if a.status == "FAILED" and a.fail_reason:  # the reason says it all
        return "*Status:* " + _headline(a, a.fail_reason)
    line = "*Status:* " + _headline(a, a.status)
    if a.unfollowed and not a.stopping:
        line += " " + unfollowed_note(a)
    return line


def asked_at(a: AnnouncedView) -> str:
    return f"{mention(a.cancel_by)} asked TikTok to cancel it {when(a.cancel_at)}"


def cancel_request_line(a: AnnouncedView) -> str:
    """Where a cancel TikTok accepted stands: stopping, or how TikTok says it ended."""
    if not a.final and a.unfollowed:
        return f":hourglass_flowing_sand: *Stopping* \u2014 {asked_at(a)}. " + unfollowed_note(a)
    if not a.final:
        return f":hourglass_flowing_sand: *Stopping* \u2014 {asked_at(a)}; we'll confirm here."
    confirmed = when(a.final_at) if a.final_at else "later"
    if a.status == "FAILED" and a.fail_reason == "publish_cancelled":
        return (
            f":no_entry_sign: *Cancelled, won't be posted* \u2014 {asked_at(a)}; "
            f"TikTok confirmed it {confirmed}."
        )
    if a.status == "PUBLISH_COMPLETE":
        return (
            f":warning: *Posted despite the cancel request* \u2014 {asked_at(a)}, but TikTok "
            f"posted it {confirmed}. If it shouldn't be live, delete the post in the TikTok app."
        )
    if a.status == "SEND_TO_USER_INBOX":
        return (
            f":warning: *Sent to the inbox despite the cancel request* \u2014 {asked_at(a)}, "
            f"but TikTok sent it to the account's inbox {confirmed}. It isn't posted; if it "
            "shouldn't go out, delete the draft from the inbox in the TikTok app."
        )
    return f"{asked_at(a)}; TikTok ended it another way {confirmed} (see *Status*)."


def last_attempt_line(a: AnnouncedView) -> str:
    if a.cancel_by:
        return cancel_request_line(a)
    if not a.last_code:
        return ""
    who = mention(a.last_user_id)
    if a.last_code == "ok":
        return f"{who} asked TikTok to cancel it {when(a.last_at)}."
    words = Words(
        publish_id=a.publish_id,
        verb="cancel",
        account="their TikTok account",
        code=a.last_code,
        name="this upload",
    )
    headline = words.fill(explain(a.last_code).headline_for("cancel"))
    return f"Last cancel attempt by {who} {when(a.last_at)}: {headline}"


def announcement_message(a: AnnouncedView) -> Message:
    head = f"*TikTok upload:* {upload_name(a.publish_id, a.title)}"
    if a.account:
        head += f"\n*Account:* {escape(a.account)}"
    if a.source_url:
        head += f"\n*Source:* {code(a.source_url)}"
    blocks = [section(head), section(status_line(a))]
    if a.warnings and not a.final:
        lines = "\n".join("\u2022 " + escape(w) for w in a.warnings)
        blocks.append(section(f":warning: *TikTok will likely reject this upload:*\n{lines}"))
    attempt = last_attempt_line(a)
    if attempt:
        blocks.append(section(attempt))
    if shows_cancel_button(a.status, a.last_code, final=a.final, stopping=a.stopping):
        blocks.append(actions(cancel_button(a.publish_id, a.title)))
    blocks.append(context(f"Upload {code(a.publish_id)}", f"announced {when(a.created_at)}"))
    fallback = f"TikTok upload {escape(a.title or a.publish_id)}"
    return message(fallback, blocks)


def final_state_message(a: AnnouncedView) -> Message:
    """Posted in the thread when the upload reaches a (new) final state.

    After a cancel TikTok accepted, it names who asked; a post or inbox draft instead mentions
    them in the headline, so they hear of it."""
    shown = ending_code(a.status, a.fail_reason, a.cancel_by)
    words = Words(
        a.publish_id,
        a.title,
        "check",
        a.account,
        code=a.fail_reason if shown == FAILED_FOR_UNKNOWN_REASON else shown,
        confirm=CONFIRM_HERE,
        by=mention(a.cancel_by),
    )
    headline, blocks = explanation_blocks(explain(shown), words)
    if a.cancel_by and shown not in ("posted_despite_cancel", "inbox_despite_cancel"):
        verb = "confirmed it" if shown == "publish_cancelled" else "ended it this way"
        confirmed = f"; TikTok {verb} {when(a.final_at)}" if a.final_at else ""
        blocks.insert(1, section(f"{asked_at(a)}{confirmed}."))
    blocks.append(context(f"Upload {code(a.publish_id)}", tiktok_status_note(a)))
    return message(headline, blocks)


def tiktok_status_note(a: AnnouncedView) -> str:
    """TikTok's own status value, in the small print; a cancel reads as FAILED there, so say
    that this is how TikTok reports one."""
    if a.status == "FAILED" and a.fail_reason == "publish_cancelled":
        return (
            f"TikTok status: {code(a.status)}, reason {code(a.fail_reason)} "
            "(how TikTok reports a cancelled upload)"
        )
    if a.status == "FAILED" and a.fail_reason:
        return f"TikTok status: {code(a.status)}, reason {code(a.fail_reason)}"
    return f"TikTok status: {code(a.status)}"


def state_line(a: AnnouncedView) -> str:
    """Where an unfinished upload stands, for `list` and App Home."""
    if a.stopping and a.unfollowed:
        return f"Stopping: {asked_at(a)}. " + unfollowed_note(a)
    if a.stopping:
        return f"Stopping: {asked_at(a)}; TikTok hasn't confirmed yet."
    if not a.status:
        return "TikTok never said where it is. " + unfollowed_note(a) if a.unfollowed else WAITING
    line = _headline(a, a.status, name="it")
    return line + " " + unfollowed_note(a) if a.unfollowed else line


HIDDEN_NOTE = (
    "Some uploads may be hidden: we couldn't ask Slack who can see the channels they were "
    "announced in. Try again in a minute."
)
NONE_SHOWN = (
    "We couldn't ask Slack who can see the channels uploads were announced in, so none are "
    "shown. Try again in a minute."
)


def upload_row(a: AnnouncedView, after_name: str = "") -> dict:
    """One upload in flight, for `list` and the App Home: its name, where it stands, and the
    Cancel button where pressing it can still help."""
    text = f"{upload_name(a.publish_id, a.title)}{after_name}\n{state_line(a)}"
    offered = shows_cancel_button(a.status, a.last_code, final=a.final, stopping=a.stopping)
    button = cancel_button(a.publish_id, a.title) if offered else None
    return section(text, button)


LIST_BLOCKS = 50  # Slack's limit for a message
HELD_SHOWN = 10  # held uploads take two blocks each (the row, then Cancel / Start now)


def in_flight_blocks(
    items: Sequence[AnnouncedView],
    held: Sequence[HeldView],
    room: int,
    after_name=None,
    awaiting: Sequence[HeldView] = (),
    user_id: str = "",
) -> list[dict]:
    """Uploads waiting for approval (those waiting for `user_id` first), held uploads
    (soonest first), then the uploads still running, in at most `room` blocks; a last line
    counts any left out."""
    blocks: list[dict] = []
    waiting_shown = list(awaiting[: min(HELD_SHOWN, max(0, (room - 3) // 2))])
    if waiting_shown:
        blocks.append(section(f"*Waiting for approval* ({len(awaiting)}):"))
        for h in waiting_shown:
            blocks.extend(waiting_rows(h, user_id))
    held_shown = list(held[: min(HELD_SHOWN, max(0, (room - len(blocks) - 3) // 2))])
    if held_shown:
        blocks.append(section(f"*Held, not sent to TikTok yet* ({len(held)}):"))
        for h in held_shown:
            blocks.extend(held_rows(h))
    if items:
        blocks.append(section(f"*Uploads still running* ({len(items)}):"))
    running = items[: max(0, room - len(blocks) - 1)]
    for a in running:
        blocks.append(upload_row(a, after_name(a) if after_name else ""))
    left_out = (
        len(awaiting) - len(waiting_shown) + len(held) - len(held_shown) + len(items) - len(running)
    )
    if left_out:
        blocks.append(context(f"{left_out} more not shown here."))
    return blocks


def list_message(
    items: Sequence[AnnouncedView],
    now: float,
    hidden_unknown: bool = False,
    held: Sequence[HeldView] = (),
    awaiting: Sequence[HeldView] = (),
    user_id: str = "",
) -> Message:
    """`list`: uploads waiting for approval, held uploads and uploads in flight, in channels
    the person can see.
    `hidden_unknown`: some were hidden because Slack couldn't be asked who may see their
    channel."""
    if not items and not held and not awaiting:
        text = (
            NONE_SHOWN
            if hidden_unknown
            else "No announced uploads are still running or held in channels you can see. "
            "Nothing to cancel."
        )
        return message(text, [section(text)])

    def announced_ago(a: AnnouncedView) -> str:
        age_min = max(0, int((now - a.created_at) // 60))
        if age_min < 1:
            age = "just now"
        elif age_min < 120:
            age = f"{age_min} min ago"
        else:
            age = f"{age_min // 60} h ago"
        return f" \u2014 announced {age}"

    room = LIST_BLOCKS - (1 if hidden_unknown else 0)
    blocks = in_flight_blocks(items, held, room, announced_ago, awaiting, user_id)
    if hidden_unknown:
        blocks.append(context(HIDDEN_NOTE))
    counts = []
    if awaiting:
        counts.append(f"{len(awaiting)} waiting for approval")
    if held:
        counts.append(f"{len(held)} held")
    if items:
        counts.append(f"{len(items)} still running")
    return message(", ".join(counts), blocks)
