"""The bot's parts, built once and shared: what listeners and routes call into.

`Services` holds the one aiohttp session, the store, the TikTok client and the use cases.
`ButtonService` is the button's door to the one cancel function.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field

import aiohttp

from bot import messages
from bot.accounts.linking import LinkingService, LinkResult
from bot.accounts.parked_prune import ParkedPrune
from bot.accounts.team_accounts import TeamAccounts
from bot.accounts.tokens import TokenService
from bot.actor import Actor
from bot.background import Background
from bot.commands.home import HomeService
from bot.commands.parser import check_id
from bot.commands.router import CommandRouter
from bot.settings import Settings
from bot.slack.output import SlackOut
from bot.tiktok.client import TikTokClient
from bot.uploads.announcing import AnnouncementService
from bot.uploads.cancel import CancelService
from bot.uploads.held import HeldScheduler, HeldUploads
from bot.uploads.polling import StatusPoller
from bot.uploads.private_uploads import PrivateUploads
from bot.uploads.status import StatusService
from bot.uploads.webhooks import WebhookReceiver
from storage import retries
from storage.db import Store

log = logging.getLogger(__name__)


class ButtonService:
    def __init__(
        self,
        cancels: CancelService,
        store: Store,
        private: PrivateUploads,
        admins: frozenset[str] = frozenset(),
    ):
        self.cancels = cancels
        self.store = store
        self.private = private
        self._admins = admins

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
        hidden = asyncio.ensure_future(self.private.hidden_from(actor, parsed.publish_id))
        try:
            outcome = await self.cancels.cancel(actor, parsed.publish_id, parsed.reason)
            return await self.private.outcome_message(actor, outcome, self._admins, await hidden)
        except Exception:
            log.exception("button.failed")
            return messages.internal_problem_message(parsed.publish_id, self._admins)


@dataclass
class Services:
    settings: Settings
    session: aiohttp.ClientSession
    store: Store
    tiktok: TikTokClient
    tokens: TokenService
    linking: LinkingService
    cancels: CancelService
    statuses: StatusService
    router: CommandRouter
    buttons: ButtonService
    slack: SlackOut
    announcements: AnnouncementService
    webhooks: WebhookReceiver
    poller: StatusPoller
    teams: TeamAccounts
    home: HomeService
    _background: Background = field(default_factory=lambda: Background("services"))
    _listeners: set[asyncio.Task] = field(default_factory=set)  # listeners working after ack
    held: HeldUploads | None = None  # held uploads (POST /uploads) and their scheduler
    held_scheduler: HeldScheduler | None = None
    parked_prune: ParkedPrune | None = None  # parked tokens of expired confirm pages

    def spawn(self, coro) -> None:
        self._background.spawn(coro)

    def after_link(self, result: LinkResult) -> None:
        """Tell the person in Slack which TikTok account is linked; offer to retry a cancel."""
        if result.pending is None or result.link is None:
            return
        link = result.link
        if link.kind == "team":
            message = messages.team_linked_dm(link.owner, link.display_name, link.open_id)
        else:
            message = messages.linked_dm(
                link.display_name,
                link.open_id,
                result.retry_key,
                result.pending.retry_publish_id,
            )
        self.spawn(self.slack.dm(result.pending.user_id, message))

    async def reply_to_click(self, body: dict, actor: Actor, message: messages.Message) -> None:
        """Answer a click: ephemerally where Slack gave a response_url, else by DM (App Home)."""
        if body.get("response_url"):
            await self.slack.respond(body["response_url"], message)
            return
        await self.slack.dm(actor.user_id, message)
        await self.cancels.listeners_done()  # the Home shows the announcement as updated
        await self.home.publish(actor)

    async def close(self) -> None:
        """Release the shared session and the database (after `drain`)."""
        await self.session.close()
        self.store.close()

    @contextlib.asynccontextmanager
    async def working(self):
        """Marks a listener's work after `ack()`, so shutdown waits for it to reach Slack."""
        task = asyncio.current_task()
        if task is not None:
            self._listeners.add(task)
        try:
            yield
        finally:
            self._listeners.discard(task)

    def _pending(self) -> list[asyncio.Task]:
        return [
            *self._listeners,
            *self._background.pending(),
            *self.cancels.pending(),
            *self.webhooks.pending(),
        ]

    async def drain(self, timeout: float = 30.0) -> None:
        """Finish what is under way: answers, audit posts, webhook updates. New work that
        finishing work starts (an audit post after an answer) is waited for too."""
        await self.poller.stop()
        if self.held_scheduler is not None:
            await self.held_scheduler.stop()
        if self.parked_prune is not None:
            await self.parked_prune.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while pending := [t for t in self._pending() if t is not asyncio.current_task()]:
                    await asyncio.gather(*pending, return_exceptions=True)
