"""`GET /slack/install` and `GET /slack/oauth_redirect` (many workspaces, HTTP and Socket Mode):
Add to Slack, run by Bolt's OAuth flow (`bot.slack.install_flow`), answered with our pages.

The request goes to the flow as a Bolt request (query and headers: the state cookie); its
answer comes back through Bolt's aiohttp adapter, which sets cookies `Secure` and `HttpOnly`.
`callback_options` renders the success and failure pages the flow ends on; both drop the state
cookie. Anything the flow could not do (the database down) is a plain "try again" page, never
a traceback. Not mounted with one workspace: then both paths answer 404.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.installation_store import OrgInstallRefused
from handlers.web import install_pages
from handlers.web.oauth_pages import PAGE_HEADERS, page_response

log = logging.getLogger(__name__)


def _page(status: int, text: str, settings) -> BoltResponse:
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Set-Cookie": [settings.state_utils.build_set_cookie_for_deletion()],
    }
    return BoltResponse(status=status, body=text, headers=headers)


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    page = install_pages.installed_page(args.installation.team_name or "")
    return _page(200, page, args.settings)


async def _refused(args: AsyncFailureArgs) -> BoltResponse:
    reason = args.reason or "unknown"
    if reason == "storage_error":
        reason = "org_install" if isinstance(args.error, OrgInstallRefused) else "not_saved"
    log.info("slack.install_failed", extra={"reason": reason[:60]})
    status, page = install_pages.problem(reason)
    return _page(status, page, args.settings)


def callback_options() -> AsyncCallbackOptions:
    """The pages the OAuth flow ends on."""
    return AsyncCallbackOptions(success=_installed, failure=_refused)


def register(web_app: web.Application, *, flow: AsyncOAuthFlow) -> None:
    async def answer(request: web.Request, step) -> web.Response:
        bolt_request = AsyncBoltRequest(
            body="", query=request.query_string, headers=request.headers
        )
        try:
            bolt_response = await step(bolt_request)
        except Exception as exc:
            log.warning("slack.install_unavailable", extra={"error": type(exc).__name__})
            status, page = install_pages.problem("not_saved")
            return page_response(page, status)
        response = await to_aiohttp_response(bolt_response)
        for name, value in PAGE_HEADERS.items():  # never cached, never framed
            response.headers.setdefault(name, value)
        return response

    async def install(request: web.Request) -> web.Response:
        return await answer(request, flow.handle_installation)

    async def oauth_redirect(request: web.Request) -> web.Response:
        return await answer(request, flow.handle_callback)

    web_app.router.add_get(flow.install_path, install, allow_head=False)
    web_app.router.add_get(flow.redirect_uri_path, oauth_redirect, allow_head=False)
