"""The bot's own HTTP routes: health, the TikTok OAuth callback, upload announcements from the
pipeline, TikTok webhooks, and Slack events (HTTP mode)."""

from __future__ import annotations

import hmac
import json
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot import slack_names
from bot.announcing import AnnounceError, parse_request
from bot.services import Services
from handlers import oauth_pages

HTML = "text/html"
MAX_NOTIFICATION_BYTES = 64 * 1024
MAX_CONFIRM_BYTES = 4 * 1024
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


async def _read_at_most(request: web.Request, limit: int) -> bytes:
    """The body, or its first `limit` bytes when it is longer (however it arrives in pieces)."""
    chunks, size = [], 0
    while size < limit:
        chunk = await request.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _page(text: str, status: int = 200) -> web.Response:
    """An OAuth page: never cached, never framed (so its button can't be clickjacked)."""
    return web.Response(status=status, text=text, content_type=HTML, headers=PAGE_HEADERS)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


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
        if result.code != "confirm" or result.pending is None:
            return _page(oauth_pages.link_failed_page(result.code), 400)
        pending = result.pending
        page = oauth_pages.confirm_page(
            kind=pending.kind,
            slack_user=await slack_names.user_label(services.slack, pending.user_id),
            workspace=await slack_names.workspace_label(services.slack, pending.team_id),
            tiktok_name=result.display_name,
            open_id=result.open_id,
            team_account=pending.owner if pending.kind == "team" else "",
            state=query.get("state", ""),
            token=result.confirm_token,
        )
        return _page(page)

    async def oauth_confirm(request: web.Request) -> web.Response:
        raw = await _read_at_most(request, MAX_CONFIRM_BYTES + 1)
        if len(raw) > MAX_CONFIRM_BYTES:
            return _page(oauth_pages.link_failed_page("state_unknown"), 413)
        try:
            form = parse_qs(raw.decode("utf-8", errors="replace"), max_num_fields=10)
        except ValueError:  # more fields than the page's form has
            return _page(oauth_pages.link_failed_page("state_unknown"), 400)
        state, token = _field(form, "state"), _field(form, "confirm")
        if _field(form, "choice") == "decline":
            declined = await services.linking.decline(state, token)
            if declined.code != "declined":
                return _page(oauth_pages.link_failed_page(declined.code), 400)
            return _page(oauth_pages.declined_page(declined.display_name))
        result = await services.linking.confirm(state, token)
        if not result.ok or result.link is None:
            return _page(oauth_pages.link_failed_page(result.code), 400)
        services.after_link(result)
        return _page(oauth_pages.linked_page(result.link.display_name))

    async def notifications(request: web.Request) -> web.Response:
        token = services.settings.notify_token
        if not token:
            return _error(404, "not found")
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {token}".encode()):
            return _error(401, "missing or wrong bearer token")
        raw = await _read_at_most(request, MAX_NOTIFICATION_BYTES + 1)
        if len(raw) > MAX_NOTIFICATION_BYTES:
            return _error(413, f"the body is larger than {MAX_NOTIFICATION_BYTES} bytes")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "the body is not valid JSON")
        try:
            result = await services.announcements.announce(parse_request(body))
        except AnnounceError as error:
            return _error(error.status, error.message)
        return web.json_response(
            {"channel": result.channel, "ts": result.ts}, status=201 if result.created else 200
        )

    async def tiktok_webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        signature = request.headers.get("TikTok-Signature", "")
        status = await services.webhooks.receive(raw, signature)
        return web.json_response({"ok": status == 200}, status=status)

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/tiktok/oauth/callback", oauth_callback)
    web_app.router.add_post("/tiktok/oauth/confirm", oauth_confirm)
    web_app.router.add_post("/notifications", notifications)
    web_app.router.add_post("/tiktok/webhook", tiktok_webhook)

    if bolt is not None:

        async def slack_events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await bolt.async_dispatch(await to_bolt_request(request))
            )

        web_app.router.add_post("/slack/events", slack_events)
