"""`GET /metrics` (Prometheus): what this process counted, and the database's held uploads and
approvals, as exposition text. On the bot's port only with METRICS_TOKEN set, and only for a
request bearing it (401 otherwise; without METRICS_TOKEN the route is not there: 404); on
METRICS_PORT, a server of its own that serves nothing else, without a token."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.metrics import CONTENT_TYPE
from handlers.web.pipeline_request import bearer_token

PATH = "/metrics"
Page = Callable[[], Awaitable[bytes]]


def _page_response(body: bytes) -> web.Response:
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def register(web_app: web.Application, *, page: Page, token: str | None) -> None:
    """On the bot's own server: `/metrics` behind `token` (METRICS_TOKEN); none without it."""
    if not token:
        return
    expected = token.encode()

    async def metrics(request: web.Request) -> web.Response:
        given = bearer_token(request.headers.get("Authorization", ""))
        if not hmac.compare_digest(given, expected):
            return web.json_response(
                {"error": "missing or wrong bearer token"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return _page_response(await page())

    web_app.router.add_get(PATH, metrics)


def register_open(web_app: web.Application, *, page: Page) -> None:
    """On METRICS_PORT's server (nothing else is served there): `/metrics` without a token."""

    async def metrics(request: web.Request) -> web.Response:
        return _page_response(await page())

    web_app.router.add_get(PATH, metrics)
