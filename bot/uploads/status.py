"""Fetching an upload's status from TikTok with the caller's link, as an `Outcome`.

A successful fetch has the status value (`PROCESSING_DOWNLOAD`, `FAILED`, …) as its code,
so the catalog explains it like any other outcome; `data` keeps TikTok's fields. An upload
still downloading whose cancel TikTok accepted but hasn't confirmed (announced, or followed
for whoever asked) reads `cancel_pending`: who asked and when, not "it will post unless
someone stops it".
"""

from __future__ import annotations

from bot.accounts.acting import call_with_link, choose_link
from bot.accounts.linking import LinkingService
from bot.accounts.tokens import TokenService
from bot.actor import Actor
from bot.outcome import Outcome
from bot.settings import Settings
from bot.tiktok.client import TikTokClient
from bot.tiktok.rules import STATUS_VALUES
from storage import announcements, followed
from storage.announcements import Announcement
from storage.db import Store
from storage.followed import FollowedCancel


def pending_cancel(
    announced: Announcement | None, follow: FollowedCancel | None
) -> dict[str, object] | None:
    """Who asked TikTok to cancel it and when, while TikTok hasn't said how that ended."""
    if announced is not None and announced.stopping:
        by, at, unfollowed = announced.cancel_by, announced.cancel_at, announced.unfollowed
    elif announced is None and follow is not None and follow.stopping:
        by, at, unfollowed = follow.user_id, follow.asked_at, follow.unfollowed
    else:
        return None
    return {"by": by, "at": at, "unfollowed": unfollowed}


class StatusService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        tiktok: TikTokClient,
        tokens: TokenService,
        linking: LinkingService,
    ):
        self.settings = settings
        self.store = store
        self.tiktok = tiktok
        self.tokens = tokens
        self.linking = linking

    async def status(self, actor: Actor, publish_id: str) -> Outcome:
        announced = await self.store.run(announcements.get, actor.team_id, publish_id)
        follow = await self.store.run(followed.get, actor.team_id, publish_id)
        title = announced.title if announced else ""
        acting = await choose_link(
            self.tokens,
            actor.team_id,
            actor.user_id,
            announced=announced.account if announced else "",
        )
        if acting.link is None:
            url = await self.linking.connect_url_for(acting.problem, actor)
            return Outcome(
                "status", acting.problem, publish_id, actor, title=title, connect_url=url
            )
        settings = self.settings
        call = await call_with_link(
            self.tokens,
            acting.link,
            lambda token: self.tiktok.status(token, publish_id),
            deadline_s=settings.cancel_deadline,
            base_delay=settings.retry_base_delay,
        )
        result = call.result
        code = result.code
        if result.ok:
            value = result.data.get("status")
            code = value if value in STATUS_VALUES else "unknown"
        connect_url = await self.linking.connect_url_for(code, actor)
        data, pending = result.data, pending_cancel(announced, follow)
        if code == "PROCESSING_DOWNLOAD" and pending is not None:
            code, data = "cancel_pending", {**result.data, **pending}
        return Outcome(
            action="status",
            code=code,
            publish_id=publish_id,
            actor=actor,
            title=title,
            account=call.link.display_name,
            http_status=result.http_status,
            log_id=result.log_id,
            attempts=call.attempts,
            latency_ms=result.latency_ms,
            connect_url=connect_url,
            data=data,
            announced=code == "cancel_pending" and announced is not None,
            followed=code == "cancel_pending" and announced is None,
        )
