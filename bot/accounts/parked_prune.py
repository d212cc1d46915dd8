"""Parked tokens don't outlive their confirm page.

After TikTok's consent the exchanged tokens wait, encrypted, on the link confirm page's row
until the person confirms or declines (`storage.oauth_states`). A page nobody answered in time
leaves them there; `ParkedPrune`, a background loop, deletes them once the page has expired
and revokes them at TikTok, so a consent nobody confirmed grants nothing anywhere. Each one is
taken by a compare-and-write, so of several replicas one deletes and revokes it; when TikTok
can't be reached it is put back and tried again on the next round.
"""

from __future__ import annotations

import json
import logging

from cryptography.fernet import Fernet, InvalidToken

from bot.background import WakeableLoop
from bot.tiktok.client import TikTokClient
from storage import oauth_states as states
from storage.db import Store

log = logging.getLogger(__name__)

PRUNE_INTERVAL_S = 60.0  # a confirm page lasts 10 minutes; its tokens go within a minute after
# TikTok didn't answer the revoke: the tokens are parked again for the next round.
TRY_AGAIN = frozenset(
    {"timeout", "connection_failed", "server_error", "bad_response", "rate_limit_exceeded"}
)


class ParkedPrune(WakeableLoop):
    def __init__(
        self, store: Store, tiktok: TikTokClient, fernet: Fernet, interval: float = PRUNE_INTERVAL_S
    ):
        self.store = store
        self.tiktok = tiktok
        self.fernet = fernet
        self.interval = interval
        self.rounds = 0  # finished rounds, for whoever needs to wait for the next one
        super().__init__("parked-prune")

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before looking: a wake-up during the look is not lost
            try:
                await self.prune()
            except Exception:
                log.exception("parked_prune.failed")
            self.rounds += 1
            await self._sleep(self.interval)

    async def prune(self, now: float | None = None) -> int:
        """Delete and revoke every parked token whose page expired (by the database's clock,
        or as of `now`); how many were dropped."""
        dropped = 0
        for parked in await self.store.run(states.expired_parked, now):
            if not await self.store.run(states.drop_parked, parked):
                continue  # another replica took it
            dropped += 1
            token = self._access_token(parked)
            if not token:
                log.info("parked_prune.dropped_unreadable")
                continue
            revoked = await self.tiktok.revoke(token)
            if revoked.ok:
                log.info("parked_prune.revoked")
            elif revoked.code in TRY_AGAIN:
                log.warning("parked_prune.revoke_later", extra={"code": revoked.code})
                await self.store.run(states.park_again, parked)
            else:
                log.warning("parked_prune.revoke_refused", extra={"code": revoked.code})
        return dropped

    def _access_token(self, parked: states.Parked) -> str:
        try:
            grant = json.loads(self.fernet.decrypt(parked.pending_grant.encode()))
        except (InvalidToken, ValueError):
            return ""  # the key changed since it was parked: nothing left to revoke with
        return str(grant.get("access_token") or "") if isinstance(grant, dict) else ""
