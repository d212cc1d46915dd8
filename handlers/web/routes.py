"""Mounting the bot's own HTTP routes: each route module's `register`, given only what that
route calls. `/slack/events` only in HTTP mode (Socket Mode connects out instead); Add to Slack
(`/slack/install`, `/slack/oauth_redirect`) and the link confirm page's Sign in with Slack
(`/slack/signin`) only with many workspaces, in both modes. `/metrics` only with METRICS_TOKEN
(METRICS_PORT's own server: `register_metrics_site`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow

from bot.accounts.link_notices import LinkNotices
from bot.accounts.linking import LinkingService
from bot.accounts.pipeline_credentials import PipelineCredentials
from bot.accounts.slack_signin import SlackSignIn
from bot.settings import Settings
from bot.slack.output import SlackOut
from bot.uploads.announcing import AnnouncementService
from bot.uploads.approval_links import ApprovalLinks
from bot.uploads.held import HeldUploads
from bot.uploads.webhooks import WebhookReceiver
from handlers.web import (
    approve_page,
    health,
    metrics,
    notifications,
    oauth_callback,
    oauth_confirm,
    slack_events,
    slack_install,
    slack_signin,
    uploads,
    webhooks,
)


def register(
    web_app: web.Application,
    *,
    settings: Settings,
    database_answers: Callable[[], Awaitable[None]],
    slack: SlackOut,
    linking: LinkingService,
    signin: SlackSignIn,
    link_notices: LinkNotices,
    pipelines: PipelineCredentials,
    announcements: AnnouncementService,
    held: HeldUploads,
    approval_links: ApprovalLinks,
    webhook_receiver: WebhookReceiver,
    bolt: AsyncApp | None,
    install_flow: AsyncOAuthFlow | None = None,
    metrics_page: metrics.Page | None = None,
) -> None:
    health.register(web_app, database_answers=database_answers, socket_mode=settings.socket_mode)
    if metrics_page is not None:
        metrics.register(web_app, page=metrics_page, token=settings.metrics_token)
    oauth_callback.register(web_app, linking=linking, slack=slack, signin=signin)
    oauth_confirm.register(web_app, linking=linking, notices=link_notices)
    notifications.register(web_app, credentials=pipelines, announcements=announcements)
    uploads.register(web_app, settings=settings, credentials=pipelines, held=held)
    approve_page.register(web_app, links=approval_links)
    webhooks.register(web_app, webhooks=webhook_receiver)
    if bolt is not None:
        slack_events.register(web_app, bolt=bolt, signing_secret=settings.slack_signing_secret)
    if install_flow is not None:
        slack_install.register(web_app, flow=install_flow)
    if signin.enabled:
        slack_signin.register(web_app, signin=signin, slack=slack)


def register_metrics_site(web_app: web.Application, *, page: metrics.Page) -> None:
    """METRICS_PORT's server: `GET /metrics` without a token, and nothing else (404)."""
    metrics.register_open(web_app, page=page)
