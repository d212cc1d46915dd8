"""Following the cancel of an upload the bot did not announce, to its end.

TikTok's `ok` to a cancel is a promise to try. For an announced upload the announcement and
its thread say how it ended; for any other upload, this tells the person who asked, by direct
message: cancelled, or posted (sent to the inbox) anyway with how to delete it, or — when
polling gave up before TikTok said — that it is unknown and how to check. TikTok's word comes
from the same webhooks and status polls as for announced uploads (`bot.uploads.webhooks`,
`bot.uploads.polling`).

Across replicas: the row moves to TikTok's word by compare-and-write, and each direct message
is claimed first (`told` moves from what was last said to the new ending), so one replica
sends it, once per ending. A crash between the claim and the send loses that message rather
than sending it twice.
"""

from __future__ import annotations

import logging
import time

from bot import messages
from bot.accounts.tokens import TokenService
from bot.slack.output import SlackOut
from bot.tiktok.rules import FINAL_STATUSES
from storage import followed
from storage.db import Store
from storage.followed import FollowedCancel
from storage.links import Link, LinkUnreadable

log = logging.getLogger(__name__)


class FollowedCancels:
    def __init__(self, store: Store, slack: SlackOut, tokens: TokenService):
        self.store = store
        self.slack = slack
        self.tokens = tokens

    async def get(self, team_id: str, publish_id: str) -> FollowedCancel | None:
        return await self.store.run(followed.get, team_id, publish_id)

    async def poll_link(self, f: FollowedCancel) -> Link | None:
        """The link that made the cancel (a person's own, or the team account's) follows it."""
        try:
            return await self.tokens.load(f.team_id, f.link_kind, f.link_owner)
        except LinkUnreadable:
            return None

    async def apply_status(
        self, team_id: str, publish_id: str, status: str, fail_reason: str = ""
    ) -> bool:
        """Move a followed cancel to TikTok's status; True if it is followed (whatever changed).
        At a final state the person who asked is told, once."""
        f = await self.get(team_id, publish_id)
        if f is None:
            return False
        fail_reason = fail_reason if status == "FAILED" else ""
        if (status, fail_reason) != (f.status, f.fail_reason):
            changes: dict = {"status": status, "fail_reason": fail_reason}
            if status in FINAL_STATUSES:
                changes.update(final=True, final_at=time.time(), next_poll_at=None)
            expected = {"status": f.status, "fail_reason": f.fail_reason, "final": f.final}
            updated = await self.store.run(
                followed.update_if, team_id, publish_id, expected, **changes
            )
            f = updated or await self.get(team_id, publish_id)
            if f is None:
                return True
        if f.final:
            await self._tell(f)
        return True

    async def stopped_following(self, f: FollowedCancel) -> None:
        """Polling gave up: say TikTok hasn't said how it ended (unless it is told already)."""
        if not f.final:
            await self._tell(f)

    async def _tell(self, f: FollowedCancel) -> None:
        shown = messages.FollowedView.of(f)
        ending = messages.told_ending(shown)
        if ending == f.told:
            return  # already said (by this replica or another)
        if ending == "unknown" and f.told:
            return  # an ending was told; "unknown" would only take it back
        if not await self.store.run(
            followed.claim_telling, f.team_id, f.publish_id, f.told, ending
        ):
            return  # another replica (or delivery) claimed it
        dm = (
            messages.cancel_unknown_dm(shown)
            if ending == "unknown"
            else messages.cancel_ending_dm(shown)
        )
        await self.slack.dm(f.team_id, f.user_id, dm)
        log.info("followed_cancel.told", extra={"code": ending})
