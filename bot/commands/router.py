"""What `/tiktok-cancel <text>` does: parse, dispatch to the one function per subcommand,
and return the message to show. No match gives help; no traceback ever leaves here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot import messages, metrics
from bot.accounts.linking import LinkingService
from bot.accounts.team_accounts import TeamAccounts
from bot.accounts.tokens import TokenService
from bot.accounts.workspace_settings import SettingsChange, WorkspaceSettingsService
from bot.actor import Actor
from bot.commands.parser import SUBCOMMANDS, Parsed, parse
from bot.tiktok.catalog import CATALOG
from bot.uploads.cancel import CancelService
from bot.uploads.in_flight import InFlightUploads
from bot.uploads.private_uploads import PrivateUploads
from bot.uploads.status import StatusService
from storage.links import LinkUnreadable

AdminsOf = Callable[[str], Awaitable[frozenset[str]]]

log = logging.getLogger(__name__)

# What /metrics counts commands by: the subcommands, and "usage" for one the bot couldn't read.
COMMAND_KINDS = frozenset((*SUBCOMMANDS, "usage"))
metrics.commands.prebind(*((kind,) for kind in sorted(COMMAND_KINDS)))
metrics.replies.prebind(*((kind,) for kind in sorted(COMMAND_KINDS)))


class CommandRouter:
    def __init__(
        self,
        cancels: CancelService,
        statuses: StatusService,
        linking: LinkingService,
        tokens: TokenService,
        admins_of: AdminsOf,
        in_flight: InFlightUploads,
        teams: TeamAccounts,
        private: PrivateUploads,
        settings: WorkspaceSettingsService,
    ):
        self.cancels = cancels
        self.statuses = statuses
        self.linking = linking
        self.tokens = tokens
        self.admins_of = admins_of  # a workspace's named bot admins
        self.in_flight = in_flight
        self.teams = teams
        self.private = private
        self.settings = settings

    async def handle(self, actor: Actor, text: str) -> messages.Message:
        parsed = parse(text)
        metrics.command(parsed.name if parsed.name in COMMAND_KINDS else metrics.OTHER)
        admins: frozenset[str] = frozenset()
        try:
            admins = await self.admins_of(actor.team_id)
            return await self._dispatch(actor, parsed, admins)
        except Exception:
            log.exception("command.failed")
            about = parsed.publish_id if parsed.name == "cancel" else ""
            return messages.internal_problem_message(about, admins)

    async def _dispatch(
        self, actor: Actor, parsed: Parsed, admins: frozenset[str]
    ) -> messages.Message:
        match parsed.name:
            case "help":
                return messages.help_message()
            case "usage":
                return messages.usage_message(parsed.problem, parsed.word, parsed.suggestion)
            case "cancel":
                outcome = await self.cancels.cancel(
                    actor, parsed.publish_id, parsed.reason, parsed.account
                )
                hidden = await self.private.hidden_in(actor, outcome.channel)
                return await self.private.outcome_message(actor, outcome, admins, hidden)
            case "list":
                shown = await self.in_flight.for_user(actor.team_id, actor.user_id)
                return messages.list_message(
                    shown.announced,
                    time.time(),
                    shown.hidden_unknown,
                    shown.held,
                    awaiting=shown.awaiting,
                    user_id=actor.user_id,
                )
            case "accounts":
                is_admin, views = await self.teams.visible_to(actor)
                return messages.accounts_message(is_admin, views, admins)
            case "team":
                return await self._team(actor, parsed, admins)
            case "settings":
                change = await self._settings(actor, parsed)
                return messages.settings_change_message(
                    parsed.action, change, admins, parsed.users, parsed.channel
                )
            case "status":
                hidden = asyncio.ensure_future(self.private.hidden_from(actor, parsed.publish_id))
                outcome = await self.statuses.status(actor, parsed.publish_id)
                return await self.private.outcome_message(actor, outcome, admins, await hidden)
            case "connect":
                return messages.connect_message(await self.linking.connect_url(actor))
            case "disconnect":
                result = await self.linking.disconnect(actor.team_id, actor.user_id)
                return messages.disconnect_message(result.code, result.display_name)
            case "whoami":
                return await self._whoami(actor)
            case "explain":
                return messages.explain_message(self._catalog_code(parsed.code), admins)
        return messages.help_message()

    async def _team(self, actor: Actor, parsed: Parsed, admins: frozenset[str]) -> messages.Message:
        if parsed.action == "approvers":
            rule = await self.teams.set_approvers(
                actor, parsed.account, parsed.approvers, parsed.needed
            )
            return messages.approvers_message(
                rule.code, rule.account, rule.approvers, rule.needed, rule.previous, admins
            )
        if parsed.action == "connect":
            change = await self.teams.connect(actor, parsed.account)
            if change.code == "ok":
                return messages.team_connect_message(parsed.account, change.connect_url)
        elif parsed.action == "remove":
            change = await self.teams.remove(actor, parsed.account)
        else:
            give = parsed.action == "grant"
            change = await self.teams.change_grants(actor, parsed.account, parsed.users, give)
        return messages.team_change_message(
            parsed.action,
            change.code,
            parsed.account,
            change.users,
            change.unchanged,
            admins,
        )

    async def _settings(self, actor: Actor, parsed: Parsed) -> SettingsChange:
        match parsed.action:
            case "admins":
                return await self.settings.set_admins(actor, parsed.users)
            case "audit":
                return await self.settings.set_audit_channel(actor, parsed.channel)
            case "pipeline_token":
                return await self.settings.make_pipeline_token(actor)
            case "pipeline_token_revoke":
                return await self.settings.revoke_pipeline_token(actor, parsed.token_id)
        return await self.settings.view_for(actor)

    @staticmethod
    def _catalog_code(requested: str) -> str:
        for candidate in (requested, requested.lower(), requested.upper()):
            if candidate in CATALOG:
                return candidate
        return requested

    async def _whoami(self, actor: Actor) -> messages.Message:
        """Which account acts, when and how it was linked; or that a link stopped working."""
        tokens = self.tokens
        try:
            link = await tokens.load(actor.team_id, "user", actor.user_id)
        except LinkUnreadable:
            return messages.link_unreadable_message(await self.linking.connect_url(actor))
        if link is not None:
            teams = await tokens.store.run(
                tokens.links.team_links_granted_to, actor.team_id, actor.user_id
            )
            return messages.whoami_message(messages.LinkView.of(link), teams)
        forgotten = await tokens.forgotten(actor.team_id, "user", actor.user_id)
        url = await self.linking.connect_url(actor)
        if forgotten is not None:
            return messages.link_forgotten_message(messages.ForgottenView.of(forgotten), url)
        return messages.not_linked_message(url)
