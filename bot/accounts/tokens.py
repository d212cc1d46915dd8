"""Usable TikTok tokens: load a link, refresh it ahead of expiry or when TikTok refuses it.

TikTok rotates refresh tokens (the old one dies), so a refresh happens once per link at a time,
in this process (one lock per link, dropped when nobody waits) and across replicas (a `refresh`
lease, `bot.claims`: the others wait it out and use what it stored); it is shielded from the
caller's deadline so a rotated pair is never lost, and stored with a conditional write: only if
the row still holds the refresh token we refreshed with. So a refresh that returns after
`disconnect`, `team remove` or a re-link never brings the old link back or overwrites the new
one, whichever replica ran it.

A link is forgotten only when TikTok definitely refused its refresh token (`invalid_grant`),
and only if that token is still the stored one (compare-and-delete), checked a moment after
the refusal: a refresh that lost a race to a newer token (a relink, or another replica's
refresh that is storing its pair) never deletes the winner. Anything else (5xx, 429, a page
that is not JSON, a timeout, a refused connection, `invalid_client`, a code we don't know)
keeps the link.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace

from bot import claims, metrics
from bot.claims import Lease
from bot.keyed_locks import KeyedLocks
from bot.tiktok.client import OAuthResult, TikTokClient
from storage.db import Store
from storage.links import Forgotten, Link, Links, LinkUnreadable

log = logging.getLogger(__name__)

REFRESH_MARGIN_SECONDS = 300  # refresh when the access token has less than this left
REFUSED = "invalid_grant"  # TikTok's definite "this refresh token is dead"
REFUSAL_GRACE_S = 1.0  # after a refusal, how long a racing replica has to store its new pair
# Codes that mean TikTok refused *us* (our client key/secret or app), not the person's link.
MISCONFIGURED = frozenset({"invalid_client", "unauthorized_client"})

LINK_EXPIRED = "link_expired"  # TikTok refused the refresh token; the link is forgotten
REFRESH_UNAVAILABLE = "refresh_unavailable"  # TikTok had trouble; the link is kept
REFRESH_MISCONFIGURED = "refresh_misconfigured"  # TikTok refused our app; the link is kept
KEEPS_LINK = frozenset({REFRESH_UNAVAILABLE, REFRESH_MISCONFIGURED})


@dataclass(frozen=True)
class RefreshFailure:
    """Why a link could not be refreshed: a catalog code and what TikTok said."""

    code: str  # link_expired, refresh_unavailable, refresh_misconfigured, not_linked, …
    http_status: int | None = None
    log_id: str = ""
    tiktok_code: str = ""  # what the token endpoint answered (`invalid_client`, `timeout`, …)

    @property
    def keeps_link(self) -> bool:
        return self.code in KEEPS_LINK


def failure_for(result: OAuthResult) -> RefreshFailure:
    """A refresh TikTok did not refuse outright: which kind of trouble it was."""
    code = REFRESH_MISCONFIGURED if result.code in MISCONFIGURED else REFRESH_UNAVAILABLE
    return RefreshFailure(code, result.http_status, result.log_id, result.code)


class TokenService:
    def __init__(self, store: Store, links: Links, tiktok: TikTokClient):
        self.store = store
        self.links = links
        self.tiktok = tiktok
        self.locks = KeyedLocks()  # one refresh per link in this process, queued
        self.refusal_grace_s = REFUSAL_GRACE_S

    async def load(self, team_id: str, kind: str, owner: str) -> Link | None:
        """The stored link, or None; raises `LinkUnreadable` when the key cannot decrypt it."""
        return await self.store.run(self.links.get, team_id, kind, owner)

    async def forgotten(self, team_id: str, kind: str, owner: str) -> Forgotten | None:
        """The tombstone of a link the bot forgot because TikTok refused it, or None."""
        return await self.store.run(self.links.forgotten, team_id, kind, owner)

    async def save(self, link: Link) -> None:
        await self.store.run(self.links.save, link)

    async def delete(self, link: Link) -> None:
        await self.store.run(self.links.delete, *link.key)

    async def forget_open_id(self, open_id: str, detail: str = "") -> list[Forgotten]:
        """TikTok removed this account's access: forget every link to it, leaving tombstones."""
        if not open_id:
            return []
        return await self.store.run(
            self.links.delete_open_id, open_id, "authorization_removed", detail
        )

    async def fresh(self, link: Link) -> Link | RefreshFailure:
        """The link, refreshed first if its access token is about to expire."""
        if not link.expires_within(REFRESH_MARGIN_SECONDS):
            return link
        refreshed = await self.refresh(link)
        failed = isinstance(refreshed, RefreshFailure)
        usable = failed and (refreshed.keeps_link or refreshed.code == LINK_EXPIRED)
        if usable and not link.expires_within(0):
            # TikTok can't (or won't) renew it, but the current access still works: use it for
            # this one request. A refused link is forgotten all the same.
            return link
        return refreshed

    async def refresh(self, stale: Link) -> Link | RefreshFailure:
        """Refresh `stale` once, shared by everyone who holds the same stale token."""
        return await asyncio.shield(self._refresh_locked(stale))

    async def _now_stored(self, key: tuple[str, str, str]) -> Link | RefreshFailure:
        """After losing a race: the link that won, or why there is none."""
        try:
            current = await self.load(*key)
        except LinkUnreadable:
            return RefreshFailure("link_unreadable")
        if current is not None:
            return current
        if await self.forgotten(*key) is not None:
            return RefreshFailure(LINK_EXPIRED)
        return RefreshFailure("not_linked")

    async def _refresh_locked(self, stale: Link) -> Link | RefreshFailure:
        lease = Lease.refresh(stale.key)
        async with self.locks.hold(lease.name):
            current = await self._now_stored(stale.key)
            if isinstance(current, RefreshFailure):
                return current
            if current.refresh_token != stale.refresh_token:
                return current  # refreshed or relinked while we waited
            async with claims.holding(self.store, lease, wait=False) as mine:
                if not mine:
                    return await self._after_other_refresh(stale, lease)
                return await self._refresh_with_tiktok(current)

    async def _after_other_refresh(self, stale: Link, lease: Lease) -> Link | RefreshFailure:
        """Another replica is refreshing this link (TikTok rotates refresh tokens, so two at
        once would leave one invalid): wait for its lease to end, then use what it stored."""
        log.info("tiktok.refresh_waiting", extra={"kind": stale.kind})
        await claims.wait_out(self.store, lease)
        metrics.refresh("waited")
        return await self._now_stored(stale.key)

    async def _refresh_with_tiktok(self, current: Link) -> Link | RefreshFailure:
        """Ask TikTok for a new pair and store it if the link is still the one refreshed."""
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
            if result.code != REFUSED:
                failure = failure_for(result)  # the link is kept
                metrics.refresh(failure.code)
                return failure
            # Another replica may have refreshed with the same token a moment ago (so
            # TikTok refused ours) and be about to store its new pair: give it a moment.
            await asyncio.sleep(self.refusal_grace_s)
            forgot = await self.store.run(self.links.forget_if_current, current, "refresh_refused")
            if forgot:
                metrics.refresh(LINK_EXPIRED)
                log.info("tiktok.link_forgotten", extra={"kind": current.kind})
                return RefreshFailure(LINK_EXPIRED, result.http_status, result.log_id, REFUSED)
            metrics.refresh("superseded")
            return await self._now_stored(current.key)  # a newer link won: keep it
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
        stored = await self.store.run(self.links.replace_tokens, current, renewed)
        if stored is None:
            # Disconnected, removed or relinked while TikTok answered: don't write.
            metrics.refresh("discarded")
            log.info("tiktok.refresh_discarded", extra={"kind": current.kind})
            after = await self._now_stored(current.key)
            if isinstance(after, RefreshFailure):
                # Gone for good (a disconnect, an uninstalled workspace): the pair TikTok just
                # gave must not outlive it. (A relinked row is left alone: revoking could end
                # the new link's authorization too.)
                revoked = await self.tiktok.revoke(grant.access_token)
                log.info("tiktok.discarded_pair_revoked", extra={"ok": revoked.ok})
            return after
        metrics.refresh("refreshed")
        log.info("tiktok.refreshed", extra={"kind": current.kind})
        return replace(renewed, stored_refresh=stored)
