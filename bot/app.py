"""Wiring, the one composition root: build every part once, hand each listener and route only
the use cases it calls, run in either mode, and stop by finishing what is under way.

HTTP mode serves Slack on `POST /slack/events`; Socket Mode (SLACK_APP_TOKEN set) connects
out with Bolt's aiohttp Socket Mode handler. The bot's own routes run on HOST:PORT in both.
Only this module (and the CLI) imports `handlers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_sdk.web.async_client import AsyncWebClient

from bot import exposition, messages
from bot.accounts.link_notices import LinkNotices
from bot.accounts.linking import LinkingService
from bot.accounts.parked_prune import ParkedPrune
from bot.accounts.pipeline_credentials import PipelineCredentials
from bot.accounts.slack_signin import SIGNIN_PATH, SlackSignIn
from bot.accounts.team_accounts import AdminCheck, TeamAccounts
from bot.accounts.tokens import TokenService
from bot.accounts.uninstall import RetiredAuditPrune, WorkspaceUninstall
from bot.accounts.workspace_settings import WorkspaceSettingsService
from bot.accounts.workspaces import Defaults, Workspaces
from bot.background import Background
from bot.commands.buttons import Buttons, ClickReplies
from bot.commands.home import HomeService
from bot.commands.router import CommandRouter
from bot.health import database_answers
from bot.settings import Settings
from bot.slack.bot_tokens import BotTokenRotation, rotation_client
from bot.slack.install_flow import REDIRECT_PATH, InstallFlow, install_flow
from bot.slack.installation_store import InstallationStore, OAuthStateStore
from bot.slack.metered import MeteredWebClient
from bot.slack.output import SlackOut, WorkspaceClients, retry_handlers
from bot.slack.scopes import BOT_SCOPES
from bot.slack.sign_in import SlackSignInClient
from bot.slack.visibility import ChannelVisibility
from bot.tiktok.client import TikTokClient
from bot.uploads.announcing import AnnouncementService
from bot.uploads.approval_links import ApprovalLinks, public_base
from bot.uploads.approvals import Approvals
from bot.uploads.cancel import CancelService, OutcomeListener
from bot.uploads.cancel_following import FollowedCancels
from bot.uploads.held import HeldScheduler, HeldUploads
from bot.uploads.in_flight import InFlightUploads
from bot.uploads.polling import StatusPoller
from bot.uploads.private_uploads import PrivateUploads
from bot.uploads.status import StatusService
from bot.uploads.webhooks import WebhookReceiver
from handlers.slack import actions, commands, events
from handlers.slack import approvals as approval_listeners
from handlers.slack.socket_mode import TimedSocketModeHandler
from handlers.web import routes, slack_install
from handlers.web.http_guard import MAX_BODY_BYTES, body_guard, server_options
from handlers.web.install_pages import install_page
from storage import account_approvers, leases
from storage.db import Store
from storage.installations import Installations
from storage.links import Links

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parts:
    """What `build_parts` built, kept by the composition root to wire, start and stop them
    (and for tests and the sandbox to drive the loops). Nothing here is handed on whole."""

    settings: Settings
    session: aiohttp.ClientSession
    store: Store
    workspaces: Workspaces  # which workspaces, their bot tokens and their own settings
    pipelines: PipelineCredentials  # which workspace a pipeline request is for
    slack: SlackOut
    tiktok: TikTokClient
    tokens: TokenService
    linking: LinkingService
    signin: SlackSignIn  # many workspaces: the link confirm page's Sign in with Slack
    link_notices: LinkNotices
    cancels: CancelService
    statuses: StatusService
    router: CommandRouter
    buttons: Buttons
    replies: ClickReplies
    announcements: AnnouncementService
    webhooks: WebhookReceiver
    poller: StatusPoller
    teams: TeamAccounts
    workspace_settings: WorkspaceSettingsService  # `settings …`: admins, audit, pipeline tokens
    home: HomeService
    held: HeldUploads  # held uploads (POST /uploads) and their scheduler
    held_scheduler: HeldScheduler
    approvals: Approvals  # approval before posting: the post page, approvals, expiry
    approval_links: ApprovalLinks  # the web post page's per-person links
    parked_prune: ParkedPrune  # parked tokens of expired confirm pages
    uninstall: WorkspaceUninstall  # a workspace that leaves is forgotten
    retired_audit: RetiredAuditPrune  # and its audit deleted AUDIT_RETENTION_DAYS later
    work: Background = field(default_factory=lambda: Background("listener"))  # after ack()


async def build_parts(
    settings: Settings, cancel_listeners: Sequence[OutcomeListener] = ()
) -> Parts:
    """Every part, sharing one aiohttp session; call inside the running event loop.
    `cancel_listeners` are told of every finished cancel, after the announcement's update."""
    store = Store(settings.store_url)
    await store.open()  # first: a database that can't be opened leaves no session behind
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
    tiktok = TikTokClient.from_settings(session, settings)
    fernet = Fernet(settings.token_encryption_key.encode())
    tokens = TokenService(store, Links(fernet), tiktok)
    linking = LinkingService(settings, store, tiktok, tokens)
    installations = Installations(fernet)
    rotation = None
    if settings.many_workspaces:  # one replica at a time rotates a workspace's bot token
        rotation = BotTokenRotation(
            store,
            installations,
            rotation_client(session, settings.slack_api_url),
            settings.slack_client_id or "",
            settings.slack_client_secret or "",
        )
    workspaces = Workspaces(
        store,
        installations,
        Defaults(
            bot_token=settings.slack_bot_token or None,
            admins=settings.admin_users,
            audit_channel=settings.audit_channel,
        ),
        rotation=rotation,
    )
    signin = SlackSignIn(store, None, "")
    if settings.many_workspaces:  # the confirming browser signs in with Slack first
        base = public_base(settings.tiktok_redirect_uri)
        signin = SlackSignIn(
            store,
            SlackSignInClient(
                session,
                settings.slack_api_url,
                settings.slack_client_id or "",
                settings.slack_client_secret or "",
                settings.slack_signin_timeout,
            ),
            base + SIGNIN_PATH if base else "",
        )
    clients = WorkspaceClients(session, settings.slack_api_url, workspaces.bot_token)
    slack = SlackOut(clients, session, workspaces.audit_channel)

    async def home_team() -> str:  # one workspace: the bot token's own
        return str((await slack.identity("")).get("team_id") or "")

    pipelines = PipelineCredentials(
        store,
        many=workspaces.many,
        notify_token=settings.notify_token,
        upload_token=settings.upload_token,
        home_team=home_team,
    )

    # The poller and the held scheduler need the services that wake them, so those are told
    # through these two (bound to the loops once built, below).
    def wake_poller() -> None:
        poller.wake()

    def poller_due_by(at: float) -> None:  # a new cancel to follow, first due at `at`
        poller.wake_by(at)

    def wake_held_scheduler() -> None:
        held_scheduler.wake()

    announcements = AnnouncementService(store, slack, on_new=(wake_poller,))
    cancels = CancelService(
        settings,
        store,
        tiktok,
        tokens,
        linking,
        admins_of=workspaces.admins,
        listeners=(announcements.after_cancel, *cancel_listeners),
        on_followed=(poller_due_by,),
    )
    statuses = StatusService(settings, store, tiktok, tokens, linking)
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
    teams = TeamAccounts(store, tokens, linking, AdminCheck(workspaces.admins, slack))
    workspace_settings = WorkspaceSettingsService(
        store,
        workspaces,
        teams.admins,
        notify_on=bool(settings.notify_token),
        upload_on=bool(settings.upload_token),
        public_url=public_base(settings.tiktok_redirect_uri),
    )
    # one memory of who sees which channel, for `list`, the Home tab, status and cancel
    visibility = ChannelVisibility(slack.client)
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
        on_new=(wake_held_scheduler,),
        approval_rule=lambda team_id, account: store.run(account_approvers.get, team_id, account),
    )
    # The web post page is served where TikTok's OAuth callback is (our one public URL).
    approval_links = ApprovalLinks(store, public_base(settings.tiktok_redirect_uri))
    approvals = Approvals(store, slack, held, web_link=approval_links.link_for)
    approval_links.approvals = approvals
    held.on_awaiting.append(approvals.notify_approvers)
    held_scheduler = HeldScheduler(held, settings.held_poll_interval, approvals.expire_due)
    link_notices = LinkNotices(store, slack, workspaces.admins)
    home = HomeService(store, tokens, linking, teams, in_flight, slack, workspace_settings)
    return Parts(
        settings=settings,
        session=session,
        store=store,
        workspaces=workspaces,
        pipelines=pipelines,
        slack=slack,
        tiktok=tiktok,
        tokens=tokens,
        linking=linking,
        signin=signin,
        link_notices=link_notices,
        cancels=cancels,
        statuses=statuses,
        router=CommandRouter(
            cancels,
            statuses,
            linking,
            tokens,
            workspaces.admins,
            in_flight,
            teams,
            private,
            workspace_settings,
        ),
        buttons=Buttons(cancels, store, private, workspaces.admins),
        replies=ClickReplies(slack, cancels, home),
        announcements=announcements,
        webhooks=WebhookReceiver(
            settings.tiktok_client_secret, store, announcements, tokens, link_notices, follows
        ),
        poller=poller,
        teams=teams,
        workspace_settings=workspace_settings,
        home=home,
        held=held,
        held_scheduler=held_scheduler,
        approvals=approvals,
        approval_links=approval_links,
        parked_prune=ParkedPrune(
            store, tiktok, tokens.links.fernet, settings.parked_prune_interval
        ),
        uninstall=WorkspaceUninstall(store, workspaces, fernet, tiktok),
        retired_audit=RetiredAuditPrune(store, settings.audit_retention_days),
    )


