"""`GET /healthz`: the database answers; says which mode (HTTP or Socket Mode) the bot runs in."""

from __future__ import annotations

from aiohttp import web

from storage.db import Store


def register(web_app: web.Application, *, store: Store, socket_mode: bool) -> None:
    async def healthz(request: web.Request) -> web.Response:
        await store.run(lambda db: db.execute("SELECT 1").fetchone())
        return web.json_response({"ok": True, "mode": "socket" if socket_mode else "http"})

    web_app.router.add_get("/healthz", healthz)
