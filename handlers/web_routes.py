"""The bot's own HTTP routes: health, the TikTok OAuth callback, and Slack events (HTTP mode)."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot import messages
from bot.services import Services

HTML = "text/html"


def add_routes(web_app: web.Application, services: Services, bolt: AsyncApp | None) -> None:
    async def healthz(request: web.Request) -> web.Response:
        await services.store.run(lambda db: db.execute("SELECT 1").fetchone())
        mode = "socket" if services.settings.socket_mode else "http"
        return web.json_response({"ok": True, "mode": mode})

    async def oauth_callback(request: web.Request) -> web.Response:
        query = request.query
        result = await services.linking.complete(
            query.get("state", ""), query.get("code", ""), query.get("error", "")
        )
        if not result.ok or result.link is None:
            return web.Response(
                status=400, text=messages.link_failed_page(result.code), content_type=HTML
            )
        services.after_link(result)
        return web.Response(text=messages.linked_page(result.link.display_name), content_type=HTML)

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/tiktok/oauth/callback", oauth_callback)

    if bolt is not None:

        async def slack_events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await bolt.async_dispatch(await to_bolt_request(request))
            )

        web_app.router.add_post("/slack/events", slack_events)
