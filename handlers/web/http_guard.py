"""Guards on the bot's own HTTP server, applied before any route (and so before any
authentication) runs: a size limit per route and a time limit on reading the body.

Header read timeout: aiohttp's keep-alive timer also runs while a connection has not yet
sent a complete request, so `server_options` sets it to `Settings.header_timeout`: a client
trickling its headers (or idling) is disconnected after that many seconds.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

log = logging.getLogger(__name__)

KIB = 1024
# Slack's interactive payloads can be large (a whole message comes back with a click).
BODY_LIMITS = {
    "/slack/events": 1024 * KIB,
    "/notifications": 64 * KIB,
    "/tiktok/webhook": 64 * KIB,
}
# The web post page's form (POST /approve/<token>): a 2,200-character caption, percent-encoded.
BODY_LIMIT_PREFIXES = {"/approve/": 32 * KIB}
DEFAULT_BODY_LIMIT = 16 * KIB  # every other path (GET routes, unknown paths)
MAX_BODY_BYTES = max(BODY_LIMITS.values())
# After refusing a body, read and drop what the client still sends for at most this long,
# so it can see the answer, then close.
LINGER_S = 1.0


def body_limit(path: str) -> int:
    if path in BODY_LIMITS:
        return BODY_LIMITS[path]
    for prefix, limit in BODY_LIMIT_PREFIXES.items():
        if path.startswith(prefix):
            return limit
    return DEFAULT_BODY_LIMIT


def server_options(header_timeout: float) -> dict:
    """Keyword arguments for `web.AppRunner` (aiohttp's RequestHandler)."""
    return {"keepalive_timeout": header_timeout, "lingering_time": LINGER_S}


def _too_large(limit: int) -> web.Response:
    return web.json_response(
        {"error": f"the body is larger than {limit} bytes"},
        status=413,
        headers={"Connection": "close"},
    )


def body_guard(body_timeout: float):
    """A middleware: refuse a body over the route's limit (413) or one that arrives too
    slowly (408, then close); otherwise read it whole so `request.read()` is instant."""

    @web.middleware
    async def guard(request: web.Request, handler) -> web.StreamResponse:
        limit = body_limit(request.path)
        length = request.content_length
        if length is not None and length > limit:
            log.info("http.body_too_large", extra={"bytes": length, "limit": limit})
            return _too_large(limit)
        try:
            async with asyncio.timeout(body_timeout):
                raw = await request.read()
        except TimeoutError:
            log.info("http.body_timeout", extra={"seconds": body_timeout})
            return web.json_response(
                {"error": f"the body did not arrive within {body_timeout:g} seconds"},
                status=408,
                headers={"Connection": "close"},
            )
        except web.HTTPRequestEntityTooLarge:
            log.info("http.body_too_large", extra={"limit": limit})
            return _too_large(limit)
        if len(raw) > limit:
            log.info("http.body_too_large", extra={"bytes": len(raw), "limit": limit})
            return _too_large(limit)
        return await handler(request)

    return guard
