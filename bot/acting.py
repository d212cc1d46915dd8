"""Acting on TikTok for a Slack user: which link acts, and one call made with it.

`choose_link` is the one rule for which TikTok account acts. `call_with_link` makes one
TikTok call with refresh-ahead, one refresh-and-retry on `access_token_invalid`, retries
with backoff on 429/5xx, all inside a deadline so a person always gets an answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.tiktok import TIMEOUT, ApiResult, with_retries
from bot.tokens import RefreshFailure, TokenService
from storage.links import Link, LinkUnreadable


@dataclass(frozen=True)
class Acting:
    """The link that will act for a person, or the catalog code saying why none can."""

    link: Link | None
    problem: str = ""  # "not_linked" or "link_unreadable" when link is None


async def choose_link(tokens: TokenService, team_id: str, user_id: str) -> Acting:
    """The caller's own link; later rules (team accounts) slot in here."""
    try:
        link = await tokens.load(team_id, "user", user_id)
    except LinkUnreadable:
        return Acting(None, "link_unreadable")
    if link is None:
        return Acting(None, "not_linked")
    return Acting(link)


@dataclass(frozen=True)
class CallOutcome:
    result: ApiResult
    attempts: int  # TikTok calls made for the operation itself (refreshes not counted)
    link: Link  # the link as it stands after any refresh


Operation = Callable[[str], Awaitable[ApiResult]]


def _from_refresh_failure(failure: RefreshFailure) -> ApiResult:
    return ApiResult(False, failure.code, failure.http_status, failure.log_id)


async def call_with_link(
    tokens: TokenService,
    link: Link,
    operation: Operation,
    *,
    deadline_s: float,
    base_delay: float,
) -> CallOutcome:
    """Run `operation(access_token)` for `link` within `deadline_s` seconds."""
    deadline = time.monotonic() + deadline_s
    attempts = 0

    async def run(current: Link) -> ApiResult:
        nonlocal attempts
        result, made = await with_retries(
            lambda: operation(current.access_token), base_delay=base_delay, deadline=deadline
        )
        attempts += made
        return result

    try:
        async with asyncio.timeout(deadline_s):
            fresh = await tokens.fresh(link)
            if isinstance(fresh, RefreshFailure):
                return CallOutcome(_from_refresh_failure(fresh), attempts, link)
            link = fresh
            result = await run(link)
            if result.code == "access_token_invalid":
                renewed = await tokens.refresh(link)
                if isinstance(renewed, RefreshFailure):
                    return CallOutcome(_from_refresh_failure(renewed), attempts, link)
                link = renewed
                result = await run(link)
            return CallOutcome(result, attempts, link)
    except TimeoutError:
        return CallOutcome(ApiResult(False, TIMEOUT), max(attempts, 1), link)
