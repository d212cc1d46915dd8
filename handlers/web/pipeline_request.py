"""The upload pipeline's requests, read one way: `POST /notifications`, `POST /uploads` and
`GET /uploads/<upload_key>` (and `python -m bot announce|upload`, which build the same bodies).

At the door, the route's bearer token is checked (404 while it is unset, 401 without it) and
the JSON body read (standard JSON only, else 400); then the fields are checked, each refusal
an `AnnounceError(400, …)` naming the bad field, and the body becomes the use case's typed
request (`AnnounceRequest`, `UploadRequest`). A refusal is answered as `{"error": …}`.

The body was already read (and its size limited) by `handlers.web.http_guard` before any
route runs. Never logs the body or the token.
"""

from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.accounts.pipeline_credentials import PipelineCredentials
from bot.tiktok.ids import MAX_VALUE_LENGTH, PUBLISH_ID
from bot.uploads.announcing import MAX_TITLE, AnnounceError, AnnounceRequest, slack_refusals
from bot.uploads.held import UploadRequest

CHANNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
ACCOUNT = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_URL = 2048
VIDEO_FIELDS: dict[str, tuple[type, ...]] = {
    "format": (str,),
    "codec": (str,),
    "fps": (int, float),
    "width": (int,),
    "height": (int,),
    "duration_s": (int, float),
    "size_bytes": (int,),
}
MAX_VIDEO_NUMBER = 10**15  # far above any real size in bytes; keeps numbers plain
UPLOAD_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}")
PRIVACY_LEVELS = frozenset(
    {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"}
)
BOOL_FIELDS = (
    "disable_comment",
    "disable_duet",
    "disable_stitch",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
)
MAX_CAPTION = 2200  # post.title: TikTok's caption limit
MAX_HOLD_S = 86400
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,30}")
SLACK_APPROVER = re.compile(r"[UWS][A-Z0-9]{2,30}")  # a user, or a user group (S…)
MAX_APPROVERS = 100
MAX_APPROVAL_HOURS = 720

NOT_FOUND = "not found"
WRONG_BEARER = "missing or wrong bearer token"


def error(status: int, message: str) -> web.Response:
    """The JSON answer of a refused pipeline request."""
    return web.json_response({"error": message}, status=status)


def bearer_token(header: str) -> bytes:
    """The token of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235).

    Bytes as they came (a header that is not UTF-8 still compares, and never matches)."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return b""
    return token.strip().encode("utf-8", "surrogateescape")


def _no_constants(name: str):
    raise AnnounceError(400, f"the body is not valid JSON: {name} is not a JSON number")


def json_body(raw: bytes) -> Any:
    """The pipeline's JSON body. Standard JSON only: Python's json takes NaN, Infinity and
    -Infinity by default, which no JSON sender writes and no field can hold; a number longer
    than Python reads (4300 digits) or nesting deeper than it recurses are refused too, as
    400, never a 5xx. Numbers themselves are bounded by each field's validator."""
    try:
        return json.loads(raw, parse_constant=_no_constants)  # AnnounceError passes through
    except (ValueError, RecursionError):  # UnicodeDecodeError included
        raise AnnounceError(400, "the body is not valid JSON (UTF-8)") from None


async def team_of(request: web.Request, credentials: PipelineCredentials, kind: str) -> str:
    """The workspace the request's bearer token is a credential of: 404 while the route has
    none configured (one workspace, its token unset), 401 for a missing or wrong token, 502
    when Slack can't say which workspace the bot token is (one workspace)."""
    if credentials.route_off(kind):
        raise AnnounceError(404, NOT_FOUND)
    given = bearer_token(request.headers.get("Authorization", ""))
    with slack_refusals(""):
        team_id = await credentials.team_of(kind, given)
    if not team_id:
        raise AnnounceError(401, WRONG_BEARER)
    return team_id


async def read(
    request: web.Request, credentials: PipelineCredentials, kind: str
) -> tuple[str, Any]:
    """The workspace of the checked bearer, then the JSON body; `AnnounceError` says why not."""
    team_id = await team_of(request, credentials, kind)
    return team_id, json_body(await request.read())


# -- the fields ----------------------------------------------------------------------