async def drain(parts: Parts, timeout: float = 30.0) -> None:
    """Finish what is under way: answers, audit posts, webhook updates, DMs after linking.
    New work that finishing work starts (an audit post after an answer) is waited for too."""
    await parts.poller.stop()
    await parts.held_scheduler.stop()
    await parts.parked_prune.stop()
    await parts.retired_audit.stop()

    def pending() -> list[asyncio.Task]:
        return [
            *parts.work.pending(),
            *parts.link_notices.pending(),
            *parts.cancels.pending(),
            *parts.webhooks.pending(),
        ]

    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while waiting := [t for t in pending() if t is not asyncio.current_task()]:
                await asyncio.gather(*waiting, return_exceptions=True)


async def close(parts: Parts) -> None:
    """Release the shared session and the database (after `drain`)."""
    await parts.session.close()
    parts.store.close()


class CachedAuthorize:
    """Bolt's authorize with one workspace: the one bot token, whatever the request's team, and
    its `auth.test`, asked once (SlackOut remembers it). Many workspaces use Bolt's own
    installation-store authorize instead (`build_bolt`)."""

    def __init__(self, slack: SlackOut):
        self.slack = slack

    async def result(self, team_id: str = "") -> AuthorizeResult | None:
        client = await self.slack.client(team_id)
        identity = await self.slack.identity(team_id)
        return AuthorizeResult(
            enterprise_id=identity.get("enterprise_id"),
            team_id=identity.get("team_id"),
            bot_token=client.token,
            bot_id=identity.get("bot_id"),
            bot_user_id=identity.get("user_id"),
        )

    def for_bolt(self):
        """A plain function: Bolt passes arguments by the names a function declares."""

        async def authorize(team_id: str | None = None) -> AuthorizeResult | None:
            return await self.result(team_id or "")

        return authorize

    async def warm(self) -> bool:
        try:
            await self.result()
        except Exception as exc:
            log.warning("slack.auth_test_failed", extra={"error": type(exc).__name__})
            return False
        return True


