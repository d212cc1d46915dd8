"""The App Home tab: built from the same services as everything else, published per user."""

from __future__ import annotations

import logging
import time

from bot import messages
from bot.announcing import AnnouncementService
from bot.cancel import CancelService
from bot.outcome import Actor
from bot.slack_out import SlackOut
from bot.team_accounts import TeamAccounts
from storage import audit
from storage.links import LinkUnreadable

log = logging.getLogger(__name__)


class HomeService:
    def __init__(
        self,
        cancels: CancelService,
        teams: TeamAccounts,
        announcements: AnnouncementService,
        slack: SlackOut,
    ):
        self.cancels = cancels
        self.teams = teams
        self.announcements = announcements
        self.slack = slack

    async def view(self, actor: Actor) -> dict:
        try:
            link = await self.cancels.tokens.load(actor.team_id, "user", actor.user_id)
        except LinkUnreadable:
            link = None
        connect_url = "" if link else await self.cancels.connect_url(actor)
        is_admin, teams = await self.teams.visible_to(actor)
        uploads = await self.announcements.in_flight(actor.team_id)
        rows = await self.cancels.store.run(audit.recent_for_user, actor.team_id, actor.user_id)
        return messages.home_view(link, connect_url, is_admin, teams, uploads, rows, time.time())

    async def publish(self, actor: Actor) -> None:
        try:
            await self.slack.client.views_publish(
                user_id=actor.user_id, view=await self.view(actor)
            )
        except Exception as exc:
            log.warning("slack.home_publish_failed", extra={"error": type(exc).__name__})
