"""`GET /healthz`: the database answers; says which mode (HTTP or Socket Mode) the bot runs in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web


def register(
    web_app: web.Application, *, database_answers: Callable[[], Awaitable[None]], socket_mode: bool
) -> None:
    async def healthz(request: web.Request) -> web.Response:
        await database_answers()
        return web.json_response({"ok": True, "mode": "socket" if socket_mode else "http"})

    web_app.router.add_get("/healthz", healthz)
