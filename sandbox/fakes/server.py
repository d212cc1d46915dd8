"""Loopback HTTP plumbing shared by the fakes.

`LoopbackServer` runs an aiohttp application on 127.0.0.1 with an OS-chosen port.
`Reply` describes one scripted answer (status, body, delay, a hang, a connection
reset mid-body or a dropped connection) and `send_reply` turns it into a real HTTP response.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Reply:
    """A scripted HTTP answer.

    `body` (raw bytes or text) overrides `json`. `delay` sleeps before answering,
    `hang` never answers (the handler waits until it is cancelled: client gone or
    server stopped), `reset` sends the headers and half the body, then aborts the
    connection so the client sees a reset mid-body, `drop` reads the request and resets the
    connection (TCP RST) without answering: the request arrived, no answer ever comes.
    """

    status: int = 200
    json: object | None = None
    body: bytes | str | None = None
    content_type: str = "application/json"
    delay: float = 0
    hang: bool = False
    reset: bool = False
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        """The bytes this reply would send as its body."""
        if self.body is not None:
            return self.body.encode() if isinstance(self.body, str) else self.body
        if self.json is not None:
            return jsonlib.dumps(self.json).encode()
        return b""


async def send_reply(request: web.Request, reply: Reply) -> web.StreamResponse:
    """Answer `request` as `reply` says."""
    if reply.delay:
        await asyncio.sleep(reply.delay)
    if reply.hang:
        await asyncio.Event().wait()  # until the handler is cancelled
    payload = reply.payload()
    if reply.drop:
        await request.read()
        _abort(request, rst=True)
    if reply.reset:
        return await _send_reset(request, reply, payload)
    response = web.Response(status=reply.status, body=payload, headers=reply.headers or None)
    response.content_type = reply.content_type
    return response


async def _send_reset(request: web.Request, reply: Reply, payload: bytes) -> web.StreamResponse:
    """Send headers and half the body, then abort the transport."""
    if len(payload) < 2:
        payload = b'{"partial": "' + b"x" * 64 + b'"}'
    response = web.StreamResponse(status=reply.status, headers=reply.headers or None)
    response.content_type = reply.content_type
    response.content_length = len(payload)
    await response.prepare(request)
    await response.write(payload[: len(payload) // 2])
    await asyncio.sleep(0.01)  # let the partial body reach the client first
    _abort(request)


def _abort(request: web.Request, rst: bool = False):
    """Close the connection now (with a TCP RST when `rst`: the client sees ECONNRESET)."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if rst and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    # The connection is gone; cancel this handler so aiohttp does not try to finish it.
    raise asyncio.CancelledError


class LoopbackServer:
    """Runs an aiohttp `web.Application` on 127.0.0.1, port chosen by the OS.

    In-flight handlers (hangs, delays, websockets) are cancelled on `stop()`, so
    stopping is quick even while a request is parked.
    """

    def __init__(self, app: web.Application, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._inflight: set[asyncio.Task[object]] = set()
        app.middlewares.append(self._track_inflight)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        """Start listening; returns `url`."""
        if self._runner is not None:
            return self.url
        runner = web.AppRunner(
            self.app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self._runner = runner
        return self.url

    async def stop(self) -> None:
        """Cancel in-flight handlers and stop listening. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for task in list(self._inflight):
            task.cancel()
        await runner.cleanup()

    @web.middleware
    async def _track_inflight(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is None:
            return await handler(request)
        self._inflight.add(task)
        try:
            return await handler(request)
        finally:
            self._inflight.discard(task)
