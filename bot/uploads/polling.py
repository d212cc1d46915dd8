"""Polling, the backstop to webhooks: announced uploads and followed cancels fetched to their end.

Due uploads are fetched with the status endpoint, at most 20 fetches a minute per TikTok link
(TikTok allows 30), counted in the database so replicas share the limit, backing off from
15 s to 5 min, and given up 2 hours after the announcement (or after the cancel, for an
unannounced upload). The schedule lives in the database, so a restart picks it up.
"""

from __future__ import annotations

import logging
import time

from bot import metrics
from bot.accounts.acting import call_with_link, poll_link
from bot.accounts.tokens import TokenService
from bot.background import PassCounter, WakeableLoop
from bot.claims import Lease
from bot.tiktok.client import TikTokClient
from bot.tiktok.rules import GIVE_UP_AFTER_S, STATUS_VALUES
from bot.uploads.announcing import AnnouncementService
from bot.uploads.cancel_following import FollowedCancels
from storage import announcements as store_announcements
from storage import followed as store_followed
from storage.announcements import Announcement
from storage.db import Store
from storage.followed import FollowedCancel

log = logging.getLogger(__name__)

FIRST_DELAY_S = 15.0
MAX_DELAY_S = 300.0


class StatusPoller(WakeableLoop):
    """A background task that polls due announcements, within TikTok's status rate limit."""

    def __init__(
        self,
        store: Store,
        tiktok: TikTokClient,
        tokens: TokenService,
        announcements: AnnouncementService,
        *,
        request_deadline: float = 10.0,
        base_delay: float = 0.5,
        follows: FollowedCancels | None = None,
    ):
        self.store = store
        self.tiktok = tiktok
        self.tokens = tokens
        self.announcements = announcements
        self.follows = follows
        self.request_deadline = request_deadline
        self.base_delay = base_delay
        self.first_delay = FIRST_DELAY_S
        super().__init__("status-poller")
        self.passes = PassCounter("poller.pass")

    async def next_pass(self, timeout: float = 10.0) -> None:
        """Wake the poller and wait until a pass begun after this call has finished: every
        poll that was due by then has been made (tests prove "nothing else" with it)."""
        target = self.passes.begun + 1
        self.wake()
        await self.passes.wait_for(target, timeout)

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before looking: a wake-up during the look is not lost
            now = time.time()
            number = self.passes.begin(now)
            try:
                await self.poll_due(now)
                next_at = await self._next_poll_time()
            except Exception:
                log.exception("poller.failed")
                next_at = None
            self.passes.finish(number)
            wait = 60.0 if next_at is None else max(0.05, min(60.0, next_at - time.time()))
            await self._sleep(wait)

    async def _next_poll_time(self) -> float | None:
        times = [await self.store.run(store_announcements.next_poll_time)]
        if self.follows is not None:
            times.append(await self.store.run(store_followed.next_poll_time))
        known = [t for t in times if t is not None]
        return min(known) if known else None

    async def poll_due(self, now: float | None = None) -> int:
        """Poll what is due by `now` (announced uploads, then followed cancels); how many were
        due."""
        now = time.time() if now is None else now
        due = await self.store.run(store_announcements.due_for_poll, now)
        for a in due:
            await self.poll_one(a)
        count = len(due)
        if self.follows is not None:
            followed = await self.store.run(store_followed.due_for_poll, time.time())
            for f in followed:
                await self.poll_followed(f)
            count += len(followed)
        return count

    async def _allowed(self, key: str) -> bool:
        """One of the account's status fetches this minute, counted across replicas."""
        return await self.store.run(Lease.poll_rate(key).take)

    async def _reschedule(self, a: Announcement, delay: float) -> None:
        now = time.time()
        if now - a.created_at > GIVE_UP_AFTER_S:
            next_at = None
            metrics.poll("gave_up")
            log.info("poller.gave_up", extra={"poll_count": a.poll_count})
        else:
            next_at = now + delay
        await self.store.run(
            store_announcements.update,
            a.team_id,
            a.publish_id,
            next_poll_at=next_at,
            poll_count=a.poll_count + 1,
        )
        if next_at is None:
            await self.announcements.stopped_following(a.team_id, a.publish_id)

    async def poll_one(self, a: Announcement) -> None:
        backoff = min(MAX_DELAY_S, self.first_delay * 2 ** min(a.poll_count, 10))
        link = await poll_link(self.tokens, a)
        if link is None:  # nobody's link can see it yet; webhooks may still come
            metrics.poll("no_link")
            await self._reschedule(a, MAX_DELAY_S)
            return
        key = "|".join(link.key)
        if not await self._allowed(key):
            metrics.poll("deferred")
            await self.store.run(
                store_announcements.update,
                a.team_id,
                a.publish_id,
                next_poll_at=time.time() + 5,
            )
            return
        data = await self._fetch_status(link, a.publish_id)
        if data is not None:
            raw_ids = data.get("publicaly_available_post_id") or []
            post_ids = [str(p) for p in raw_ids] if isinstance(raw_ids, list) else a.post_ids
            await self.announcements.apply_status(
                a.team_id,
                a.publish_id,
                data["status"],
                str(data.get("fail_reason") or ""),
                post_ids,
            )
        fresh = await self.announcements.get(a.team_id, a.publish_id)
        if fresh is not None and not fresh.final:
            await self._reschedule(fresh, backoff)

    async def _fetch_status(self, link, publish_id: str) -> dict | None:
        """TikTok's status fields for `publish_id`, fetched with `link`; None when the fetch
        gave no status we know (the next poll tries again)."""
        call = await call_with_link(
            self.tokens,
            link,
            lambda token: self.tiktok.status(token, publish_id),
            deadline_s=self.request_deadline,
            base_delay=self.base_delay,
        )
        result = call.result
        if result.ok and result.data.get("status") in STATUS_VALUES:
            metrics.poll("fetched")
            return result.data
        metrics.poll("no_status")
        return None

    async def poll_followed(self, f: FollowedCancel) -> None:
        """One status fetch for an unannounced upload whose cancel TikTok accepted, with the
        link that made the cancel; within the same per-link rate limit as announced uploads."""
        assert self.follows is not None
        backoff = min(MAX_DELAY_S, self.first_delay * 2 ** min(f.poll_count, 10))
        link = await self.follows.poll_link(f)
        if link is None:  # the link is gone; webhooks may still come
            metrics.poll("no_link")
            await self._reschedule_followed(f, MAX_DELAY_S)
            return
        if not await self._allowed("|".join(link.key)):
            metrics.poll("deferred")
            await self.store.run(
                store_followed.update_if,
                f.team_id,
                f.publish_id,
                {"final": f.final},
                next_poll_at=time.time() + 5,
            )
            return
        data = await self._fetch_status(link, f.publish_id)
        if data is not None:
            await self.follows.apply_status(
                f.team_id, f.publish_id, data["status"], str(data.get("fail_reason") or "")
            )
        fresh = await self.follows.get(f.team_id, f.publish_id)
        if fresh is not None and not fresh.final:
            await self._reschedule_followed(fresh, backoff)

    async def _reschedule_followed(self, f: FollowedCancel, delay: float) -> None:
        assert self.follows is not None
        now = time.time()
        gave_up = now - f.asked_at > GIVE_UP_AFTER_S
        next_at = None if gave_up else now + delay
        updated = await self.store.run(
            store_followed.update_if,
            f.team_id,
            f.publish_id,
            {"final": False},
            next_poll_at=next_at,
            poll_count=f.poll_count + 1,
        )
        if gave_up and updated is not None:
            metrics.poll("gave_up")
            log.info("poller.gave_up", extra={"poll_count": f.poll_count})
            await self.follows.stopped_following(updated)
