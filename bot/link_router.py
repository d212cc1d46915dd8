"""The command router, with the link-aware answers: cancel and status outcomes that name the
admins when our own settings are at fault, and `whoami` that says when and how an account was
linked, or that a link stopped working (instead of "you haven't linked one yet").

A subclass so `bot/router.py` stays as it is while it is being reworked; fold it in later.
"""

from __future__ import annotations

from bot import link_messages, messages
from bot.command_parser import parse
from bot.outcome import Actor
from bot.router import CommandRouter
from storage.links import LinkUnreadable


class LinkAwareRouter(CommandRouter):
    async def _dispatch(self, actor: Actor, text: str) -> messages.Message:
        parsed = parse(text)
        match parsed.name:
            case "cancel":
                outcome = await self.cancels.cancel(
                    actor, parsed.publish_id, parsed.reason, parsed.account
                )
                return link_messages.outcome_message(outcome, self._admins)
            case "status":
                outcome = await self.statuses.status(actor, parsed.publish_id)
                return link_messages.outcome_message(outcome, self._admins)
            case "whoami":
                return await self._whoami_linked(actor)
        return await super()._dispatch(actor, text)

    async def _whoami_linked(self, actor: Actor) -> messages.Message:
        tokens = self.cancels.tokens
        try:
            link = await tokens.load(actor.team_id, "user", actor.user_id)
        except LinkUnreadable:
            return messages.link_unreadable_message(await self.cancels.connect_url(actor))
        if link is not None:
            teams = await tokens.store.run(
                tokens.links.team_links_granted_to, actor.team_id, actor.user_id
            )
            return link_messages.whoami_message(link, teams)
        forgotten = await tokens.forgotten(actor.team_id, "user", actor.user_id)
        url = await self.cancels.connect_url(actor)
        if forgotten is not None:
            return link_messages.link_forgotten_message(forgotten, url)
        return messages.not_linked_message(url)
