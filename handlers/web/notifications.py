"""`POST /notifications`: the upload pipeline announces an upload (bearer `NOTIFY_TOKEN`, 404
while it is unset; with many workspaces a workspace's pipeline token, which decides where).
201 with the message's channel and ts, 200 for a repeat."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.accounts.pipeline_credentials import NOTIFY, PipelineCredentials
from bot.uploads.announcing import AnnounceError, AnnouncementService
from handlers.web import pipeline_request
from handlers.web.pipeline_request import error, parse_notification

log = logging.getLogger(__name__)

UNKNOWN_INTERNAL_ERROR = (
    "The bot failed on its own (not Slack); we don't know whether the announcement was "
    "posted. Send the same request again: a repeat never posts twice."
)


def register(
    web_app: web.Application,
    *,
    credentials: PipelineCredentials,
    announcements: AnnouncementService,
) -> None:
    async def notifications(request: web.Request) -> web.Response:
        try:
            team_id, body = await pipeline_request.read(request, credentials, NOTIFY)
        except AnnounceError as refused:
            return error(refused.status, refused.message)
        try:
            result = await announcements.announce(team_id, parse_notification(body))
        except AnnounceError as refused:
            return error(refused.status, refused.message)
        except Exception as exc:  # a bug of ours; never a traceback in the answer
            log.error("notifications.internal_error", extra={"error": type(exc).__name__})
            return error(500, UNKNOWN_INTERNAL_ERROR)
        return web.json_response(
            {"channel": result.channel, "ts": result.ts}, status=201 if result.created else 200
        )

    web_app.router.add_post("/notifications", notifications)
