"""TikTok API client: cancel, status, OAuth token/refresh/revoke, user info.

Knows nothing of Slack or SQLite. Every call returns a typed result and never raises on an
API error code or a fault: a timeout, a 5xx, a body that is not JSON, a refused connection
all come back as an `ApiResult` whose `code` names what happened.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot import metrics
from bot.tiktok.catalog import is_known
from bot.tiktok.rules import (
    BAD_RESPONSE,
    CONNECTION_FAILED,
    REFUSED_WITHOUT_ACTING,
    RETRYABLE_CODES,
    SERVER_ERROR,
    TIMEOUT,
    UNKNOWN_OUTCOME_CODES,
)

log = logging.getLogger(__name__)

# TikTok documents this path today (Media Transfer Guide). The seed's older copy of the
# guide named POST /v2/post/transmission/cancel/ on open-platform.tiktokapis.com.
CANCEL_PATH = "/v2/post/publish/cancel/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
TOKEN_PATH = "/v2/oauth/token/"
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
DIRECT_POST_INIT_PATH = "/v2/post/publish/video/init/"
POST_INFO_FIELDS = (
    "title",
    "privacy_level",
    "disable_duet",
    "disable_comment",
    "disable_stitch",
    "video_cover_timestamp_ms",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
)
USER_INFO_FIELDS = "open_id,union_id,avatar_url,display_name"

JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}
OTHER_CODE = "other_code"  # /metrics: an error code the catalog doesn't know
metrics.tiktok_calls.prebind((CANCEL_PATH, "ok"), (STATUS_PATH, "ok"), (TOKEN_PATH, "ok"))


def counted(path: str, code: str) -> None:
    """One call's outcome for /metrics: the fixed API path, and `ok`, a code the catalog
    knows (TikTok's or one of our faults), or `other_code`."""
    metrics.tiktok_call(path, code if is_known(code) else OTHER_CODE)


@dataclass(frozen=True)
class ApiResult:
    """The outcome of one TikTok call: `ok` only when TikTok said `error.code == "ok"`."""

    ok: bool
    code: str
    http_status: int | None = None
    log_id: str = ""
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    latency_ms: int = 0

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES


CancelResult = ApiResult


def outcome_unknown(result: ApiResult) -> bool:
    """True when the request may have acted at TikTok though we got no clear answer."""
    if result.ok:
        return False
    if result.code in UNKNOWN_OUTCOME_CODES:
        return True
    return (result.http_status or 0) >= 500


@dataclass(frozen=True)
class TokenGrant:
    open_id: str
    scope: str
    access_token: str = field(repr=False)
    expires_in: int
    refresh_token: str = field(repr=False)
    refresh_expires_in: int


@dataclass(frozen=True)
class OAuthResult:
    """Token endpoint answers: a grant, or an OAuth error code (`invalid_grant`, …) or fault."""

    ok: bool
    code: str
    grant: TokenGrant | None = None
    description: str = ""
    http_status: int | None = None
    log_id: str = ""


@dataclass(frozen=True)
class _Raw:
    status: int | None
    body: Any  # parsed JSON, or None
    fault: str | None  # one of the fault codes, when the call did not produce usable JSON
    latency_ms: int
    path: str = ""


class TikTokClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        client_key: str,
        client_secret: str,
        request_timeout: float = 5.0,
    ):
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.client_key = client_key
        self.client_secret = client_secret
        self.timeout = aiohttp.ClientTimeout(total=request_timeout)

    @classmethod
    def from_settings(cls, session: aiohttp.ClientSession, settings) -> TikTokClient:
        """The client for `bot.settings.Settings` (API base, app credentials, timeout)."""
        return cls(
            session,
            settings.tiktok_api_url,
            settings.tiktok_client_key,
            settings.tiktok_client_secret,
            settings.tiktok_request_timeout,
        )

    async def _request(self, method: str, path: str, **kwargs: Any) -> _Raw:
        started = time.monotonic()
        status: int | None = None
        fault: str | None = None
        body: Any = None
        try:
            async with self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            ) as resp:
                status = resp.status
                raw = await resp.read()
            try:
                body = json.loads(raw) if raw else None
            except (ValueError, UnicodeDecodeError):
                body = None
            if not isinstance(body, dict):
                body = None
                fault = SERVER_ERROR if status >= 500 else BAD_RESPONSE
        except TimeoutError:
            fault = TIMEOUT
        except aiohttp.ClientConnectorError:
            fault = CONNECTION_FAILED  # no connection was made: TikTok never got the request
        except aiohttp.ClientError:
            # Anything else (a reset, a disconnect, a body cut off) came after the connection
            # was made, so the request may have gone out: whether it acted is unknown.
            fault = BAD_RESPONSE
        latency_ms = int((time.monotonic() - started) * 1000)
        log.info(
            "tiktok.call",
            extra={"path": path, "http_status": status, "fault": fault, "latency_ms": latency_ms},
        )
        return _Raw(status, body, fault, latency_ms, path)

    def _envelope(self, raw: _Raw) -> ApiResult:
        result = self._read_envelope(raw)
        counted(raw.path, result.code)
        return result

    @staticmethod
    def _read_envelope(raw: _Raw) -> ApiResult:
        if raw.fault:
            return ApiResult(False, raw.fault, raw.status, latency_ms=raw.latency_ms)
        error = raw.body.get("error")
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            if raw.status and raw.status >= 500:
                code = SERVER_ERROR
            elif raw.status == 429:
                code = "rate_limit_exceeded"
            else:
                code = BAD_RESPONSE
            return ApiResult(False, code, raw.status, latency_ms=raw.latency_ms)
        code = error["code"] or BAD_RESPONSE
        status = raw.status or 0
        if code == "ok" and status >= 400:  # contradicts itself: trust the HTTP status
            code = SERVER_ERROR if status >= 500 else BAD_RESPONSE
        data = raw.body.get("data")
        return ApiResult(
            ok=code == "ok",
            code=code,
            http_status=raw.status,
            log_id=str(error.get("log_id") or ""),
            message=str(error.get("message") or ""),
            data=data if isinstance(data, dict) else {},
            latency_ms=raw.latency_ms,
        )

    async def _post_json(self, path: str, token: str, payload: dict) -> ApiResult:
        headers = {**JSON_HEADERS, "Authorization": f"Bearer {token}"}
        return self._envelope(await self._request("POST", path, json=payload, headers=headers))

    async def cancel(self, token: str, publish_id: str) -> CancelResult:
        return await self._post_json(CANCEL_PATH, token, {"publish_id": publish_id})

    async def status(self, token: str, publish_id: str) -> ApiResult:
        return await self._post_json(STATUS_PATH, token, {"publish_id": publish_id})

    async def creator_info(self, token: str) -> ApiResult:
        """Query creator info (§11.1): nickname, privacy options, longest video allowed."""
        return await self._post_json(CREATOR_INFO_PATH, token, {})

    async def init_direct_post(self, token: str, post: dict, source_url: str) -> ApiResult:
        """One Direct Post init, PULL_FROM_URL (§11.2). Never retry one whose outcome is
        unknown (see `outcome_unknown`): a second init posts the video twice."""
        post_info = {k: post[k] for k in POST_INFO_FIELDS if k in post}
        post_info.setdefault("brand_content_toggle", False)
        post_info.setdefault("brand_organic_toggle", False)
        body = {
            "post_info": post_info,
            "source_info": {"source": "PULL_FROM_URL", "video_url": source_url},
        }
        return await self._post_json(DIRECT_POST_INIT_PATH, token, body)

    async def user_info(self, token: str) -> ApiResult:
        raw = await self._request(
            "GET",
            USER_INFO_PATH,
            params={"fields": USER_INFO_FIELDS},
            headers={"Authorization": f"Bearer {token}"},
        )
        return self._envelope(raw)

    def _oauth(self, raw: _Raw) -> OAuthResult:
        result = self._read_oauth(raw)
        counted(raw.path, result.code)
        return result

    @staticmethod
    def _read_oauth(raw: _Raw) -> OAuthResult:
        if raw.fault:
            return OAuthResult(False, raw.fault, http_status=raw.status)
        body = raw.body
        log_id = str(body.get("log_id") or "")
        if isinstance(body.get("access_token"), str) and body["access_token"]:
            try:
                grant = TokenGrant(
                    open_id=str(body.get("open_id") or ""),
                    scope=str(body.get("scope") or ""),
                    access_token=body["access_token"],
                    expires_in=int(body.get("expires_in") or 0),
                    refresh_token=str(body.get("refresh_token") or ""),
                    refresh_expires_in=int(body.get("refresh_expires_in") or 0),
                )
            except (TypeError, ValueError):
                return OAuthResult(False, BAD_RESPONSE, http_status=raw.status, log_id=log_id)
            return OAuthResult(True, "ok", grant, http_status=raw.status, log_id=log_id)
        error = body.get("error")
        if isinstance(error, dict):  # the v2 envelope shape, seen on some OAuth failures
            log_id = str(error.get("log_id") or log_id)
            description = str(error.get("message") or "")
            error = error.get("code")
        else:
            description = str(body.get("error_description") or "")
        if not isinstance(error, str) or not error:
            error = SERVER_ERROR if (raw.status or 0) >= 500 else BAD_RESPONSE
        return OAuthResult(False, error, None, description, raw.status, log_id)

    def _client_form(self, **fields: str) -> dict[str, str]:
        return {"client_key": self.client_key, "client_secret": self.client_secret, **fields}

    async def exchange_code(self, code: str, redirect_uri: str) -> OAuthResult:
        form = self._client_form(
            code=code, grant_type="authorization_code", redirect_uri=redirect_uri
        )
        return self._oauth(await self._request("POST", TOKEN_PATH, data=form))

    async def refresh(self, refresh_token: str) -> OAuthResult:
        form = self._client_form(grant_type="refresh_token", refresh_token=refresh_token)
        return self._oauth(await self._request("POST", TOKEN_PATH, data=form))

    async def revoke(self, token: str) -> OAuthResult:
        raw = await self._request("POST", REVOKE_PATH, data=self._client_form(token=token))
        if raw.fault or (raw.status or 0) >= 400 or raw.body.get("error"):
            return self._oauth(raw)
        counted(REVOKE_PATH, "ok")
        return OAuthResult(True, "ok", http_status=raw.status)


async def with_retries(
    call, *, attempts: int = 3, base_delay: float = 0.5, deadline: float | None = None
) -> tuple[ApiResult, int]:
    """Run `call()` until it is not retryable, attempts run out, or the deadline would pass.

    Backoff doubles from `base_delay`. Returns the last result and how many calls were made,
    except that a refusal after a try whose outcome is unknown (TikTok's own error) is not the
    whole story: that earlier try may have acted, so its result is returned instead.
    """
    result: ApiResult = await call()
    made = 1
    delay = base_delay
    maybe_acted = result if result.code in UNKNOWN_OUTCOME_CODES else None
    while result.retryable and made < attempts:
        if deadline is not None and time.monotonic() + delay >= deadline:
            break
        await asyncio.sleep(delay)
        delay *= 2
        result = await call()
        made += 1
        if maybe_acted is None and result.code in UNKNOWN_OUTCOME_CODES:
            maybe_acted = result
    if maybe_acted is not None and result.code in REFUSED_WITHOUT_ACTING:
        return maybe_acted, made
    return result, made
