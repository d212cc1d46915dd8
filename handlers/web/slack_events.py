"""`POST /slack/events` (HTTP mode only): a request Slack signed, checked here (one log line
when refused, never its body), then dispatched to Bolt. /metrics times it: from arrival to the
acknowledgement being ready, and (through `bot.metrics.ARRIVED`, which the listener's task
inherits) to a command's answer."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot import metrics
from handlers.web.slack_request_check import SlackRequestRefused, checked_body

log = logging.getLogger(__name__)


def _invalid(status: int) -> web.Response:
    return web.json_response({"error": "invalid request"}, status=status)


def bolt_request(text: str, query: str, headers) -> AsyncBoltRequest:
    """The request for Bolt. Bolt reads any form body with the word "payload" in it as an
    interaction and finds none there, so a slash command whose text (or channel name) says
    "payload" reached no listener and got a 404: such a form is read here as the form it is.
    The raw body stays as Slack signed it (Bolt checks the signature on it)."""
    request = AsyncBoltRequest(body=text, query=query, headers=headers)
    if not request.body and request.content_type == "application/x-www-form-urlencoded":
        fields = dict(parse_qsl(text, keep_blank_values=True))
        if fields and "payload" not in fields:
            request.body = fields
            request.context = build_async_context(AsyncBoltContext({}), fields)
    return request


INTERACTIVE = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "interactive_message",
    }
)
EVENTS = frozenset({"event_callback", "url_verification", "app_rate_limited"})


def request_kind(body: object) -> str:
    """What kind of Slack request Bolt read (for /metrics): command, interactive, event."""
    if not isinstance(body, dict):
        return metrics.OTHER
    if "command" in body:
        return "command"
    kind = body.get("type")
    if kind in INTERACTIVE:
        return "interactive"
    return "event" if kind in EVENTS else metrics.OTHER


def register(web_app: web.Application, *, bolt: AsyncApp, signing_secret: str) -> None:
    async def slack_events(request: web.Request) -> web.Response:
        arrived = metrics.now()
        raw = await request.read()
        try:
            text = checked_body(signing_secret, request.headers, raw)
        except SlackRequestRefused as refused:
            return _invalid(refused.status)
        token = metrics.arrived(arrived)
        try:  # a signed payload Bolt cannot read (not a JSON object, …) is a bad request
            bolt_req = bolt_request(text, request.query_string, request.headers)
            bolt_response = await bolt.async_dispatch(bolt_req)
        except Exception as exc:
            log.warning("slack.request_unreadable", extra={"error": type(exc).__name__})
            return _invalid(400)
        finally:
            metrics.ARRIVED.reset(token)
        response = await to_aiohttp_response(bolt_response)
        metrics.ack_seconds(request_kind(bolt_req.body), metrics.now() - arrived)
        return response

    web_app.router.add_post("/slack/events", slack_events)
