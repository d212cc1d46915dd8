"""The HTTP guards of the sandbox's page (and of its bot's port): only requests from its own
page get through (`only_own_pages`), and the JSON endpoints read their bodies with
`body_of` and `text_field` and answer every problem as `{"error": ...}` (`BadRequest`,
`json_errors`).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class BadRequest(Exception):
    """A page request the sandbox can't act on; answered 400 (or `status`) with `message`."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


FOREIGN = (
    "Refused: the sandbox only answers its own page at http://127.0.0.1:<port> "
    "(this request's Host or Origin is another site)."
)


def only_own_pages(own_hosts, null_origin: bool = False):
    """A middleware: 403 for a request whose Host, or Origin when sent, is not this page's
    (a cross-site POST from another tab, or a DNS-rebinding name pointed at 127.0.0.1).
    `null_origin`: also let `Origin: null` through (a page sent with no referrer)."""

    @web.middleware
    async def guard(request: web.Request, handler) -> web.StreamResponse:
        hosts = own_hosts()
        origin = request.headers.get("Origin")
        allowed = request.headers.get("Host", "").lower() in hosts and (
            origin is None
            or (null_origin and origin == "null")
            or origin.lower() in {f"http://{h}" for h in hosts}
        )
        if not allowed:
            return web.Response(status=403, text=FOREIGN)
        return await handler(request)

    return guard


@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    """The JSON endpoints answer every problem as `{"error": ...}` with a 4xx status."""
    try:
        return await handler(request)
    except BadRequest as problem:
        return web.json_response({"error": problem.message}, status=problem.status)


async def body_of(request: web.Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # "[" * 5000 recurses
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def text_field(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name} is required")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise BadRequest(f"{name} must be a string")
    return str(value)
