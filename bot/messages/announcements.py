"""Announced uploads: the channel message with its Cancel button, the final-state reply in its
thread, and `list`."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, MarkdownTextObject, SectionBlock

from bot.catalog import explain
from bot.messages.blocks import (
    Message,
    cancel_button,
    code,
    context,
    escape,
    message,
    section,
    upload_name,
    when,
)
from bot.messages.outcomes import CONFIRM_HERE, Words, explanation_blocks
from bot.tiktok_rules import shows_cancel_button
from storage.announcements import Announcement

WAITING = "Waiting for TikTok's first word."


def _words(a: Announcement, code_: str, verb: str = "check", name: str = "this upload") -> Words:
    """Catalog words about an announced upload, inside a message that already names it."""
    return Words(publish_id=a.publish_id, title=a.title, verb=verb, code=code_, name=name)


def _headline(a: Announcement, code_: str, verb: str = "check", name: str = "this upload") -> str:
    return _words(a, code_, verb, name).fill(explain(code_).headline)


def status_line(a: Announcement) -> str:
    if not a.status:
        return "*Status:* announced; waiting for TikTok's first word on it."
    if a.status == "FAILED" and a.fail_reason:  # the reason says it all
        return "*Status:* " + _headline(a, a.fail_reason)
    return "*Status:* " + _headline(a, a.status)


def last_attempt_line(a: Announcement) -> str:
    if not a.last_code:
        return ""
    who = f"<@{a.last_user_id}>" if a.last_user_id else "someone"
    if a.last_code == "ok":
        return f":no_entry_sign: Cancelled by {who} {when(a.last_at)}."
    words = Words(
        publish_id=a.publish_id,
        verb="cancel",
        account="their TikTok account",
        code=a.last_code,
        name="this upload",
    )
    headline = words.fill(explain(a.last_code).headline)
    return f"Last cancel attempt by {who} {when(a.last_at)}: {headline}"


def announcement_message(a: Announcement) -> Message:
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
    if shows_cancel_button(a):
        blocks.append(ActionsBlock(elements=[cancel_button(a.publish_id, a.title)]).to_dict())
    blocks.append(context(f"Upload {code(a.publish_id)}", f"announced {when(a.created_at)}"))
    fallback = f"TikTok upload {escape(a.title or a.publish_id)}"
    return message(fallback, blocks)


def final_state_message(a: Announcement) -> Message:
    """Posted in the thread when the upload reaches a final state."""
    shown = a.fail_reason if a.status == "FAILED" and a.fail_reason else a.status
    words = Words(a.publish_id, a.title, "check", a.account, code=shown, confirm=CONFIRM_HERE)
    headline, blocks = explanation_blocks(explain(shown), words)
    blocks.append(context(f"Upload {code(a.publish_id)}", f"TikTok status: {code(a.status)}"))
    return message(headline, blocks)


def list_message(items: list[Announcement], now: float) -> Message:
    if not items:
        text = "No announced uploads are still running. Nothing to cancel."
        return message(text, [section(text)])
    blocks = [section(f"*Uploads still running* ({len(items)}):")]
    for a in items:
        age_min = max(0, int((now - a.created_at) // 60))
        age = f"{age_min} min ago" if age_min < 120 else f"{age_min // 60} h ago"
        state = _headline(a, a.status, name="it") if a.status else WAITING
        text = f"{upload_name(a.publish_id, a.title)} \u2014 announced {age}\n{state}"
        item = SectionBlock(
            text=MarkdownTextObject(text=text), accessory=cancel_button(a.publish_id, a.title)
        )
        blocks.append(item.to_dict())
    return message(f"{len(items)} uploads still running", blocks[:50])
