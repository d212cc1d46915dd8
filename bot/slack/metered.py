"""Counting every call to Slack for /metrics: by method, and by how it ended.

`MeteredWebClient` is slack_sdk's `AsyncWebClient` whose one door (`api_call`, which every
Web API method goes through, retries included) counts the call once it ended: `ok`, Slack's
error word (`channel_not_found`, `ratelimited`, …) when it is a plain word, else `other` (a
5xx page, a dropped connection, a timeout). `response_ended` does the same for an answer sent
to a `response_url` (method `response_url`). Never a token, a channel or a URL in a label.
"""

from __future__ import annotations

import re

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics

ERROR_WORD = re.compile(r"[a-z_]{1,60}")
METHOD_NAME = re.compile(r"[a-zA-Z]{1,40}(\.[a-zA-Z]{1,40}){1,3}")
RESPONSE_URL = "response_url"


def error_label(error: object) -> str:
    """Slack's error word as a label: itself when it is a plain word, else `other`."""
    return error if isinstance(error, str) and ERROR_WORD.fullmatch(error) else metrics.OTHER


def _failure(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        data = getattr(exc.response, "data", None)
        if isinstance(data, dict):
            return error_label(data.get("error"))
    return metrics.OTHER


class MeteredWebClient(AsyncWebClient):
    """An `AsyncWebClient` that counts each call it makes in /metrics."""

    async def api_call(self, api_method: str, **kwargs):
        method = api_method if METHOD_NAME.fullmatch(api_method) else metrics.OTHER
        try:
            resp = await super().api_call(api_method, **kwargs)
        except Exception as exc:
            metrics.slack_call(method, _failure(exc))
            raise
        data = resp.data if isinstance(resp.data, dict) else {}
        # Without raising (a client made with raise_on_error off): what the answer said.
        error = "ok" if data.get("ok", True) else error_label(data.get("error"))
        metrics.slack_call(method, error)
        return resp


def response_ended(status: int | None, body: object) -> None:
    """An answer sent to a response_url: `ok`, Slack's error word, or `other`."""
    if status is not None and status < 400:
        metrics.slack_call(RESPONSE_URL, "ok")
    else:
        metrics.slack_call(RESPONSE_URL, error_label(body))
