"""The direct message to whoever asked to cancel an upload the bot did not announce, once
TikTok has said how that cancel ended (cancelled, or posted / sent to the inbox anyway, with
how to delete it), or once we stopped waiting for TikTok's word (unknown, and how to check).

The ending is explained by the same catalog entry the announcement's thread uses, with the
reader as the one who asked ("even though you asked to cancel it").
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.interactions import COMMAND as CMD
from bot.messages.blocks import Message, code, context, escape, message, section, when
from bot.messages.outcomes import Words, explanation_blocks
from bot.tiktok.catalog import explain
from bot.tiktok.rules import GIVE_UP_AFTER_S, ending_code


@dataclass(frozen=True)
class FollowedView:
    """What the direct message shows of a followed cancel: plain facts, copied by the caller
    from the stored row (`FollowedView.of(row)`)."""

    publish_id: str
    user_id: str  # who asked TikTok to cancel it: the reader
    asked_at: float
    account: str = ""  # the TikTok account that acted, by its display name
    status: str = ""
    fail_reason: str = ""
    final: bool = False
    final_at: float = 0.0

    @classmethod
    def of(cls, row) -> FollowedView:
        """The facts of a stored followed cancel (any record with these names)."""
        return cls(
            publish_id=row.publish_id,
            user_id=row.user_id,
            asked_at=row.asked_at,
            account=row.account,
            status=row.status,
            fail_reason=row.fail_reason,
            final=row.final,
            final_at=row.final_at,
        )


ENDINGS_NAMING_THE_ASKER = ("posted_despite_cancel", "inbox_despite_cancel")


def _context(f: FollowedView) -> dict:
    account = f"TikTok account: {escape(f.account)}" if f.account else ""
    return context(f"Upload {code(f.publish_id)}", account, f"you asked {when(f.asked_at)}")


def told_ending(f: FollowedView) -> str:
    """What a DM about `f` would say now, as a code: its ending, or "unknown"."""
    if not f.final:
        return "unknown"
    return ending_code(f.status, f.fail_reason, f.user_id)


def cancel_ending_dm(f: FollowedView) -> Message:
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


def cancel_unknown_dm(f: FollowedView) -> Message:
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
