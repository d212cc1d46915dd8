"""The cancel: the one function the slash command and every button call.

authorize (which link acts) → audit "started" → TikTok cancel with refresh-and-retry inside
a deadline → audit "finished" → outcome. A second request for an upload whose cancel is in
flight makes no TikTok call: it is told the first is under way. Listeners (the audit
channel post, later the announcement thread) hear about every finished attempt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.acting import Acting, call_with_link, resolve_link
from bot.linking import LinkingNotConfigured, LinkingService
from bot.outcome import Actor, Outcome
from bot.settings import Settings
from bot.tiktok import TikTokClient
from bot.tokens import TokenService
from storage import announcements, audit
from storage.announcements import Announcement
from storage.audit import AuditFinish, AuditStart
from storage.db import Store
from storage.states import PendingLink

log = logging.getLogger(__name__)

OutcomeListener = Callable[[Outcome], Awaitable[None]]


def _audit_start(actor: Actor, publish_id: str, reason: str, **account: str) -> AuditStart:
    return AuditStart(
        action="cancel",
        team_id=actor.team_id,
        user_id=actor.user_id,
        channel_id=actor.channel_id,
        publish_id=publish_id,
        source=actor.source,
        reason=reason,
        **account,
    )


class CancelService:
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
        self.listeners: list[OutcomeListener] = []
        self._in_flight: dict[tuple[str, str], asyncio.Task[Outcome]] = {}
        self._background: set[asyncio.Task] = set()

    async def connect_url(self, actor: Actor, publish_id: str = "", reason: str = "") -> str:
        """A consent URL that, once used, offers to retry this cancel; "" if not configured."""
        pending = PendingLink(
            team_id=actor.team_id,
            user_id=actor.user_id,
            kind="user",
            owner=actor.user_id,
            channel_id=actor.channel_id,
            retry_publish_id=publish_id,
            retry_reason=reason,
        )
        try:
            return await self.linking.start(pending)
        except LinkingNotConfigured:
            return ""

    async def cancel(
        self, actor: Actor, publish_id: str, reason: str = "", account: str = ""
    ) -> Outcome:
        """Cancel `publish_id` for `actor`, with team account `account` if they asked for one."""
        key = (actor.team_id, publish_id)
        if key in self._in_flight:
            return await self._record_without_call(actor, publish_id, reason, "in_flight")
        task = asyncio.create_task(self._cancel(actor, publish_id, reason, account))
        self._in_flight[key] = task
        task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        outcome = await asyncio.shield(task)  # a dropped Slack request must not orphan the row
        self._notify(outcome)
        return outcome

    def pending(self) -> list[asyncio.Task]:
        """In-flight cancels and their listener posts (shutdown waits for them)."""
        return [*self._in_flight.values(), *self._background]

    async def drain(self) -> None:
        """Wait for what `pending` lists."""
        await asyncio.gather(*self.pending(), return_exceptions=True)

    async def _record_without_call(
        self,
        actor: Actor,
        publish_id: str,
        reason: str,
        code: str,
        account: str = "",
        title: str = "",
    ) -> Outcome:
        entry = _audit_start(actor, publish_id, reason, account=account)
        audit_id = await self.store.run(audit.record, entry, AuditFinish(outcome=code))
        connect_url = ""
        if code in ("not_linked", "link_unreadable", "link_expired"):
            connect_url = await self.connect_url(actor, publish_id, reason)
        data = {"admins": sorted(self.settings.admin_users)} if account else {}
        return Outcome(
            "cancel",
            code,
            publish_id,
            actor,
            title=title,
            reason=reason,
            audit_id=audit_id,
            connect_url=connect_url,
            account=account,
            data=data,
        )

    def _prepare(
        self, db, actor: Actor, publish_id: str, reason: str, account: str
    ) -> tuple[Announcement | None, Acting, int | None]:
        """One trip to the database: the announcement, which link acts, the "started" row."""
        announced = announcements.get(db, publish_id)
        acting = resolve_link(
            db,
            self.tokens.links,
            actor.team_id,
            actor.user_id,
            requested=account,
            announced=announced.account if announced else "",
        )
        if acting.link is None:
            return announced, acting, None
        link = acting.link
        entry = _audit_start(
            actor,
            publish_id,
            reason,
            account=link.display_name,
            account_kind=link.kind,
            account_rule=acting.rule,
            open_id=link.open_id,
        )
        return announced, acting, audit.start(db, entry)

    async def _cancel(self, actor: Actor, publish_id: str, reason: str, account: str) -> Outcome:
        started = time.monotonic()
        announced, acting, audit_id = await self.store.run(
            self._prepare, actor, publish_id, reason, account
        )
        title = announced.title if announced else ""
        if acting.link is None or audit_id is None:
            outcome = await self._record_without_call(
                actor, publish_id, reason, acting.problem, acting.account, title
            )
            return replace(outcome, announced=announced is not None)
        link = acting.link
        call = await call_with_link(
            self.tokens,
            link,
            lambda token: self.tiktok.cancel(token, publish_id),
            deadline_s=self.settings.cancel_deadline,
            base_delay=self.settings.retry_base_delay,
        )
        result = call.result
        latency_ms = int((time.monotonic() - started) * 1000)
        await self.store.run(
            audit.finish,
            audit_id,
            AuditFinish(
                outcome=result.code,
                http_status=result.http_status,
                log_id=result.log_id,
                latency_ms=latency_ms,
                attempts=call.attempts,
            ),
        )
        log.info(
            "cancel.finished",
            extra={
                "code": result.code,
                "http_status": result.http_status,
                "log_id": result.log_id,
                "latency_ms": latency_ms,
                "audit_id": audit_id,
            },
        )
        code, account, data = result.code, call.link.display_name, {}
        connect_url = ""
        if link.kind == "team" and code in ("link_expired", "link_unreadable"):
            # A shared account is relinked by an admin, not by whoever happened to use it.
            code, account = "team_link_expired", link.owner
            data = {"admins": sorted(self.settings.admin_users)}
        elif code in ("link_expired", "link_unreadable", "not_linked"):
            connect_url = await self.connect_url(actor, publish_id, reason)
        return Outcome(
            action="cancel",
            code=code,
            publish_id=publish_id,
            actor=actor,
            title=title,
            reason=reason,
            account=account,
            data=data,
            announced=announced is not None,
            http_status=result.http_status,
            log_id=result.log_id,
            attempts=call.attempts,
            latency_ms=latency_ms,
            audit_id=audit_id,
            connect_url=connect_url,
        )

    def _notify(self, outcome: Outcome) -> None:
        for listener in self.listeners:
            task = asyncio.create_task(self._safe(listener, outcome))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    @staticmethod
    async def _safe(listener: OutcomeListener, outcome: Outcome) -> None:
        try:
            await listener(outcome)
        except Exception:
            log.exception("cancel.listener_failed", extra={"audit_id": outcome.audit_id})
