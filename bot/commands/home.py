"""The App Home tab: built from the same services as everything else, published per user
(with the workspace's settings for its admins)."""

from __future__ import annotations

import logging
import time

from bot import messages
from bot.accounts.linking import LinkingService
from bot.accounts.team_accounts import TeamAccounts
from bot.accounts.tokens import TokenService
from bot.accounts.workspace_settings import WorkspaceSettingsService
from bot.actor import Actor
from bot.slack.output import SlackOut
from bot.uploads.in_flight import InFlightUploads
from storage import audit
from storage.db import Store
from storage.links import LinkUnreadable

log = logging.getLogger(__name__)


class HomeService:
    def __init__(
        self,
        store: Store,
        tokens: TokenService,
        linking: LinkingService,
        teams: TeamAccounts,
        in_flight: InFlightUploads,
        slack: SlackOut,
        settings: WorkspaceSettingsService,
    ):
        self.store = store
        self.tokens = tokens
        self.linking = linking
        self.teams = teams
        self.in_flight = in_flight
        self.slack = slack
        self.settings = settings

    async def view(self, actor: Actor) -> dict:
        tokens = self.tokens
        try:
            link = await tokens.load(actor.team_id, "user", actor.user_id)
        except LinkUnreadable:
            link = None
        forgotten = link is None and (
            await tokens.forgotten(actor.team_id, "user", actor.user_id) is not None
        )
        connect_url = "" if link else await self.linking.connect_url(actor)
        is_admin, teams = await self.teams.visible_to(actor)
        uploads = await self.in_flight.for_user(actor.team_id, actor.user_id)
        rows = await self.store.run(audit.recent_for_user, actor.team_id, actor.user_id)
        workspace = await self.settings.view(actor.team_id) if is_admin else None
        return messages.home_view(
            messages.LinkView.of(link) if link else None,
            connect_url,
            is_admin,
            teams,
            uploads.announced,
            rows,
            time.time(),
            uploads_unknown=uploads.hidden_unknown,
            held=uploads.held,
            awaiting=uploads.awaiting,
            user_id=actor.user_id,
            link_forgotten=forgotten,
            workspace=workspace,
        )

    async def publish(self, actor: Actor) -> None:
        try:
            client = await self.slack.client(actor.team_id)
            await client.views_publish(user_id=actor.user_id, view=await self.view(actor))
        except Exception as exc:
            log.warning("slack.home_publish_failed", extra={"error": type(exc).__name__})
