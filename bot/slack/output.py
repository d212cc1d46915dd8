"""Talking back to Slack: ephemeral replies through `response_url`, audit posts, DMs.

All of it goes through slack_sdk clients sharing the bot's one aiohttp session, with
slack_sdk's retry handlers for rate limits, 5xx and dropped connections. A Slack failure
here is logged (never the URL or a token) and never undoes what was already done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import messages
from bot.outcome import Outcome

log = logging.getLogger(__name__)
T = TypeVar("T")


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code, also when its answer was not JSON (a 5xx page): then `http_<status>`."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(exc.response, 'status_code', 'error')}"


def retry_handlers() -> list:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


class SlackOut:
    def __init__(
        self, client: AsyncWebClient, session: aiohttp.ClientSession, audit_channel: str | None
    ):
        self.client = client
        self.session = session
        self.audit_channel = audit_channel
        self._retry_handlers = retry_handlers()  # stateless, shared by every reply
        self._identity: dict | None = None
        self._identity_lock = asyncio.Lock()

    async def identity(self) -> dict:
        """The bot's `auth.test` answer (team_id, user_id, bot_id), asked once per process."""
        if self._identity is None:
            async with self._identity_lock:
                if self._identity is None:
                    resp = await self.client.auth_test()
                    self._identity = dict(resp.data) if isinstance(resp.data, dict) else {}
        return self._identity

    async def team_id(self) -> str:
        return str((await self.identity()).get("team_id") or "")

    async def respond(
        self, response_url: str | None, message: messages.Message, *, replace_original: bool = False
    ) -> bool:
        """An ephemeral answer to the person who asked; False if Slack did not take it."""
        if not response_url:
            return False
        webhook = AsyncWebhookClient(
            url=response_url, session=self.session, timeout=10, retry_handlers=self._retry_handlers
        )
        body = {**message, "response_type": "ephemeral", "replace_original": replace_original}
        try:
            resp = await webhook.send_dict(body)
        except Exception as exc:  # the person gets nothing; the audit row already exists
            log.warning("slack.respond_failed", extra={"error": type(exc).__name__})
            return False
        if resp.status_code >= 400:
            log.warning("slack.respond_failed", extra={"http_status": resp.status_code})
            return False
        return True

    @staticmethod
    async def _quietly(what: str, call: Awaitable[T]) -> T | None:
        """Await a Slack call; a failure is logged (never its payload) and gives None."""
        try:
            return await call
        except SlackApiError as exc:
            log.warning(f"slack.{what}_failed", extra={"error": slack_error(exc)})
        except Exception as exc:
            log.warning(f"slack.{what}_failed", extra={"error": type(exc).__name__})
        return None

    async def post_or_raise(
        self, channel: str, message: messages.Message, thread_ts: str | None = None
    ) -> dict:
        """Post a message; a Slack refusal raises `SlackApiError` for the caller to explain."""
        resp = await self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message
        )
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    async def post_placed(self, channel: str, message: messages.Message) -> tuple[str, str]:
        """Post a new message; where Slack placed it: (channel id, ts). A refusal raises."""
        posted = await self.post_or_raise(channel, message)
        return str(posted.get("channel") or channel), str(posted.get("ts") or "")

    async def post(
        self, channel: str, message: messages.Message, thread_ts: str | None = None
    ) -> dict | None:
        return await self._quietly("post", self.post_or_raise(channel, message, thread_ts))

    async def update(self, channel: str, ts: str, message: messages.Message) -> bool:
        call = self.client.chat_update(channel=channel, ts=ts, **message)
        return await self._quietly("update", call) is not None

    async def post_audit(self, outcome: Outcome) -> None:
        """The public audit entry of one attempt, in AUDIT_CHANNEL when it is set."""
        if self.audit_channel and outcome.code != "in_flight":
            await self.post(self.audit_channel, messages.audit_entry(outcome))

    async def dm(self, user_id: str, message: messages.Message) -> None:
        await self.post(user_id, message)

    async def open_view(self, trigger_id: str, view: dict) -> bool:
        """Open a modal for the person whose click gave `trigger_id` (valid 3 s); False if
        Slack did not take it."""
        call = self.client.views_open(trigger_id=trigger_id, view=view)
        return await self._quietly("views_open", call) is not None

    async def group_members(self, group_id: str) -> frozenset[str] | None:
        """The members of a Slack user group, or None when Slack would not say."""
        resp = await self._quietly(
            "usergroup_members", self.client.usergroups_users_list(usergroup=group_id)
        )
        if resp is None or not isinstance(resp.data, dict):
            return None
        return frozenset(str(u) for u in resp.data.get("users") or [])
