"""Which announced uploads a person may see: those in public channels, and those in private
channels, group DMs and DMs the person is a member of.

Slack is asked (`conversations.info` for whether a conversation is public,
`conversations.members` for who is in one that is not) and each answer is kept in this
process's memory for `ttl` seconds, per channel. The memory only saves calls; it never decides
anything another replica must agree on. When Slack can't be asked (an error, a refusal, no
answer in `timeout` seconds), the channel counts as unknown and its uploads are hidden: we fail
closed, and the caller says that some uploads may be hidden.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

T = TypeVar("T")
MEMBERS_PAGE = 1000  # Slack's page size limit for conversations.members
MAX_MEMBER_PAGES = 20  # beyond 20 000 members we stop reading; absent members count unknown
MAX_CACHED = 5000  # channels remembered at most (expired ones are dropped first)


Where = tuple[str, str]  # (team id, channel id)


class HasChannel(Protocol):
    channel: str


@dataclass(frozen=True)
class Visible:
    """What a person may see of some items, and how many were hidden as unknown."""

    items: list = field(default_factory=list)
    unknown: int = 0  # hidden because Slack couldn't be asked about their channel


@dataclass(frozen=True)
class _Members:
    ids: frozenset[str]
    complete: bool  # False: the channel has more members than we read


class ChannelVisibility:
    """Answers "may this user see this channel?", asking Slack through `client` (an
    `AsyncWebClient`) and remembering answers for `ttl` seconds."""

    def __init__(
        self,
        client_of: Callable[[str], Awaitable[Any]],
        ttl: float = 60.0,
        timeout: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.client_of = client_of  # a workspace's `AsyncWebClient`, by team id
        self.ttl = ttl
        self.timeout = timeout
        self.clock = clock
        # remembered per (team, channel): two workspaces may both have a channel C1
        self._public: dict[Where, tuple[float, bool]] = {}
        self._members: dict[Where, tuple[float, _Members]] = {}
        self._asking: dict[tuple[str, Where], asyncio.Task] = {}

    async def visible(self, team_id: str, user_id: str, items: Sequence[HasChannel]) -> Visible:
        """The items (in their order) whose channel `user_id` of `team_id` may see."""
        channels = sorted({item.channel for item in items})
        if not channels:
            return Visible(list(items), 0)
        tasks = {c: asyncio.ensure_future(self.can_see(team_id, user_id, c)) for c in channels}
        done, pending = await asyncio.wait(tasks.values(), timeout=self.timeout)
        for task in pending:
            task.cancel()  # only this caller's wrapper; a shared Slack call keeps going
        if pending:
            log.warning("visibility.slack_slow", extra={"channels": len(pending)})
        answers = {c: (t.result() if t in done else None) for c, t in tasks.items()}
        shown = [item for item in items if answers[item.channel] is True]
        unknown = sum(1 for item in items if answers[item.channel] is None)
        return Visible(shown, unknown)

    async def can_see(self, team_id: str, user_id: str, channel: str) -> bool | None:
        """True or False, or None when Slack couldn't be asked."""
        where = (team_id, channel)
        public = await self._is_public(where)
        if public is None:
            return None
        if public:
            return True
        members = await self._members_of(where)
        if members is None:
            return None
        if user_id and user_id in members.ids:
            return True
        return False if members.complete else None

    def forget(self) -> None:
        """Drop every remembered answer (as if `ttl` had passed): the next ask goes to Slack."""
        self._public.clear()
        self._members.clear()

    # --- asking Slack, once per channel at a time, remembered for ttl seconds ------------

    async def _is_public(self, channel: Where) -> bool | None:
        return await self._remembered(self._public, "info", channel, self._ask_public)

    async def _members_of(self, channel: Where) -> _Members | None:
        return await self._remembered(self._members, "members", channel, self._ask_members)

    async def _remembered(
        self,
        cache: dict[Where, tuple[float, Any]],
        what: str,
        channel: Where,
        ask: Callable[[Where], Awaitable[T]],
    ) -> T | None:
        hit = cache.get(channel)
        if hit is not None and hit[0] > self.clock():
            return hit[1]
        key = (what, channel)
        task = self._asking.get(key)
        if task is None:
            task = asyncio.ensure_future(self._ask_and_keep(cache, key, channel, ask))
            self._asking[key] = task
        return await asyncio.shield(task)

    async def _ask_and_keep(
        self,
        cache: dict[Where, tuple[float, Any]],
        key: tuple[str, Where],
        channel: Where,
        ask: Callable[[Where], Awaitable[T]],
    ) -> T | None:
        try:
            answer = await ask(channel)
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            log.warning(
                "visibility.slack_failed",
                extra={"method": key[0], "error": error or f"http_{exc.response.status_code}"},
            )
            return None
        except Exception as exc:
            log.warning(
                "visibility.slack_failed", extra={"method": key[0], "error": type(exc).__name__}
            )
            return None
        else:
            self._keep(cache, channel, answer)
            return answer
        finally:
            self._asking.pop(key, None)

    def _keep(self, cache: dict[Where, tuple[float, Any]], channel: Where, answer: Any) -> None:
        now = self.clock()
        if len(cache) >= MAX_CACHED:
            for name in [c for c, (expires, _) in cache.items() if expires <= now]:
                del cache[name]
            while len(cache) >= MAX_CACHED:
                del cache[next(iter(cache))]
        cache[channel] = (now + self.ttl, answer)

    async def _ask_public(self, where: Where) -> bool:
        client = await self.client_of(where[0])
        resp = await client.conversations_info(channel=where[1])
        info = resp.get("channel")
        if not isinstance(info, dict):
            raise ValueError("conversations.info answered without a channel")
        return info.get("is_private") is False and not info.get("is_im") and not info.get("is_mpim")

    async def _ask_members(self, where: Where) -> _Members:
        client = await self.client_of(where[0])
        ids: set[str] = set()
        cursor = ""
        for _ in range(MAX_MEMBER_PAGES):
            resp = await client.conversations_members(
                channel=where[1], limit=MEMBERS_PAGE, cursor=cursor or None
            )
            members = resp.get("members")
            if not isinstance(members, list):
                raise ValueError("conversations.members answered without members")
            ids.update(str(m) for m in members)
            meta = resp.get("response_metadata")
            cursor = str(meta.get("next_cursor") or "") if isinstance(meta, dict) else ""
            if not cursor:
                return _Members(frozenset(ids), True)
        log.warning("visibility.members_truncated", extra={"members": len(ids)})
        return _Members(frozenset(ids), False)
