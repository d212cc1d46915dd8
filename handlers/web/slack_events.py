"""`POST /slack/events` (HTTP mode only): a request Slack signed, checked here (one log line
when refused, never its body), then dispatched to Bolt."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

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


def register(web_app: web.Application, *, bolt: AsyncApp, signing_secret: str) -> None:
    async def slack_events(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            text = checked_body(signing_secret, request.headers, raw)
        except SlackRequestRefused as refused:
            return _invalid(refused.status)
        try:  # a signed payload Bolt cannot read (not a JSON object, …) is a bad request
            bolt_response = await bolt.async_dispatch(
                bolt_request(text, request.query_string, request.headers)
            )
        except Exception as exc:
            log.warning("slack.request_unreadable", extra={"error": type(exc).__name__})
            return _invalid(400)
        return await to_aiohttp_response(bolt_response)

    web_app.router.add_post("/slack/events", slack_events)
