"""Socket Mode, timed for /metrics: Bolt's aiohttp Socket Mode handler, with each request's
arrival noted (`bot.metrics.ARRIVED`, which the listener's task inherits, so a command's answer
is timed from it) and its acknowledgement timed until Bolt's answer was sent on the socket."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot import metrics

# Socket Mode's envelope types, as /metrics names the kinds of Slack request.
KINDS = {"slash_commands": "command", "interactive": "interactive", "events_api": "event"}


class TimedSocketModeHandler(AsyncSocketModeHandler):
    async def handle(self, client, req) -> None:  # type: ignore[override]
        arrived = metrics.now()
        token = metrics.arrived(arrived)
        try:
            await super().handle(client, req)
        finally:
            metrics.ARRIVED.reset(token)
        metrics.ack_seconds(KINDS.get(req.type, metrics.OTHER), metrics.now() - arrived)
