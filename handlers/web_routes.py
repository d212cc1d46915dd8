"""The bot's own HTTP routes: health, the TikTok OAuth callback, upload announcements from the
pipeline (`NOTIFY_TOKEN`), held uploads (`UPLOAD_TOKEN`), TikTok webhooks, and Slack events
(HTTP mode)."""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.services import Services
from bot.slack import names as slack_names
from bot.uploads import policy as upload_policy
from bot.uploads.announcing import AnnounceError, parse_request
from bot.uploads.held import parse_upload, status_answer
from handlers import oauth_pages
from handlers.slack_request_check import SlackRequestRefused, checked_body

log = logging.getLogger(__name__)

HTML = "text/html"
MAX_CONFIRM_BYTES = 4 * 1024  # the confirm page's form is a few hundred bytes
UNKNOWN_INTERNAL_ERROR = (
    "The bot failed on its own (not Slack); we don't know whether the announcement was "
    "posted. Send the same request again: a repeat never posts twice."
)

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
# The body was already read (and its size limited) by handlers.http_guard before any route runs.


def _bearer_token(header: str) -> bytes:
    """The token of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235).

    Bytes as they came (a header that is not UTF-8 still compares, and never matches)."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return b""
    return token.strip().encode("utf-8", "surrogateescape")


def _field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _page(text: str, status: int = 200) -> web.Response:
    """An OAuth page: never cached, never framed (so its button can't be clickjacked)."""
    return web.Response(status=status, text=text, content_type=HTML, headers=PAGE_HEADERS)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class BodyRefused(Exception):
    """The body is not JSON this bot reads; `str(error)` is the answer's `error`."""


def _no_constants(name: str):
    raise BodyRefused(f"the body is not valid JSON: {name} is not a JSON number")


def json_body(raw: bytes):
    """The pipeline's JSON body. Standard JSON only: Python's json takes NaN, Infinity and
    -Infinity by default, which no JSON sender writes and no field can hold; a number longer
    than Python reads (4300 digits) or nesting deeper than it recurses are refused too, as
    400, never a 5xx. Numbers themselves are bounded by each field's validator."""
    try:
        return json.loads(raw, parse_constant=_no_constants)  # BodyRefused passes through
    except (ValueError, RecursionError):  # UnicodeDecodeError included
        raise BodyRefused("the body is not valid JSON (UTF-8)") from None


def _authorized(request: web.Request, token: str) -> bool:
    given = _bearer_token(request.headers.get("Authorization", ""))
    return bool(given) and hmac.compare_digest(given, token.encode())


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
            slack_user=await slack_names.person(services.slack, pending.user_id),
            workspace=await slack_names.workspace_label(services.slack, pending.team_id),
            tiktok_name=result.display_name,
            open_id=result.open_id,
            team_account=pending.owner if pending.kind == "team" else "",
            state=query.get("state", ""),
            token=result.confirm_token,
        )
        return _page(page)

    async def oauth_confirm(request: web.Request) -> web.Response:
        raw = await request.read()  # handlers.http_guard already refused anything over 16 KiB
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
        if not _authorized(request, token):
            return _error(401, "missing or wrong bearer token")
        try:
            body = json_body(await request.read())
        except BodyRefused as refused:
            return _error(400, str(refused))
        try:
            result = await services.announcements.announce(parse_request(body))
        except AnnounceError as error:
            return _error(error.status, error.message)
        except Exception as exc:  # a bug of ours; never a traceback in the answer
            log.error("notifications.internal_error", extra={"error": type(exc).__name__})
            return _error(500, UNKNOWN_INTERNAL_ERROR)
        return web.json_response(
            {"channel": result.channel, "ts": result.ts}, status=201 if result.created else 200
        )

    async def uploads(request: web.Request) -> web.Response:
        # UPLOAD_TOKEN, never NOTIFY_TOKEN: this route may post a video publicly.
        token = services.settings.upload_token
        if not token or services.held is None:
            return _error(404, "not found")
        if not _authorized(request, token):
            return _error(401, "missing or wrong bearer token")
        try:
            body = json_body(await request.read())
        except BodyRefused as refused:
            return _error(400, str(refused))
        try:
            request_ = parse_upload(body, services.settings.hold_seconds)
            upload_policy.check(request_, services.settings)
            result = await services.held.submit(request_)
        except AnnounceError as error:
            return _error(error.status, error.message)
        except Exception as exc:  # a bug of ours; never a traceback in the answer
            log.error("uploads.internal_error", extra={"error": type(exc).__name__})
            return _error(500, UNKNOWN_INTERNAL_ERROR)
        return web.json_response(result.answer, status=202 if result.created else 200)

    async def upload_status(request: web.Request) -> web.Response:
        """GET /uploads/<upload_key>: where a held upload stands (the same bearer as POST:
        UPLOAD_TOKEN; 404 while it is unset)."""
        token = services.settings.upload_token
        if not token or services.held is None:
            return _error(404, "not found")
        if not _authorized(request, token):
            return _error(401, "missing or wrong bearer token")
        held = await services.held.get(request.match_info["upload_key"])
        if held is None:
            return _error(404, "no held upload has that upload_key")
        return web.json_response(status_answer(held))

    async def tiktok_webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        signature = request.headers.get("TikTok-Signature", "")
        if not signature.isascii():
            signature = ""  # not TikTok's: refused as unsigned
        status = await services.webhooks.receive(raw, signature)
        return web.json_response({"ok": status == 200}, status=status)

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/tiktok/oauth/callback", oauth_callback)
    web_app.router.add_post("/tiktok/oauth/confirm", oauth_confirm)
    web_app.router.add_post("/notifications", notifications)
    web_app.router.add_post("/uploads", uploads)
    web_app.router.add_get("/uploads/{upload_key}", upload_status)
    web_app.router.add_post("/tiktok/webhook", tiktok_webhook)

    if bolt is not None:

        async def slack_events(request: web.Request) -> web.Response:
            raw = await request.read()
            secret = services.settings.slack_signing_secret
            try:
                text = checked_body(secret, request.headers, raw)
            except SlackRequestRefused as refused:
                return _error(refused.status, "invalid request")
            try:  # a signed payload Bolt cannot read (not a JSON object, …) is a bad request
                bolt_request = AsyncBoltRequest(
                    body=text, query=request.query_string, headers=request.headers
                )
                bolt_response = await bolt.async_dispatch(bolt_request)
            except Exception as exc:
                log.warning("slack.request_unreadable", extra={"error": type(exc).__name__})
                return _error(400, "invalid request")
            return await to_aiohttp_response(bolt_response)

        web_app.router.add_post("/slack/events", slack_events)
