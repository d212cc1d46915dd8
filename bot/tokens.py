"""Usable TikTok tokens: load a link, refresh it ahead of expiry or when TikTok refuses it.

TikTok rotates refresh tokens (the old one dies), so a refresh must happen once per link at
a time and its new pair must be stored before anyone else reads the link: one lock per
link, and the refresh is shielded from the caller's deadline so a rotated pair is never lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from bot.tiktok import (
    BAD_RESPONSE,
    CONNECTION_FAILED,
    SERVER_ERROR,
    TIMEOUT,
    OAuthResult,
    TikTokClient,
)
from storage.db import Store
from storage.links import Link, Links, LinkUnreadable

log = logging.getLogger(__name__)

REFRESH_MARGIN_SECONDS = 300
FAULTS = frozenset(
    {TIMEOUT, SERVER_ERROR, BAD_RESPONSE, CONNECTION_FAILED}
)  # refresh when the access token has less than this left


@dataclass(frozen=True)
class RefreshFailure:
    """Why a link could not be refreshed: a catalog code and what TikTok said."""

    code: str  # "link_expired" when TikTok refused the refresh token; else the fault code
    http_status: int | None = None
    log_id: str = ""


class TokenService:
    def __init__(self, store: Store, links: Links, tiktok: TikTokClient):
        self.store = store
        self.links = links
        self.tiktok = tiktok
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def load(self, team_id: str, kind: str, owner: str) -> Link | None:
        """The stored link, or None; raises `LinkUnreadable` when the key cannot decrypt it."""
        return await self.store.run(self.links.get, team_id, kind, owner)

    async def save(self, link: Link) -> None:
        await self.store.run(self.links.save, link)

    async def delete(self, link: Link) -> None:
        await self.store.run(self.links.delete, *link.key)

    async def forget_open_id(self, open_id: str) -> int:
        """TikTok revoked this account's access: drop every link to it. Returns how many."""
        if not open_id:
            return 0
        return len(await self.store.run(self.links.delete_open_id, open_id))

    async def fresh(self, link: Link) -> Link | RefreshFailure:
        """The link, refreshed first if its access token is about to expire."""
        if not link.expires_within(REFRESH_MARGIN_SECONDS):
            return link
        refreshed = await self.refresh(link)
        unreachable = isinstance(refreshed, RefreshFailure) and refreshed.code != "link_expired"
        if unreachable and not link.expires_within(0):
            return link  # TikTok is unreachable now, but the current token still works a while
        return refreshed

    async def refresh(self, stale: Link) -> Link | RefreshFailure:
        """Refresh `stale` once, shared by everyone who holds the same stale token."""
        return await asyncio.shield(self._refresh_locked(stale))

    async def _refresh_locked(self, stale: Link) -> Link | RefreshFailure:
        lock = self._locks.setdefault(stale.key, asyncio.Lock())
        async with lock:
            try:
                current = await self.load(*stale.key)
            except LinkUnreadable:
                return RefreshFailure("link_unreadable")
            if current is None:
                return RefreshFailure("not_linked")
            if current.access_token != stale.access_token:
                return current  # someone refreshed while we waited for the lock
            result: OAuthResult = await self.tiktok.refresh(current.refresh_token)
            if not result.ok or result.grant is None:
                log.warning(
                    "tiktok.refresh_failed",
                    extra={
                        "code": result.code,
                        "http_status": result.http_status,
                        "log_id": result.log_id,
                    },
                )
                if result.code in FAULTS:
                    return RefreshFailure(result.code, result.http_status, result.log_id)
                # TikTok refused the refresh token: the link is dead, so forget it.
                await self.delete(current)
                return RefreshFailure("link_expired", result.http_status, result.log_id)
            grant = result.grant
            now = time.time()
            renewed = current.with_tokens(
                access=grant.access_token,
                access_expires_at=now + grant.expires_in,
                refresh=grant.refresh_token or current.refresh_token,
                refresh_expires_at=(
                    now + grant.refresh_expires_in
                    if grant.refresh_expires_in
                    else current.refresh_expires_at
                ),
                scope=grant.scope or None,
            )
            await self.save(renewed)
            log.info("tiktok.refreshed", extra={"kind": current.kind})
            return renewed
