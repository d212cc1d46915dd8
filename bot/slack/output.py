"""Talking back to Slack: ephemeral replies through `response_url`, audit posts, DMs.

All of it goes through slack_sdk clients sharing the bot's one aiohttp session, with
slack_sdk's retry handlers for rate limits, 5xx and dropped connections. A Slack failure
here is logged (never the URL or a token) and never undoes what was already done.

Every Web API call names the workspace it is for (`team_id` first): with many workspaces each
has its own bot token (`WorkspaceClients` finds it), so a message for one workspace can only
ever be sent with that workspace's token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
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

from bot import messages, metrics
from bot.outcome import Outcome
from bot.slack.metered import MeteredWebClient, response_ended

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


class WorkspaceClients:
    """One `AsyncWebClient` per bot token, on the shared session: `token_of(team_id)` says
    which token a workspace's calls carry (None: not installed; its calls are then made with
    no token, and Slack refuses them)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token_of: Callable[[str], Awaitable[str | None]],
    ):
        self.session = session
        self.base_url = base_url
        self.token_of = token_of
        self._clients: dict[str | None, AsyncWebClient] = {}

    async def client(self, team_id: str) -> AsyncWebClient:
        token = await self.token_of(team_id)
        client = self._clients.get(token)
        if client is None:
            if len(self._clients) > 1000:  # tokens rotate: forget the old ones' clients
                self._clients.clear()
            client = MeteredWebClient(
                token=token,
                base_url=self.base_url,
                session=self.session,
                retry_handlers=retry_handlers(),
            )
            self._clients[token] = client
        return client


class SlackOut:
    def __init__(
        self,
        clients: WorkspaceClients,
        session: aiohttp.ClientSession,
        audit_channel_of: Callable[[str], Awaitable[str | None]],
    ):
        self.clients = clients
        self.session = session
        self.audit_channel_of = audit_channel_of
        self._retry_handlers = retry_handlers()  # stateless, shared by every reply
        self._identities: dict[str | None, dict] = {}  # by bot token
        self._identity_lock = asyncio.Lock()

    async def client(self, team_id: str) -> AsyncWebClient:
        """The Web API client of `team_id`'s workspace (its bot token)."""
        return await self.clients.client(team_id)

    async def identity(self, team_id: str) -> dict:
        """The bot's `auth.test` answer in that workspace (team_id, user_id, bot_id), asked
        once per bot token."""
        client = await self.client(team_id)
        found = self._identities.get(client.token)
        if found is None:
            async with self._identity_lock:
                found = self._identities.get(client.token)
                if found is None:
                    resp = await client.auth_test()
                    found = dict(resp.data) if isinstance(resp.data, dict) else {}
                    self._identities[client.token] = found
        return found

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
            response_ended(None, None)
            return False
        response_ended(resp.status_code, resp.body)
        if resp.status_code >= 400:
            log.warning("slack.respond_failed", extra={"http_status": resp.status_code})
            return False
        metrics.replied()
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
        self,
        team_id: str,
        channel: str,
        message: messages.Message,
        thread_ts: str | None = None,
    ) -> dict:
        """Post a message; a Slack refusal raises `SlackApiError` for the caller to explain."""
        client = await self.client(team_id)
        resp = await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message
        )
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    async def post_placed(
        self, team_id: str, channel: str, message: messages.Message
    ) -> tuple[str, str]:
        """Post a new message; where Slack placed it: (channel id, ts). A refusal raises."""
        posted = await self.post_or_raise(team_id, channel, message)
        return str(posted.get("channel") or channel), str(posted.get("ts") or "")

    async def post(
        self,
        team_id: str,
        channel: str,
        message: messages.Message,
        thread_ts: str | None = None,
    ) -> dict | None:
        return await self._quietly("post", self.post_or_raise(team_id, channel, message, thread_ts))

    async def _update(self, team_id: str, channel: str, ts: str, message: messages.Message):
        client = await self.client(team_id)
        return await client.chat_update(channel=channel, ts=ts, **message)

    async def update(self, team_id: str, channel: str, ts: str, message: messages.Message) -> bool:
        call = self._update(team_id, channel, ts, message)
        return await self._quietly("update", call) is not None

    async def post_audit(self, outcome: Outcome) -> None:
        """The public audit entry of one attempt, in its workspace's audit channel when one is
        set (`settings audit`, or AUDIT_CHANNEL with one workspace)."""
        if outcome.code == "in_flight":
            return
        team_id = outcome.actor.team_id
        channel = await self.audit_channel_of(team_id)
        if channel:
            await self.post(team_id, channel, messages.audit_entry(outcome))

    async def dm(self, team_id: str, user_id: str, message: messages.Message) -> None:
        await self.post(team_id, user_id, message)

    async def _views_open(self, team_id: str, trigger_id: str, view: dict):
        client = await self.client(team_id)
        return await client.views_open(trigger_id=trigger_id, view=view)

    async def open_view(self, team_id: str, trigger_id: str, view: dict) -> bool:
        """Open a modal for the person whose click gave `trigger_id` (valid 3 s); False if
        Slack did not take it."""
        call = self._views_open(team_id, trigger_id, view)
        return await self._quietly("views_open", call) is not None

    async def _group_members(self, team_id: str, group_id: str):
        client = await self.client(team_id)
        return await client.usergroups_users_list(usergroup=group_id)

    async def group_members(self, team_id: str, group_id: str) -> frozenset[str] | None:
        """The members of a Slack user group, or None when Slack would not say."""
        resp = await self._quietly("usergroup_members", self._group_members(team_id, group_id))
        if resp is None or not isinstance(resp.data, dict):
            return None
        return frozenset(str(u) for u in resp.data.get("users") or [])
