"""Acting on TikTok for a Slack user: which link acts, and one call made with it.

`choose_link` is the one rule for which TikTok account acts, used by the command, the
button, `status` and `list`: `as <account>` if granted; else the announcement's account if
the caller was granted it; else the caller's own link; else nothing (connect first).
`call_with_link` makes one TikTok call with refresh-ahead, one refresh-and-retry on
`access_token_invalid`, retries with backoff on 429/5xx, all inside a deadline so a person
always gets an answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.accounts.tokens import RefreshFailure, TokenService
from bot.tiktok.client import ApiResult, with_retries
from bot.tiktok.rules import TIMEOUT
from storage import grants
from storage.announcements import Announcement
from storage.links import Link, Links, LinkUnreadable
from storage.sql import Db


@dataclass(frozen=True)
class Acting:
    """The link that will act for a person, or the catalog code saying why none can."""

    link: Link | None
    problem: str = ""  # not_linked, link_expired, link_unreadable, not_granted, no_such_account,
    # team_link_expired
    rule: str = ""  # why this link: "as", "announcement" or "own"
    account: str = ""  # the team account concerned, if any


def resolve_link(
    db: Db, links: Links, team_id: str, user_id: str, requested: str = "", announced: str = ""
) -> Acting:
    """The rule itself, as one read of the database (runs on the storage thread)."""
    try:
        if requested:
            link = links.get(db, team_id, "team", requested)
            if link is None:
                # A team account the bot forgot (TikTok refused it) still exists for people.
                if links.forgotten(db, team_id, "team", requested) is not None:
                    if not grants.is_granted(db, team_id, requested, user_id):
                        return Acting(None, "not_granted", account=requested)
                    return Acting(None, "team_link_expired", account=requested)
                return Acting(None, "no_such_account", account=requested)
            if not grants.is_granted(db, team_id, requested, user_id):
                return Acting(None, "not_granted", account=requested)
            return Acting(link, rule="as", account=requested)
        if announced and grants.is_granted(db, team_id, announced, user_id):
            link = links.get(db, team_id, "team", announced)
            if link is not None:
                return Acting(link, rule="announcement", account=announced)
        link = links.get(db, team_id, "user", user_id)
    except LinkUnreadable:
        return Acting(None, "link_unreadable", account=requested)
    if link is None:
        if links.forgotten(db, team_id, "user", user_id) is not None:
            return Acting(None, "link_expired")  # the bot forgot a dead link: not "never linked"
        return Acting(None, "not_linked")
    return Acting(link, rule="own")


async def choose_link(
    tokens: TokenService, team_id: str, user_id: str, requested: str = "", announced: str = ""
) -> Acting:
    return await tokens.store.run(
        resolve_link, tokens.links, team_id, user_id, requested, announced
    )


async def poll_link(tokens: TokenService, a: Announcement) -> Link | None:
    """The link that follows an announced upload: its team account, else the last actor's."""
    try:
        if a.account:
            link = await tokens.load(a.team_id, "team", a.account)
            if link is not None:
                return link
        if a.last_user_id:
            return await tokens.load(a.team_id, "user", a.last_user_id)
    except LinkUnreadable:
        return None
    return None


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
