"""The buttons a person clicks in Slack: Cancel upload (and its retry after linking), the
button's door to the one cancel function; and where a click's answer goes.

`Buttons` reads a button's value and cancels; `ClickReplies` answers ephemerally where Slack
gave a response_url, else (the App Home) by DM, then republishes the Home.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from bot import messages
from bot.actor import Actor
from bot.commands.home import HomeService
from bot.commands.parser import check_id
from bot.slack.output import SlackOut
from bot.uploads.cancel import CancelService
from bot.uploads.private_uploads import PrivateUploads
from storage import retries
from storage.db import Store

log = logging.getLogger(__name__)


class Buttons:
    def __init__(
        self,
        cancels: CancelService,
        store: Store,
        private: PrivateUploads,
        admins_of: Callable[[str], Awaitable[frozenset[str]]],
    ):
        self.cancels = cancels
        self.store = store
        self.private = private
        self.admins_of = admins_of  # a workspace's named bot admins

    @staticmethod
    def read_value(value: str) -> tuple[str, str]:
        """(publish_id, reason) from a button value: a bare id, or JSON from the retry button."""
        if value.startswith("{"):
            try:
                data = json.loads(value)
            except ValueError:
                return "", ""
            if isinstance(data, dict):
                return str(data.get("publish_id") or ""), str(data.get("reason") or "")
            return "", ""
        return value, ""

    async def retry_clicked(self, actor: Actor, key: str) -> messages.Message:
        """The "Cancel it now" button after linking: its key names a cancel this person asked."""
        found = await self.store.run(retries.recall, key, actor.team_id, actor.user_id)
        if found is None:
            return messages.retry_gone_message()
        return await self._cancel(actor, *found)

    async def cancel_clicked(self, actor: Actor, value: str) -> messages.Message:
        return await self._cancel(actor, *self.read_value(value))

    async def _cancel(self, actor: Actor, publish_id: str, reason: str) -> messages.Message:
        parsed = check_id("cancel", publish_id, reason)
        if parsed.problem:
            return messages.stale_button_message()
        admins: frozenset[str] = frozenset()
        try:
            admins = await self.admins_of(actor.team_id)
            outcome = await self.cancels.cancel(actor, parsed.publish_id, parsed.reason)
            hidden = await self.private.hidden_in(actor, outcome.channel)
            return await self.private.outcome_message(actor, outcome, admins, hidden)
        except Exception:
            log.exception("button.failed")
            return messages.internal_problem_message(parsed.publish_id, admins)


class ClickReplies:
    """Where a click's answer goes."""

    def __init__(self, slack: SlackOut, cancels: CancelService, home: HomeService):
        self.slack = slack
        self.cancels = cancels
        self.home = home

    async def send(self, response_url: str, actor: Actor, message: messages.Message) -> None:
        """Ephemerally where Slack gave a response_url, else by DM (App Home), then the Home
        republished once the cancel's listeners are done (it shows the announcement updated)."""
        if response_url:
            await self.slack.respond(response_url, message)
            return
        await self.slack.dm(actor.team_id, actor.user_id, message)
        await self.cancels.listeners_done()
        await self.home.publish(actor)
