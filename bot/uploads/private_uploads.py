"""What a person is shown about an upload announced in a channel they can't see.

`list` and the App Home leave such uploads out (bot/uploads/in_flight.py). The doors that take an
upload's ID — `status <id>`, `cancel <id>`, the Cancel buttons — still act on it (TikTok
decides whether the person's account may), but the answer shows only the ID they gave: no
title, not who else asked to cancel it, and no pointer to an announcement or thread they
can't open. Whether they can see the channel is asked of Slack like `list` does; when Slack
can't say, the answer shows only the ID too (fail closed).

The outcome itself is untouched: the announcement and its thread, which the channel's members
see, still get the full story.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from bot import messages
from bot.actor import Actor
from bot.interactions import COMMAND as CMD
from bot.messages.blocks import escape
from bot.outcome import Outcome
from bot.slack.visibility import ChannelVisibility
from storage import announcements
from storage.db import Store

log = logging.getLogger(__name__)


def outsider_outcome(outcome: Outcome) -> Outcome:
    """`outcome` with what the announcement told us about the upload taken out."""
    data = {k: v for k, v in outcome.data.items() if k != "by"}
    return replace(outcome, title="", data=data)


def ask_status(publish_id: str) -> str:
    """Where TikTok's final word will show for someone who can't see the announcement."""
    quoted = escape(publish_id).replace("`", "'")
    return f"check with `{CMD} status {quoted}` in a minute to see whether TikTok stopped it"


class PrivateUploads:
    def __init__(self, store: Store, visibility: ChannelVisibility):
        self.store = store
        self.visibility = visibility

    async def hidden_from(self, actor: Actor, publish_id: str) -> bool:
        """True when `publish_id` was announced in a channel `actor` can't see (or Slack
        couldn't say); False when it wasn't announced or they can see it."""
        try:
            announced = await self.store.run(announcements.get, actor.team_id, publish_id)
        except Exception as exc:  # can't tell: show only the ID (never raises, see callers)
            log.warning("private_uploads.unknown", extra={"error": type(exc).__name__})
            return True
        return await self.hidden_in(actor, announced.channel if announced else "")

    async def hidden_in(self, actor: Actor, channel: str) -> bool:
        """True when `actor` can't see `channel` (or Slack couldn't say); False when they can
        or there is no channel (the upload wasn't announced). A cancel's outcome carries its
        announcement's channel, read in the cancel's own trip to the database."""
        if not channel:
            return False
        try:
            async with asyncio.timeout(self.visibility.timeout):
                seen = await self.visibility.can_see(actor.team_id, actor.user_id, channel)
        except Exception as exc:  # can't tell: show only the ID (never raises, see callers)
            log.warning("private_uploads.unknown", extra={"error": type(exc).__name__})
            return True
        return seen is not True

    async def outcome_message(
        self, actor: Actor, outcome: Outcome, admins=(), hidden: bool | None = None
    ) -> messages.Message:
        """The outcome for the person who asked, as much of it as they may see. `hidden`:
        already asked (see `hidden_from`)."""
        if hidden is None:
            hidden = await self.hidden_from(actor, outcome.publish_id)
        if not hidden:
            return messages.outcome_message(outcome, admins)
        shown = outsider_outcome(outcome)
        return messages.outcome_message(shown, admins, confirm=ask_status(outcome.publish_id))
