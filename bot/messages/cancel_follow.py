"""The direct message to whoever asked to cancel an upload the bot did not announce, once
TikTok has said how that cancel ended (cancelled, or posted / sent to the inbox anyway, with
how to delete it), or once we stopped waiting for TikTok's word (unknown, and how to check).

The ending is explained by the same catalog entry the announcement's thread uses, with the
reader as the one who asked ("even though you asked to cancel it").
"""

from __future__ import annotations

from bot.messages.blocks import CMD, Message, code, context, escape, message, section, when
from bot.messages.outcomes import Words, explanation_blocks
from bot.tiktok.catalog import explain
from bot.tiktok.rules import ending_code
from storage.announcements import GIVE_UP_AFTER_S
from storage.followed import FollowedCancel

ENDINGS_NAMING_THE_ASKER = ("posted_despite_cancel", "inbox_despite_cancel")


def _context(f: FollowedCancel) -> dict:
    account = f"TikTok account: {escape(f.account)}" if f.account else ""
    return context(f"Upload {code(f.publish_id)}", account, f"you asked {when(f.asked_at)}")


def told_ending(f: FollowedCancel) -> str:
    """What a DM about `f` would say now, as a code: its ending, or "unknown"."""
    if not f.final:
        return "unknown"
    return ending_code(f.status, f.fail_reason, f.user_id)


def cancel_ending_dm(f: FollowedCancel) -> Message:
    """TikTok's word on a followed cancel: the ending explained, to the person who asked."""
    shown = told_ending(f)
    words = Words(f.publish_id, "", "check", f.account, code=shown, by="you")
    headline, blocks = explanation_blocks(explain(shown), words)
    if shown not in ENDINGS_NAMING_THE_ASKER:
        verb = "confirmed it" if shown == "publish_cancelled" else "ended it this way"
        confirmed = f"; TikTok {verb} {when(f.final_at)}" if f.final_at else ""
        blocks.insert(1, section(f"You asked TikTok to cancel it {when(f.asked_at)}{confirmed}."))
    blocks.append(_context(f))
    return message(headline, blocks)


def cancel_unknown_dm(f: FollowedCancel) -> Message:
    """Polling gave up before TikTok said how the cancel ended: unknown, and how to check."""
    quoted = escape(f.publish_id).replace("`", "'")
    headline = f"TikTok hasn't said how your cancel of upload `{quoted}` ended."
    hours = f"{GIVE_UP_AFTER_S / 3600:g} hours"
    what = (
        f"You asked TikTok to cancel it {when(f.asked_at)} and TikTok said it would try. We "
        f"kept asking TikTok for {hours} and it never said whether it stopped the upload, so "
        "we stopped checking. If TikTok tells us later, we'll message you again."
    )
    blocks = [
        section(f"*{headline}*\n{what}"),
        section("*Still running:* unknown \u2014 TikTok hasn't said"),
        section(
            f"*Next:* check where it is with `{CMD} status {quoted}`. If it went live and "
            "shouldn't have, delete the post in the TikTok app."
        ),
        _context(f),
    ]
    return message(headline, blocks)
