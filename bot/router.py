"""What `/tiktok-cancel <text>` does: parse, dispatch to the one function per subcommand,
and return the message to show. No match gives help; no traceback ever leaves here.
"""

from __future__ import annotations

import logging

from bot import messages
from bot.cancel import CancelService
from bot.catalog import CATALOG
from bot.command_parser import parse
from bot.linking import LinkingService
from bot.outcome import Actor
from bot.status import StatusService
from storage.links import LinkUnreadable

log = logging.getLogger(__name__)


class CommandRouter:
    def __init__(self, cancels: CancelService, statuses: StatusService, linking: LinkingService):
        self.cancels = cancels
        self.statuses = statuses
        self.linking = linking

    async def handle(self, actor: Actor, text: str) -> messages.Message:
        try:
            return await self._dispatch(actor, text)
        except Exception:
            log.exception("command.failed")
            return messages.internal_problem_message()

    async def _dispatch(self, actor: Actor, text: str) -> messages.Message:
        parsed = parse(text)
        match parsed.name:
            case "help":
                return messages.help_message()
            case "usage":
                return messages.usage_message(parsed)
            case "cancel":
                outcome = await self.cancels.cancel(actor, parsed.publish_id, parsed.reason)
                return messages.outcome_message(outcome)
            case "status":
                outcome = await self.statuses.status(actor, parsed.publish_id)
                return messages.outcome_message(outcome)
            case "connect":
                return messages.connect_message(await self.cancels.connect_url(actor))
            case "disconnect":
                result = await self.linking.disconnect(actor.team_id, actor.user_id)
                return messages.disconnect_message(result.code, result.display_name)
            case "whoami":
                return await self._whoami(actor)
            case "explain":
                return messages.explain_message(self._catalog_code(parsed.code))
        return messages.help_message()

    @staticmethod
    def _catalog_code(requested: str) -> str:
        for candidate in (requested, requested.lower(), requested.upper()):
            if candidate in CATALOG:
                return candidate
        return requested

    async def _whoami(self, actor: Actor) -> messages.Message:
        try:
            link = await self.cancels.tokens.load(actor.team_id, "user", actor.user_id)
        except LinkUnreadable:
            url = await self.cancels.connect_url(actor)
            return messages.link_unreadable_message(url)
        if link is None:
            return messages.not_linked_message(await self.cancels.connect_url(actor))
        return messages.whoami_message(
            link.display_name,
            link.open_id,
            link.scope,
            link.access_expires_at,
            link.refresh_expires_at,
        )
