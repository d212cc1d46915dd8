"""`POST /uploads` (hold an upload, the bot starts it when its window closes) and
`GET /uploads/<upload_key>` (where it stands). Bearer `UPLOAD_TOKEN`, never `NOTIFY_TOKEN`:
this route may post a video publicly; 404 while it is unset. With many workspaces a
workspace's pipeline token, which decides the workspace: a key is only ever looked up there."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.accounts.pipeline_credentials import UPLOAD, PipelineCredentials
from bot.settings import Settings
from bot.uploads import policy as upload_policy
from bot.uploads.announcing import AnnounceError
from bot.uploads.held import HeldUploads, status_answer
from handlers.web import pipeline_request
from handlers.web.notifications import UNKNOWN_INTERNAL_ERROR
from handlers.web.pipeline_request import error, parse_upload

log = logging.getLogger(__name__)


def register(
    web_app: web.Application,
    *,
    settings: Settings,
    credentials: PipelineCredentials,
    held: HeldUploads,
) -> None:
    async def uploads(request: web.Request) -> web.Response:
        try:
            team_id, body = await pipeline_request.read(request, credentials, UPLOAD)
        except AnnounceError as refused:
            return error(refused.status, refused.message)
        try:
            request_ = parse_upload(body, settings.hold_seconds, settings.approval_hours)
            upload_policy.check(request_, settings)
            result = await held.submit(team_id, request_)
        except AnnounceError as refused:
            return error(refused.status, refused.message)
        except Exception as exc:  # a bug of ours; never a traceback in the answer
            log.error("uploads.internal_error", extra={"error": type(exc).__name__})
            return error(500, UNKNOWN_INTERNAL_ERROR)
        return web.json_response(result.answer, status=202 if result.created else 200)

    async def upload_status(request: web.Request) -> web.Response:
        """Where a held upload stands (the same bearer as POST)."""
        try:
            team_id = await pipeline_request.team_of(request, credentials, UPLOAD)
        except AnnounceError as refused:
            return error(refused.status, refused.message)
        key = request.match_info["upload_key"]
        # a key POST /uploads could never have taken (a NUL byte, 10 KB) is not looked up
        valid = pipeline_request.UPLOAD_KEY.fullmatch(key)
        found = await held.get(team_id, key) if valid else None
        if found is None:
            return error(404, "no held upload has that upload_key")
        return web.json_response(status_answer(found))

    web_app.router.add_post("/uploads", uploads)
    web_app.router.add_get("/uploads/{upload_key}", upload_status)
