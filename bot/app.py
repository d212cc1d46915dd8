"""Wiring: build the services, the Bolt AsyncApp and the aiohttp server; run in either mode.

HTTP mode serves Slack on `POST /slack/events`; Socket Mode (SLACK_APP_TOKEN set) connects
out with Bolt's aiohttp Socket Mode handler. The bot's own routes run on HOST:PORT in both.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.link_notices import LinkNotices
from bot.accounts.linking import LinkingService
from bot.accounts.parked_prune import ParkedPrune
from bot.accounts.team_accounts import AdminCheck, TeamAccounts
from bot.accounts.tokens import TokenService
from bot.commands.home import HomeService
from bot.commands.router import CommandRouter
from bot.services import ButtonService, Services
from bot.settings import Settings
from bot.slack.output import SlackOut, retry_handlers
from bot.slack.visibility import ChannelVisibility
from bot.tiktok.client import TikTokClient
from bot.uploads.announcing import AnnouncementService
from bot.uploads.cancel import CancelService
from bot.uploads.cancel_following import FollowedCancels
from bot.uploads.held import HeldScheduler, HeldUploads
from bot.uploads.in_flight import InFlightUploads
from bot.uploads.polling import StatusPoller
from bot.uploads.private_uploads import PrivateUploads
from bot.uploads.status import StatusService
from bot.uploads.webhooks import WebhookReceiver
from handlers import add_routes, register_actions, register_command, register_events
from handlers.http_guard import MAX_BODY_BYTES, body_guard, server_options
from storage import leases
from storage.db import Store
from storage.links import Links

log = logging.getLogger(__name__)


async def build_services(settings: Settings) -> Services:
    """Every part, sharing one aiohttp session; call inside the running event loop."""
    store = Store(settings.store_url)
    await store.open()  # first: a database that can't be opened leaves no session behind
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
    tiktok = TikTokClient.from_settings(session, settings)
    tokens = TokenService(store, Links(Fernet(settings.token_encryption_key.encode())), tiktok)
    linking = LinkingService(settings, store, tiktok, tokens)
    cancels = CancelService(settings, store, tiktok, tokens, linking)
    statuses = StatusService(settings, store, tiktok, tokens, linking)
    slack_client = AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=retry_handlers(),
    )
    slack = SlackOut(slack_client, session, settings.audit_channel)
    announcements = AnnouncementService(store, slack)
    cancels.listeners.append(announcements.after_cancel)
    follows = FollowedCancels(store, slack, tokens)  # unannounced uploads' accepted cancels
    poller = StatusPoller(
        store,
        tiktok,
        tokens,
        announcements,
        request_deadline=settings.cancel_deadline,
        base_delay=settings.retry_base_delay,
        follows=follows,
    )
    announcements.on_new.append(poller.wake)
    cancels.on_followed.append(poller.wake)
    teams = TeamAccounts(store, tokens, linking, AdminCheck(settings.admin_users, slack))
    # one memory of who sees which channel, for `list`, the Home tab, status and cancel
    visibility = ChannelVisibility(slack_client)
    in_flight = InFlightUploads(store, visibility)
    private = PrivateUploads(store, visibility)
    held = HeldUploads(
        store,
        slack,
        tiktok,
        tokens,
        announcements,
        teams.admins,
        settings.retry_base_delay,
        settings.held_stale_starting_s,
    )
    held_scheduler = HeldScheduler(held, settings.held_poll_interval)
    held.on_new.append(held_scheduler.wake)
    return Services(
        settings=settings,
        session=session,
        store=store,
        tiktok=tiktok,
        tokens=tokens,
        linking=linking,
        cancels=cancels,
        statuses=statuses,
        router=CommandRouter(
            cancels,
            statuses,
            linking,
            tokens,
            settings.admin_users,
            in_flight,
            teams,
            private,
        ),
        buttons=ButtonService(cancels, store, private, settings.admin_users),
        slack=slack,
        announcements=announcements,
        webhooks=WebhookReceiver(
            settings.tiktok_client_secret,
            store,
            announcements,
            tokens,
            LinkNotices(store, slack, settings.admin_users),
            follows,
        ),
        poller=poller,
        teams=teams,
        home=HomeService(store, tokens, linking, teams, in_flight, slack),
        held=held,
        held_scheduler=held_scheduler,
        parked_prune=ParkedPrune(
            store, tiktok, tokens.links.fernet, settings.parked_prune_interval
        ),
    )


class CachedAuthorize:
    """Bolt's authorize: the bot's one `auth.test`, remembered for the process by SlackOut."""

    def __init__(self, slack: SlackOut):
        self.slack = slack

    async def result(self) -> AuthorizeResult:
        identity = await self.slack.identity()
        return AuthorizeResult(
            enterprise_id=identity.get("enterprise_id"),
            team_id=identity.get("team_id"),
            bot_token=self.slack.client.token,
            bot_id=identity.get("bot_id"),
            bot_user_id=identity.get("user_id"),
        )

    def for_bolt(self):
        """A plain function: Bolt passes arguments by the names a function declares."""

        async def authorize(team_id: str | None = None) -> AuthorizeResult:
            return await self.result()

        return authorize

    async def warm(self) -> bool:
        try:
            await self.result()
        except Exception as exc:
            log.warning("slack.auth_test_failed", extra={"error": type(exc).__name__})
            return False
        return True


def build_bolt(services: Services, authorize: CachedAuthorize) -> AsyncApp:
    settings = services.settings
    client = AsyncWebClient(
        base_url=settings.slack_api_url, session=services.session, retry_handlers=retry_handlers()
    )
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        authorize=authorize.for_bolt(),
        logger=logging.getLogger("bolt"),
    )
    register_command(app, services)
    register_actions(app, services)
    register_events(app, services)
    return app


class Bot:
    """The running bot. `await start()` serves; `await stop()` drains in-flight work first.
    `middlewares` run before the bot's own on its HTTP server (the sandbox checks Host)."""

    def __init__(self, settings: Settings, middlewares=()):
        self.settings = settings
        self.middlewares = tuple(middlewares)
        self.services: Services | None = None
        self.bolt: AsyncApp | None = None
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None

    async def start(self) -> None:
        settings = self.settings
        services = await build_services(settings)
        self.services = services
        if services.store.dialect == "sqlite":  # one process owns a SQLite file: whatever
            await services.store.run(leases.clear)  # it held before a restart is dead work
        else:  # replicas share the table: only leases that ran out an hour ago go
            await services.store.run(leases.prune)
        authorize = CachedAuthorize(services.slack)
        self.bolt = build_bolt(services, authorize)
        await authorize.warm()
        services.poller.start()
        if services.held_scheduler is not None:
            services.held_scheduler.start()
        if services.parked_prune is not None:
            services.parked_prune.start()
        web_app = web.Application(
            client_max_size=MAX_BODY_BYTES + 1,
            middlewares=[*self.middlewares, body_guard(settings.body_timeout)],
        )
        add_routes(web_app, services, None if settings.socket_mode else self.bolt)
        self._runner = web.AppRunner(
            web_app, access_log=None, **server_options(settings.header_timeout)
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.host, settings.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if settings.socket_mode:
            self._socket = AsyncSocketModeHandler(
                self.bolt, settings.slack_app_token, web_client=services.slack.client
            )
            await self._socket.connect_async()
        log.info(
            "bot.started",
            extra={"mode": "socket" if settings.socket_mode else "http", "port": self.port},
        )

    async def stop(self) -> None:
        """Stop taking new work, finish what is under way, then release everything."""
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            for site in list(self._runner.sites):
                await site.stop()
        if self.services is not None:
            await self.services.drain()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.services is not None:
            await self.services.close()
        log.info("bot.stopped")