def slack_redirect_uri(settings: Settings) -> str | None:
    """Where Slack sends the installer back: the bot's public address (from
    TIKTOK_REDIRECT_URI, with its path prefix) and /slack/oauth_redirect; None when unknown
    (Slack then uses the app's one configured Redirect URL)."""
    base = public_base(settings.tiktok_redirect_uri)
    return base + REDIRECT_PATH if base else None


def build_install_flow(parts: Parts, client: AsyncWebClient) -> InstallFlow:
    """Add to Slack (many workspaces): Bolt's OAuth flow over our stores and pages."""
    settings = parts.settings
    workspaces = parts.workspaces
    return install_flow(
        client=client,
        client_id=settings.slack_client_id or "",
        client_secret=settings.slack_client_secret or "",
        scopes=BOT_SCOPES,
        slack_api_url=settings.slack_api_url,
        redirect_uri=slack_redirect_uri(settings),
        installation_store=InstallationStore(
            parts.store,
            workspaces.installations,
            workspaces.usable_installation,
            workspaces.forget_cached,
        ),
        state_store=OAuthStateStore(parts.store),
        callback_options=slack_install.callback_options(),
        install_page=install_page,
    )


def build_bolt(parts: Parts, authorize: CachedAuthorize | None) -> AsyncApp:
    """Bolt with every listener. One workspace: its one token (`authorize`). Many: Bolt's
    authorize reads our installation store, its `auth.test` answers cached by token (safe: an
    uninstalled workspace's store gives no token, so its cached answer is never reached)."""
    settings = parts.settings
    client = MeteredWebClient(
        base_url=settings.slack_api_url, session=parts.session, retry_handlers=retry_handlers()
    )
    common = {
        "client": client,
        "signing_secret": settings.slack_signing_secret,
        # POST /slack/events checks the signature before Bolt sees the request (and logs a
        # refusal without its body); Socket Mode requests are not signed. Once is enough.
        "request_verification_enabled": False,
        "logger": logging.getLogger("bolt"),
    }
    if parts.workspaces.many:
        flow = build_install_flow(parts, client)
        app = AsyncApp(
            **common,
            oauth_flow=flow,
            authorize=AsyncInstallationStoreAuthorize(
                logger=logging.getLogger("bolt"),
                installation_store=flow.settings.installation_store,
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                bot_only=True,
                cache_enabled=True,
                client=client,
            ),
            installation_store_bot_only=True,
            user_facing_authorize_error_message=messages.NOT_INSTALLED_TEXT,
        )
    else:
        assert authorize is not None
        app = AsyncApp(**common, authorize=authorize.for_bolt())
    commands.register(app, router=parts.router, slack=parts.slack, work=parts.work)
    # before `actions`: its last listener answers any button it does not know
    approval_listeners.register(
        app, approvals=parts.approvals, replies=parts.replies, work=parts.work
    )
    actions.register(
        app,
        buttons=parts.buttons,
        router=parts.router,
        held=parts.held,
        replies=parts.replies,
        work=parts.work,
    )
    events.register(app, home=parts.home, uninstall=parts.uninstall, work=parts.work)
    return app


