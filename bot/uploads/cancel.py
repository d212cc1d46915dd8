"""The cancel: the one function the slash command and every button call.

authorize (which link acts) → audit "started" → TikTok cancel with refresh-and-retry inside
a deadline → audit "finished", the outcome on the announcement and the claim given back, in
one transaction → outcome. A second request for an upload whose cancel is in
flight makes no TikTok call: it is told the first is under way, and by whom. Nor does a
request for an announced upload the bot already knows is final (`already_final`) or that
TikTok is already stopping (`already_stopping`): it is answered from what we know. An `ok`
for an upload the bot did not announce starts following it (`storage.followed`), in the same
trip as the "finished" row, so whoever asked hears how it ended; later requests for it are
answered from that record the same way. Every attempt lands in the audit trail. Listeners
(the audit channel post, the announcement thread) hear about every finished attempt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from bot.accounts.acting import Acting, call_with_link, resolve_link
from bot.accounts.linking import LinkingService
from bot.accounts.tokens import TokenService
from bot.actor import Actor
from bot.background import Background
from bot.claims import Lease
from bot.outcome import Outcome
from bot.settings import Settings
from bot.tiktok.client import TikTokClient
from bot.uploads.announcing import record_cancel
from storage import audit, cancels
from storage.announcements import Announcement
from storage.audit import AuditFinish, AuditStart
from storage.db import Store
from storage.followed import FollowedCancel
from storage.sql import single_write

log = logging.getLogger(__name__)

OutcomeListener = Callable[[Outcome], Awaitable[None]]


def _finish_announced(
    db, audit_id: int, finished: AuditFinish, claim: Lease, record: tuple
) -> None:
    """One transaction after the TikTok call for an announced upload: the "finished" row, the
    outcome on the announcement (`record`: team, publish_id, user, code, when; e.g.
    "stopping" after `ok`, a compare-and-write) and the claim given back. Never the claim
    without the record: a request that takes the claim next must find the upload stopping,
    not a second TikTok call to make. (An unannounced upload's: `storage.cancels`.)"""
    audit.finish(db, audit_id, finished)
    record_cancel(db, *record)
    claim.give_back(db)


def _settled(known: Announcement | FollowedCancel | None) -> bool:
    """What the bot knows already says how a cancel of the upload ends (no TikTok call): a
    cancel TikTok accepted (followed, or the announcement says stopping), or a final upload.
    `storage.cancels.SETTLED` is the same test in SQL."""
    if isinstance(known, FollowedCancel):
        return True
    return known is not None and (known.final or known.stopping)


@single_write  # reads only
def _after_refusal(db, team_id: str, publish_id: str, claim: Lease) -> tuple:
    """After the claim was refused: what is known of the upload now, and who holds the claim."""
    return cancels.known(db, team_id, publish_id), claim.current(db)


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


# After TikTok's `ok` for an unannounced upload, ask soon how the cancel ended.
FOLLOW_FIRST_POLL_S = 15.0


class CancelService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        tiktok: TikTokClient,
        tokens: TokenService,
        linking: LinkingService,
        *,
        admins_of: Callable[[str], Awaitable[frozenset[str]]],
        listeners: Sequence[OutcomeListener] = (),
        on_followed: Sequence[Callable[[float], None]] = (),
    ):
        self.settings = settings
        self.admins_of = admins_of  # a workspace's named bot admins
        self.store = store
        self.tiktok = tiktok
        self.tokens = tokens
        self.linking = linking
        self.listeners = tuple(listeners)  # told of every finished cancel (in the background)
        # told of a new cancel to follow, with when it is first due (`time.time()`)
        self.on_followed = tuple(on_followed)
        # A cancel's claim on its upload outlives the whole attempt (the deadline), so a live
        # holder never loses it; a dead replica's claim frees itself soon after.
        self.claim_seconds = settings.cancel_deadline + 5.0
        self._in_flight = Background("cancel")  # for shutdown, not for deciding
        self._told = Background("cancel.listener")  # listeners told of finished cancels

    async def cancel(
        self, actor: Actor, publish_id: str, reason: str = "", account: str = ""
    ) -> Outcome:
        """Cancel `publish_id` for `actor`, with team account `account` if they asked for one."""
        task = asyncio.create_task(self._cancel(actor, publish_id, reason, account))
        self._in_flight.track(task)
        outcome = await asyncio.shield(task)  # a dropped Slack request must not orphan the row
        if outcome.code != "in_flight":
            self._notify(outcome)
        return outcome

    def pending(self) -> list[asyncio.Task]:
        """In-flight cancels and their listener posts (shutdown waits for them)."""
        return [*self._in_flight.pending(), *self._told.pending()]

    async def listeners_done(self, timeout_s: float = 5.0) -> None:
        """Wait (a little) for the listeners told of finished cancels, e.g. the announcement
        update, so what is shown next reflects them."""
        await self._told.settle(timeout_s)

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
        data: dict | None = None,
    ) -> Outcome:
        entry = _audit_start(actor, publish_id, reason, account=account)
        audit_id = await self.store.run(audit.record, entry, AuditFinish(outcome=code))
        connect_url = await self.linking.connect_url_for(code, actor, publish_id, reason)
        data = dict(data or {})
        if account:
            data["admins"] = sorted(await self.admins_of(actor.team_id))
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

    @single_write
    def _prepare(
        self, db, actor: Actor, publish_id: str, reason: str, account: str, claim: Lease
    ) -> tuple[Announcement | FollowedCancel | None, Acting | None, int | None, bool]:
        """One trip to the database: the announcement, which link acts, then the claim on
        the upload with the "started" row (one statement on PostgreSQL, the trip's only
        write: no transaction of its own there).

        No link and no row when the announcement already says how the cancel ends (final, or
        TikTok is stopping it), or when an unannounced upload's cancel is already followed:
        that request is answered from what we know (the record comes first then). No row
        either when no link can act. The last value is True when another cancel of the upload
        holds the claim (on any replica), whatever the link, or when the claim was refused
        because that upload's cancel was settled after `known` read it (another replica's
        cancel recorded it between the two): nothing is started then.
        """
        known = cancels.known(db, actor.team_id, publish_id)
        if _settled(known):
            return known, None, None, False
        announced = known if isinstance(known, Announcement) else None
        acting = resolve_link(
            db,
            self.tokens.links,
            actor.team_id,
            actor.user_id,
            requested=account,
            announced=announced.account if announced else "",
        )
        if acting.link is None:  # nothing will be sent; one under way is still told of
            return announced, acting, None, claim.current(db) is not None
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
        lease = (claim.name, claim.holder, claim.seconds, actor.user_id)
        audit_id = cancels.claim_and_start(db, lease, entry)
        return announced, acting, audit_id, audit_id is None

    async def _cancel(self, actor: Actor, publish_id: str, reason: str, account: str) -> Outcome:
        started = time.monotonic()
        claim = Lease.cancel(actor.team_id, publish_id, self.claim_seconds)
        record, acting, audit_id, busy = await self.store.run(
            self._prepare, actor, publish_id, reason, account, claim
        )
        announced = record if isinstance(record, Announcement) else None
        title = announced.title if announced else ""
        channel = announced.channel if announced else ""
        if busy:  # another cancel of this upload holds the claim, or has just settled it
            record, current = await self.store.run(_after_refusal, actor.team_id, publish_id, claim)
            if _settled(record):  # it ended while we looked: answer from what it recorded
                assert record is not None
                return await self._answer_from_record(actor, reason, account, record)
            busy_by = current.detail if current else ""
            outcome = await self._record_without_call(
                actor, publish_id, reason, "in_flight", title=title, data={"by": busy_by}
            )
            return replace(outcome, announced=announced is not None, channel=channel)
        if acting is None:  # _prepare found the answer in what we know
            assert record is not None
            return await self._answer_from_record(actor, reason, account, record)
        if acting.link is None or audit_id is None:
            outcome = await self._record_without_call(
                actor, publish_id, reason, acting.problem, acting.account, title
            )
            return replace(outcome, announced=announced is not None, channel=channel)
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
        finished = AuditFinish(
            outcome=result.code,
            http_status=result.http_status,
            log_id=result.log_id,
            latency_ms=latency_ms,
            attempts=call.attempts,
        )
        code, account, data = result.code, call.link.display_name, {}
        if link.kind == "team" and code in ("link_expired", "link_unreadable"):
            # A shared account is relinked by an admin, not by whoever happened to use it.
            code, account = "team_link_expired", link.owner
            data = {"admins": sorted(await self.admins_of(actor.team_id))}
        at = time.time()
        record = (actor.team_id, publish_id, actor.user_id, code, at) if announced else None
        follow = None
        if result.code == "ok" and announced is None:  # nobody else will hear how it ends
            follow = FollowedCancel(
                publish_id=publish_id,
                team_id=actor.team_id,
                user_id=actor.user_id,
                link_kind=link.kind,
                link_owner=link.owner,
                account=call.link.display_name,
                asked_at=at,
                next_poll_at=at + FOLLOW_FIRST_POLL_S,
            )
        if record is not None:
            await self.store.run(_finish_announced, audit_id, finished, claim, record)
            following = False
        else:
            lease = (claim.name, claim.holder)
            following = await self.store.run(
                cancels.finish_unannounced, audit_id, finished, lease, follow
            )
        if following:
            assert follow is not None
            for callback in self.on_followed:
                callback(follow.next_poll_at)
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
        connect_url = await self.linking.connect_url_for(code, actor, publish_id, reason)
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
            channel=channel,
            followed=following,
            http_status=result.http_status,
            log_id=result.log_id,
            attempts=call.attempts,
            latency_ms=latency_ms,
            audit_id=audit_id,
            connect_url=connect_url,
            at=at,
        )

    async def _answer_from_record(
        self, actor: Actor, reason: str, account: str, a: Announcement | FollowedCancel
    ) -> Outcome:
        """No TikTok call: the upload is final, or TikTok already said it would stop it."""
        if isinstance(a, FollowedCancel):
            return await self._answer_from_followed(actor, reason, account, a)
        code = "already_final" if a.final else "already_stopping"
        known = {
            "status": a.status,
            "fail_reason": a.fail_reason,
            "by": a.cancel_by,
            "at": a.cancel_at,
            "final_at": a.final_at,
            "unfollowed": a.unfollowed,
        }
        outcome = await self._record_without_call(
            actor, a.publish_id, reason, code, account, a.title, data=known
        )
        return replace(outcome, announced=True, channel=a.channel, account="")

    async def _answer_from_followed(
        self, actor: Actor, reason: str, account: str, f: FollowedCancel
    ) -> Outcome:
        """The same for an unannounced upload whose cancel TikTok accepted (it is followed)."""
        code = "already_final" if f.final else "already_stopping"
        known = {
            "status": f.status,
            "fail_reason": f.fail_reason,
            "by": f.user_id,
            "at": f.asked_at,
            "final_at": f.final_at,
            "unfollowed": f.unfollowed,
        }
        outcome = await self._record_without_call(
            actor, f.publish_id, reason, code, account, data=known
        )
        return replace(outcome, followed=True, account="")

    def _notify(self, outcome: Outcome) -> None:
        for listener in self.listeners:
            self._told.spawn(listener(outcome))
