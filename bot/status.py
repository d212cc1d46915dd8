"""Fetching an upload's status from TikTok with the caller's link, as an `Outcome`.

A successful fetch has the status value (`PROCESSING_DOWNLOAD`, `FAILED`, …) as its code,
so the catalog explains it like any other outcome; `data` keeps TikTok's fields.
"""

from __future__ import annotations

from bot.acting import call_with_link, choose_link
from bot.linking import LinkingService
from bot.outcome import Actor, Outcome
from bot.settings import Settings
from bot.tiktok import TikTokClient
from bot.tiktok_rules import STATUS_VALUES
from bot.tokens import TokenService
from storage import announcements
from storage.db import Store


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
        announced = await self.store.run(announcements.get, publish_id)
        title = announced.title if announced else ""
        acting = await choose_link(
            self.tokens,
            actor.team_id,
            actor.user_id,
            announced=announced.account if announced else "",
        )
        if acting.link is None:
            url = await self.linking.connect_url(actor)
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
        connect_url = ""
        if code in ("link_expired", "link_unreadable"):
            connect_url = await self.linking.connect_url(actor)
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
            data=result.data,
        )