class Bot:
    """The running bot. `await start()` serves; `await stop()` drains in-flight work first.
    `middlewares` run before the bot's own on its HTTP server (the sandbox checks Host);
    `cancel_listeners` are told of every finished cancel (the sandbox's page follows them)."""

    def __init__(
        self,
        settings: Settings,
        middlewares=(),
        cancel_listeners: Sequence[OutcomeListener] = (),
    ):
        self.settings = settings
        self.middlewares = tuple(middlewares)
        self.cancel_listeners = tuple(cancel_listeners)
        self.parts: Parts | None = None  # built by start()
        self.bolt: AsyncApp | None = None
        self.port: int | None = None
        self.metrics_port: int | None = None  # METRICS_PORT's server, when set
        self._runner: web.AppRunner | None = None
        self._metrics_runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None

    async def start(self) -> None:
        settings = self.settings
        parts = await build_parts(settings, self.cancel_listeners)
        self.parts = parts
        if parts.store.dialect == "sqlite":  # one process owns a SQLite file: whatever
            await parts.store.run(leases.clear)  # it held before a restart is dead work
        else:  # replicas share the table: only leases that ran out an hour ago go
            await parts.store.run(leases.prune)
        authorize = None if parts.workspaces.many else CachedAuthorize(parts.slack)
        self.bolt = build_bolt(parts, authorize)
        if authorize is not None:
            await authorize.warm()
        parts.poller.start()
        parts.held_scheduler.start()
        parts.parked_prune.start()
        parts.retired_audit.start()
        metrics_page = functools.partial(exposition.page, parts.store)
        web_app = web.Application(
            client_max_size=MAX_BODY_BYTES + 1,
            middlewares=[*self.middlewares, body_guard(settings.body_timeout)],
        )
        routes.register(
            web_app,
            settings=settings,
            database_answers=functools.partial(database_answers, parts.store),
            slack=parts.slack,
            linking=parts.linking,
            signin=parts.signin,
            link_notices=parts.link_notices,
            pipelines=parts.pipelines,
            announcements=parts.announcements,
            held=parts.held,
            approval_links=parts.approval_links,
            webhook_receiver=parts.webhooks,
            bolt=None if settings.socket_mode else self.bolt,
            install_flow=self.bolt.oauth_flow,  # many workspaces: Add to Slack, in both modes
            metrics_page=metrics_page,
        )
        self._runner = web.AppRunner(
            web_app, access_log=None, **server_options(settings.header_timeout)
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.host, settings.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if settings.metrics_port is not None:
            await self._start_metrics_site(metrics_page)
        if settings.socket_mode:
            self._socket = TimedSocketModeHandler(
                self.bolt, settings.slack_app_token, web_client=await parts.slack.client("")
            )
            await self._socket.connect_async()
        log.info(
            "bot.started",
            extra={
                "mode": "socket" if settings.socket_mode else "http",
                "port": self.port,
                **({"metrics_port": self.metrics_port} if self.metrics_port else {}),
            },
        )

    async def _start_metrics_site(self, page) -> None:
        """METRICS_PORT: a server of its own on HOST, serving only `GET /metrics`."""
        settings = self.settings
        metrics_app = web.Application(middlewares=[body_guard(settings.body_timeout)])
        routes.register_metrics_site(metrics_app, page=page)
        self._metrics_runner = web.AppRunner(
            metrics_app, access_log=None, **server_options(settings.header_timeout)
        )
        await self._metrics_runner.setup()
        await web.TCPSite(self._metrics_runner, settings.host, settings.metrics_port).start()
        self.metrics_port = self._metrics_runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop taking new work, finish what is under way, then release everything."""
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            for site in list(self._runner.sites):
                await site.stop()
        if self._metrics_runner is not None:
            await self._metrics_runner.cleanup()
            self._metrics_runner = None
        if self.parts is not None:
            await drain(self.parts)
        if self._runner is not None:
            await self._runner.cleanup()
        if self.parts is not None:
            await close(self.parts)
        log.info("bot.stopped")
