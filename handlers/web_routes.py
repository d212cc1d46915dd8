"""The bot's own HTTP routes: health, the TikTok OAuth callback, upload announcements from the
pipeline, TikTok webhooks, and Slack events (HTTP mode)."""

from __future__ import annotations

import hmac
import json
import logging
import re

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot import messages
from bot.announcing import AnnounceError, parse_request
from bot.services import Services

log = logging.getLogger(__name__)

HTML = "text/html"
MAX_NOTIFICATION_BYTES = 64 * 1024
SLACK_TIMESTAMP = re.compile(r"[0-9]{1,12}")


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
        if not result.ok or result.link is None:
            return web.Response(
                status=400, text=messages.link_failed_page(result.code), content_type=HTML
            )
        services.after_link(result)
        return web.Response(text=messages.linked_page(result.link.display_name), content_type=HTML)

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
    web_app.router.add_post("/notifications", notifications)
    web_app.router.add_post("/tiktok/webhook", tiktok_webhook)

    if bolt is not None:

        async def slack_events(request: web.Request) -> web.Response:
            timestamp = request.headers.get("X-Slack-Request-Timestamp", "0")
            if not SLACK_TIMESTAMP.fullmatch(timestamp):  # Bolt would raise on int("abc")
                return _error(401, "invalid request")
            try:  # Bolt raises on bodies it cannot read (not UTF-8, a non-numeric timestamp,
                # a payload that is not a JSON object): that is a bad request, not our 500
                bolt_request = await to_bolt_request(request)
                bolt_response = await bolt.async_dispatch(bolt_request)
            except web.HTTPException:  # e.g. 413 for a body over the limit: as it is
                raise
            except Exception as exc:
                log.warning("slack.request_unreadable", extra={"error": type(exc).__name__})
                return _error(400, "invalid request")
            return await to_aiohttp_response(bolt_response)

        web_app.router.add_post("/slack/events", slack_events)