# Two wordings of a text field, both kept as they were answered: a notification's optional
# and required fields, and an upload's required ones.
def _text(
    body: dict, name: str, limit: int, pattern: re.Pattern | None = None, required: bool = False
) -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise AnnounceError(400, f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise AnnounceError(400, f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise AnnounceError(400, f"{name} must not be empty")
    if len(value) > limit:
        raise AnnounceError(400, f"{name} is longer than {limit} characters")
    if value and pattern is not None and not pattern.fullmatch(value):
        raise AnnounceError(400, f"{name} has characters it may not have")
    return value


def _string(body: dict, name: str, limit: int, pattern: re.Pattern | None = None) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise AnnounceError(400, f"{name} is required (a string)")
    value = value.strip()
    if len(value) > limit:
        raise AnnounceError(400, f"{name} is longer than {limit} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise AnnounceError(400, f"{name} has characters it may not have")
    return value


def json_object(body: Any) -> dict:
    """The body, which must be a JSON object."""
    if not isinstance(body, dict):
        raise AnnounceError(400, "the body must be a JSON object")
    return body


def https_only(source_url: str) -> None:
    """TikTok pulls from HTTPS only."""
    if not source_url.startswith("https://"):
        raise AnnounceError(400, "source_url must start with https:// (TikTok pulls HTTPS only)")


def video_fields(video: Any) -> dict[str, Any]:
    """The upload's video metadata (`video`, optional), as both routes take it."""
    if video is None:
        video = {}
    if not isinstance(video, dict):
        raise AnnounceError(400, "video must be an object")
    checked: dict[str, Any] = {}
    for name, types in VIDEO_FIELDS.items():
        value = video.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            kind = "a string" if types == (str,) else "a number"
            raise AnnounceError(400, f"video.{name} must be {kind}")
        if isinstance(value, str) and len(value) > 64:
            raise AnnounceError(400, f"video.{name} is longer than 64 characters")
        # compare before isfinite: an int too big for a float (10**400) makes isfinite raise
        if not isinstance(value, str) and not (
            0 <= value <= MAX_VIDEO_NUMBER and math.isfinite(value)
        ):
            raise AnnounceError(
                400, f"video.{name} must be a number from 0 to {MAX_VIDEO_NUMBER:.0e}"
            )
        checked[name] = value
    return checked


# -- the two bodies ------------------------------------------------------------------


def parse_notification(body: Any) -> AnnounceRequest:
    """Check a `POST /notifications` body; `AnnounceError(400, …)` names the bad field."""
    body = json_object(body)
    source_url = _text(body, "source_url", MAX_URL)
    if source_url:
        https_only(source_url)
    video = video_fields(body.get("video"))
    return AnnounceRequest(
        publish_id=_text(body, "publish_id", MAX_VALUE_LENGTH, PUBLISH_ID, required=True),
        channel=_text(body, "channel", 80, CHANNEL, required=True),
        title=_text(body, "title", MAX_TITLE),
        account=_text(body, "account", 64, ACCOUNT),
        source_url=source_url,
        video=video,
    )


def _approve_by(value: Any, now: float) -> float:
    if not isinstance(value, str) or len(value) > 40:
        raise AnnounceError(
            400, "approval.approve_by must be a date and time like 2026-12-05T17:00:00Z"
        )
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AnnounceError(
            400, "approval.approve_by must be a date and time like 2026-12-05T17:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise AnnounceError(400, "approval.approve_by must name its time zone (Z for UTC)")
    at = moment.timestamp()
    if at <= now:
        raise AnnounceError(400, "approval.approve_by is in the past")
    if at > now + MAX_APPROVAL_HOURS * 3600:
        raise AnnounceError(
            400, f"approval.approve_by is more than {MAX_APPROVAL_HOURS} hours from now"
        )
    return at


def parse_approval(raw: Any, approval_hours: int, now: float) -> tuple[tuple[str, ...], int, float]:
    """`approval` of a `POST /uploads` body: (approvers, needed, approve_by)."""
    if not isinstance(raw, dict):
        raise AnnounceError(400, "approval must be an object with approvers")
    approvers = raw.get("approvers")
    if (
        not isinstance(approvers, list)
        or not approvers
        or not all(isinstance(a, str) and SLACK_APPROVER.fullmatch(a) for a in approvers)
    ):
        raise AnnounceError(
            400, "approval.approvers must be a list of Slack user ids (U…) or user-group ids (S…)"
        )
    approvers = list(dict.fromkeys(approvers))
    if len(approvers) > MAX_APPROVERS:
        raise AnnounceError(400, f"approval.approvers names more than {MAX_APPROVERS} approvers")
    needed = raw.get("needed", 1)
    if isinstance(needed, bool) or not isinstance(needed, int) or not 1 <= needed <= MAX_APPROVERS:
        raise AnnounceError(
            400, f"approval.needed must be a whole number from 1 to {MAX_APPROVERS}"
        )
    users = [a for a in approvers if not a.startswith("S")]
    if len(users) == len(approvers) and needed > len(users):
        raise AnnounceError(
            400, f"approval.needed is {needed} but only {len(users)} approvers are named"
        )
    approve_by = raw.get("approve_by")
    at = now + approval_hours * 3600 if approve_by is None else _approve_by(approve_by, now)
    return tuple(approvers), needed, at


def parse_upload(
    body: Any, default_hold_s: int, approval_hours: int = 24, now: float | None = None
) -> UploadRequest:
    """Check a `POST /uploads` body; `AnnounceError(400, …)` names the bad field."""
    now = time.time() if now is None else now
    body = json_object(body)
    upload_key = _string(body, "upload_key", 128, UPLOAD_KEY)
    channel = _string(body, "channel", 80, CHANNEL)
    account = _string(body, "account", 64, ACCOUNT)
    source_url = _string(body, "source_url", MAX_URL)
    https_only(source_url)
    hold = body.get("hold_s", default_hold_s)
    # Bounds first, arithmetic after: isfinite() of an int too big for a float (10**400) raises.
    if (
        isinstance(hold, bool)
        or not isinstance(hold, int | float)
        or not 0 <= hold <= MAX_HOLD_S
        or not math.isfinite(hold)
    ):
        raise AnnounceError(400, f"hold_s must be a number of seconds from 0 to {MAX_HOLD_S}")
    approval = None
    if body.get("approval") is not None:
        approval = parse_approval(body["approval"], approval_hours, now)
    submitted_by = body.get("submitted_by")
    if submitted_by is not None and (
        not isinstance(submitted_by, str) or not SLACK_USER.fullmatch(submitted_by)
    ):
        raise AnnounceError(400, "submitted_by must be a Slack user id (U…)")
    raw_post = body.get("post")
    if not isinstance(raw_post, dict):
        raise AnnounceError(400, "post is required (an object with privacy_level)")
    privacy = raw_post.get("privacy_level")
    # With approval, the approver picks the audience; the pipeline's is only a request.
    if not (privacy is None and approval) and privacy not in PRIVACY_LEVELS:
        raise AnnounceError(
            400, "post.privacy_level must be one of " + ", ".join(sorted(PRIVACY_LEVELS))
        )
    post: dict[str, Any] = {"privacy_level": privacy} if privacy else {}
    title = raw_post.get("title")
    if title is not None:
        if not isinstance(title, str) or len(title) > MAX_CAPTION:
            raise AnnounceError(
                400, f"post.title must be a string of at most {MAX_CAPTION} characters"
            )
        if title:
            post["title"] = title
    for name in BOOL_FIELDS:
        value = raw_post.get(name)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise AnnounceError(400, f"post.{name} must be true or false")
        post[name] = value
    cover = raw_post.get("video_cover_timestamp_ms")
    if cover is not None:
        if isinstance(cover, bool) or not isinstance(cover, int) or not 0 <= cover < 2**31:
            raise AnnounceError(400, "post.video_cover_timestamp_ms must be a whole number")
        post["video_cover_timestamp_ms"] = cover
    video = video_fields(body.get("video"))  # checked exactly as POST /notifications checks it
    approvers, needed, approve_by = approval or ((), 0, 0.0)
    return UploadRequest(
        upload_key,
        channel,
        account,
        source_url,
        float(hold),
        post,
        video,
        approvers=approvers,
        needed=needed,
        approve_by=approve_by,
        submitted_by=submitted_by or "",
        approval_hours=approval_hours,
    )
