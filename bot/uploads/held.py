"""Held uploads: the bot starts a pull-from-URL Direct Post itself when a window closes.

`submit` is the one path for `POST /uploads` and `python -m bot upload`: checked input, a
fresh creator_info check, one Slack post per upload_key (a repeat answers with the first),
the row stored with its window. `start` makes the one Direct Post init: only the caller
whose conditional update moved the row from `held` (or `asking`) to `starting` calls TikTok,
so a click, the scheduler and a second replica can never start it twice. An init whose
outcome is unknown is never retried. The upload is bound to the TikTok account (open_id) its
team account had when it was accepted: a start that finds the team account linked to another
one sends TikTok nothing (`account_changed`). `HeldScheduler` wakes when a window closes; the
schedule is in the database, so it survives restarts.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot import messages
from bot.accounts.acting import call_with_link
from bot.accounts.tokens import RefreshFailure, TokenService
from bot.background import PassCounter, WakeableLoop
from bot.keyed_locks import KeyedLocks
from bot.messages import held as held_messages
from bot.slack.output import SlackOut
from bot.tiktok.client import ApiResult, TikTokClient, outcome_unknown
from bot.tiktok.restrictions import broken_rules
from bot.tiktok.rules import ACCOUNT_CHANGED, INTERRUPTED, START_AGAIN_CODES
from bot.uploads.announcing import (
    FIRST_POLL_DELAY_S,
    INTERNAL_ERROR,
    AnnounceError,
    AnnouncementService,
    slack_refusals,
)
from bot.uploads.announcing import MAX_TITLE as ANNOUNCED_TITLE
from storage import announcements as store_announcements
from storage import audit, grants
from storage import held as store_held
from storage.announcements import Announcement
from storage.db import Store
from storage.held import HeldUpload
from storage.links import LinkUnreadable

log = logging.getLogger(__name__)
_view = held_messages.HeldView.of  # the plain facts the messages show of a held upload

CREATOR_INFO_DEADLINE_S = 10.0
MISSED_GRACE_S = 30.0  # a window closed less than this long ago is never "missed"
# A row still `starting` this long after its claim: the process making the init died (kill -9)
# mid-call. Whether TikTok acted is unknown; it is said so, and never started again.
STALE_STARTING_S = 120.0
# A claim still `posting` this long (by the database's clock) was left by a process that died
# while Slack was taking the announcement: far longer than a Slack call with its retries.
STALE_POSTING_S = 900.0
POSTING = (
    "upload_key {key} is being announced by another request right now; send it again in a "
    "minute for its answer (it will not be announced twice)"
)


@dataclass(frozen=True)
class UploadRequest:
    upload_key: str
    channel: str
    account: str
    source_url: str
    hold_s: float
    post: dict[str, Any]
    video: dict[str, Any]
    # Approval before posting (POST /uploads "approval"): () = none asked by the pipeline
    # (a team account's `team approvers` rule may still ask for it).
    approvers: tuple[str, ...] = ()
    needed: int = 0
    approve_by: float = 0.0
    submitted_by: str = ""
    approval_hours: int = 24  # the deadline when a rule asks for approval and none was given


# The `team approvers` rule of a team account: (approvers, needed), or None.
ApprovalRule = Callable[[str, str], Awaitable[tuple[tuple[str, ...], int] | None]]


async def no_rule(team_id: str, account: str) -> None:
    return None


def announced_title(caption: str) -> str:
    """A started upload's name in the announcement, `list` and the Home: its caption, cut to
    an announced title's length (a 2,200-character caption would not fit a Slack section)."""
    if len(caption) <= ANNOUNCED_TITLE:
        return caption
    return caption[: ANNOUNCED_TITLE - 1] + "\u2026"


@dataclass(frozen=True)
class Submitted:
    created: bool
    answer: dict[str, Any]


def _answer(h: HeldUpload) -> dict[str, Any]:
    answer = {"upload_key": h.upload_key, "channel": h.channel, "ts": h.ts}
    if h.needs_approval:
        answer["approve_by"] = h.approve_by
    else:
        answer["starts_at"] = h.starts_at
    return answer


def pipeline_state(h: HeldUpload) -> str:
    """The state `GET /uploads/<upload_key>` names (SPEC's list)."""
    if h.state == "posting":  # its announcement is being posted: nothing went to TikTok
        return "awaiting_approval" if h.needs_approval else "held"
    if h.state == "asking":  # its window was missed while the bot was down: still held
        return "held"
    return h.state


def status_answer(h: HeldUpload) -> dict[str, Any]:
    """What `GET /uploads/<upload_key>` tells the pipeline: the state, and what it needs."""
    answer: dict[str, Any] = {**_answer(h), "state": pipeline_state(h)}
    if h.state == "rejected":
        answer["reason"] = h.reason
        answer["rejected_by"] = h.by_user
    if h.publish_id:
        answer["publish_id"] = h.publish_id
    if h.code and h.state != "started":
        answer["code"] = h.code
    if h.state == ACCOUNT_CHANGED:
        answer["reason"] = held_messages.account_changed_reason(_view(h))
    return answer


def _repeat(h: HeldUpload) -> Submitted:
    """The answer to an upload_key already taken: the first answer, once it has one."""
    if h.state == "posting":
        raise AnnounceError(409, POSTING.format(key=h.upload_key))
    return Submitted(False, _answer(h))


class HeldUploads:
    def __init__(
        self,
        store: Store,
        slack: SlackOut,
        tiktok: TikTokClient,
        tokens: TokenService,
        announcements: AnnouncementService,
        admins,
        base_delay: float = 0.5,
        stale_starting_s: float = STALE_STARTING_S,
        *,
        on_new: Sequence[Callable[[], None]] = (),
        approval_rule: ApprovalRule = no_rule,
        on_awaiting: Sequence[Callable[[HeldUpload], Awaitable[None]]] = (),
    ):
        self.store = store
        self.slack = slack
        self.tiktok = tiktok
        self.tokens = tokens
        self.announcements = announcements
        self.admins = admins  # bot.accounts.team_accounts.AdminCheck
        self.base_delay = base_delay
        self.stale_starting_s = stale_starting_s
        self.locks = KeyedLocks()
        self.on_new = tuple(on_new)  # told (no arguments) when a new window is stored
        self.approval_rule = approval_rule
        # told (the stored row) when an upload waiting for approval was announced
        self.on_awaiting = list(on_awaiting)

    async def get(self, team_id: str, upload_key: str) -> HeldUpload | None:
        return await self.store.run(store_held.get, team_id, upload_key)

    # -- submission ---------------------------------------------------------------------

    async def _team_link(self, team_id: str, account: str):
        try:
            link = await self.tokens.load(team_id, "team", account)
        except LinkUnreadable:
            raise AnnounceError(
                400, f"the team account {account} can't be read; an admin must link it again"
            ) from None
        if link is None:
            raise AnnounceError(
                400, f"unknown account {account}: no linked team account has that name"
            )
        if "video.publish" not in {s.strip() for s in link.scope.split(",")}:
            raise AnnounceError(
                400,
                f"account {account} is linked without video.publish; an admin must link it again",
            )
        return link

    async def creator_info(self, link, deadline_s: float = CREATOR_INFO_DEADLINE_S) -> ApiResult:
        """A fresh creator_info of `link`'s account (refreshed once on a 401)."""
        done = await call_with_link(
            self.tokens,
            link,
            self.tiktok.creator_info,
            deadline_s=deadline_s,
            base_delay=self.base_delay,
        )
        return done.result

    async def submit(self, team_id: str, request: UploadRequest) -> Submitted:
        """Hold (or put up for approval) an upload for `team_id`'s workspace, the one the
        pipeline's credential belongs to."""
        # In this process, a repeat waits for the first to finish; across replicas, the
        # insert that claims the upload_key decides who posts (never a lease, which a slow
        # Slack could outlast).
        async with self.locks.hold(f"upload:{team_id}:{request.upload_key}"):
            existing = await self.get(team_id, request.upload_key)
            if existing is not None:
                return _repeat(existing)
            link = await self._team_link(team_id, request.account)
            info = await self.creator_info(link)
            if not info.ok:
                raise AnnounceError(
                    400 if not info.retryable else 502,
                    f"TikTok's creator_info check for account {request.account} failed "
                    f"({info.code}); nothing was announced",
                )
            rule = await self.approval_rule(team_id, request.account)
            approvers, needed, approve_by = request.approvers, request.needed, request.approve_by
            if rule is not None:  # the account's rule, whatever the pipeline sent
                approvers, needed = rule
                approve_by = approve_by or time.time() + request.approval_hours * 3600
            if not approvers and not request.post.get("privacy_level"):
                raise AnnounceError(
                    400, "post.privacy_level is required unless the upload waits for approval"
                )
            options = info.data.get("privacy_level_options") or []
            level = request.post.get("privacy_level")
            # With approval the pipeline's privacy is only a request: the approver picks it.
            if not approvers and level not in options:
                offered = ", ".join(str(o) for o in options) or "none"
                raise AnnounceError(
                    400,
                    f"privacy_level {level} is not offered by account {request.account} now "
                    f"(TikTok offers: {offered})",
                )
            longest = info.data.get("max_video_post_duration_sec")
            duration = request.video.get("duration_s")
            if isinstance(longest, int | float) and duration is not None and duration > longest:
                raise AnnounceError(
                    400,
                    f"the video is {duration:g} s long; account {request.account} may post "
                    f"at most {longest:g} s",
                )
            now = time.time()
            draft = HeldUpload(
                upload_key=request.upload_key,
                team_id=team_id,
                channel=request.channel,
                ts="",
                account=request.account,
                source_url=request.source_url,
                post=request.post,
                video=request.video,
                nickname=str(info.data.get("creator_nickname") or link.display_name or ""),
                hold_s=request.hold_s,
                created_at=now,
                starts_at=now + request.hold_s,
                updated_at=now,
                open_id=link.open_id,
                state="posting",
                approvers=tuple(approvers),
                needed=needed if approvers else 0,
                approve_by=approve_by if approvers else 0.0,
                submitted_by=request.submitted_by,
                avatar_url=str(info.data.get("creator_avatar_url") or ""),
            )
            if approvers:  # no window: it waits for approval until its deadline
                draft = replace(draft, starts_at=approve_by, hold_s=0.0)
            if not await self.store.run(store_held.insert, draft):
                return _repeat(await self.get(team_id, request.upload_key) or draft)
            saved = await self._announce_claimed(draft)
        for callback in self.on_new:
            callback()
        if saved.needs_approval:
            for notify in self.on_awaiting:
                await notify(saved)
        log.info("held.announced", extra={"hold_s": request.hold_s})
        return Submitted(True, _answer(saved))

    async def _announce_claimed(self, draft: HeldUpload) -> HeldUpload:
        """Post the announcement of an upload whose key this request claimed; the row becomes
        `held` with where Slack placed it. A refused post gives the claim back."""
        waiting = "awaiting_approval" if draft.needs_approval else "held"
        shown = replace(draft, state=waiting)
        try:
            with slack_refusals(draft.channel):
                channel, ts = await self.slack.post_placed(
                    draft.team_id,
                    draft.channel,
                    held_messages.held_message(_view(shown), broken_rules(draft.video)),
                )
        except BaseException:
            await self.store.run(store_held.forget_posting, draft.team_id, draft.upload_key)
            raise
        saved = await self.store.run(
            store_held.move,
            draft.team_id,
            draft.upload_key,
            ("posting",),
            state=waiting,
            channel=channel,
            ts=ts,
        )
        if saved is None:  # given up as abandoned while Slack answered (STALE_POSTING_S)
            log.error("held.claim_lost")
            raise AnnounceError(500, INTERNAL_ERROR)
        return saved

    # -- starting -------------------------------------------------------------------------

    async def start(
        self, team_id: str, upload_key: str, user_id: str = "", from_states=("held",)
    ) -> HeldUpload | None:
        """Claim the upload (held → starting) and, if this caller won, make the one init.
        None when another caller moved it first."""
        claimed = await self.store.run(
            store_held.move,
            team_id,
            upload_key,
            tuple(from_states),
            state="starting",
            by_user=user_id,
            by_at=time.time(),
        )
        if claimed is None:
            return None
        await self.slack.update(
            claimed.team_id, claimed.channel, claimed.ts, held_messages.held_message(_view(claimed))
        )
        return await self._init(claimed)

    async def _finish(self, h: HeldUpload, **changes) -> HeldUpload:
        done = await self.store.run(
            store_held.move, h.team_id, h.upload_key, ("starting",), **changes
        )
        return done or h

    async def _init(self, h: HeldUpload) -> HeldUpload:
        """The one start: its audit row is written before any call to TikTok and finished
        after, whichever way it ended."""
        audit_id = await self.store.run(audit.start, self._audit_entry(h))
        result, init_sent = await self._ask_tiktok(h)  # init_sent: one may have acted
        await self.store.run(self._finish_audit, audit_id, result)
        publish_id = str(result.data.get("publish_id") or "") if result.ok else ""
        if result.code == ACCOUNT_CHANGED:
            return await self._account_changed(h)
        if result.ok and publish_id:
            return await self._started(h, result, publish_id)
        if init_sent and (result.ok or outcome_unknown(result)):
            code = result.code if not result.ok else "bad_response"
            after = await self._finish(
                h, state="unknown", code=code, http_status=result.http_status, log_id=result.log_id
            )
            await self._show(after, held_messages.unknown_reply(_view(after)))
            return after
        return await self._not_started(h, result)

    async def _ask_tiktok(self, h: HeldUpload) -> tuple[ApiResult, bool]:
        """creator_info, then the init (once more after a 401 and a refresh, which TikTok
        refused before acting). The result, and whether an init that may have acted was
        sent (not when the only one sent was refused with a 401). Every link is checked
        before it is used: a renewal may hand back the team account relinked elsewhere."""
        try:
            link = await self.tokens.load(h.team_id, "team", h.account)
        except LinkUnreadable:
            return ApiResult(False, "link_unreadable"), False
        if link is None:
            return ApiResult(False, "no_such_account"), False
        fresh = await self.tokens.fresh(link)
        if isinstance(fresh, RefreshFailure):
            return ApiResult(False, fresh.code, fresh.http_status, fresh.log_id), False
        if fresh.open_id != h.open_id:
            return ApiResult(False, ACCOUNT_CHANGED), False
        done = await call_with_link(
            self.tokens,
            fresh,
            self.tiktok.creator_info,
            deadline_s=CREATOR_INFO_DEADLINE_S,
            base_delay=self.base_delay,
        )
        info, current = done.result, done.link
        if not info.ok:
            return info, False
        if current.open_id != h.open_id:
            return ApiResult(False, ACCOUNT_CHANGED), False
        if h.post.get("privacy_level") not in (info.data.get("privacy_level_options") or []):
            return ApiResult(False, "privacy_level_option_mismatch"), False
        result = await self.tiktok.init_direct_post(current.access_token, h.post, h.source_url)
        if result.code == "access_token_invalid":  # refused before acting: safe to ask again
            renewed = await self.tokens.refresh(current)
            if isinstance(renewed, RefreshFailure):
                return ApiResult(False, renewed.code, renewed.http_status), False
            if renewed.open_id != h.open_id:  # the init was refused: nothing was started
                return ApiResult(False, ACCOUNT_CHANGED), False
            result = await self.tiktok.init_direct_post(renewed.access_token, h.post, h.source_url)
        return result, True

    @staticmethod
    def _audit_entry(h: HeldUpload) -> audit.AuditStart:
        return audit.AuditStart(
            action="start_held",
            team_id=h.team_id,
            user_id=h.by_user,
            channel_id=h.channel,
            source="approval" if h.needs_approval else "button" if h.by_user else "schedule",
            reason=f"held upload {h.upload_key}",
            account=h.account,
            account_kind="team",
            open_id=h.open_id,
        )

    @staticmethod
    def _finish_audit(db, audit_id: int, result: ApiResult) -> None:
        finish = audit.AuditFinish(
            outcome=result.code,
            http_status=result.http_status,
            log_id=result.log_id,
            latency_ms=result.latency_ms,
            attempts=1,
        )
        audit.finish(db, audit_id, finish)
        publish_id = str(result.data.get("publish_id") or "")
        if publish_id:
            db["audit"].update(audit_id, {"publish_id": publish_id})

    async def _not_started(self, h: HeldUpload, result: ApiResult) -> HeldUpload:
        """TikTok did not take the video: refused for good, or (`retry`) for a reason that
        passes, when Start now may be pressed again. Either way nothing was posted."""
        again = result.code in START_AGAIN_CODES
        after = await self._finish(
            h,
            state="retry" if again else "refused",
            code=result.code,
            http_status=result.http_status,
            log_id=result.log_id,
        )
        admins = await self._admins(h.team_id)
        reply = (
            held_messages.retry_reply(_view(after))
            if again
            else held_messages.refused_reply(_view(after), admins)
        )
        await self._show(after, reply, admins)
        return after

    async def _account_changed(self, h: HeldUpload) -> HeldUpload:
        """The team account now belongs to another TikTok account than the one announced:
        never started with it; the pipeline may send it again, announced as the new one."""
        after = await self._finish(h, state=ACCOUNT_CHANGED, code=ACCOUNT_CHANGED)
        log.info("held.account_changed")
        await self._show(after, held_messages.account_changed_reply(_view(after)))
        return after

    async def _started(self, h: HeldUpload, result: ApiResult, publish_id: str) -> HeldUpload:
        after = await self._finish(
            h,
            state="started",
            publish_id=publish_id,
            code="ok",
            http_status=result.http_status,
            log_id=result.log_id,
        )
        now = time.time()
        a = Announcement(
            publish_id=publish_id,
            team_id=h.team_id,
            channel=h.channel,
            ts=h.ts,
            title=announced_title(str(h.post.get("title") or "")),
            account=h.account,
            source_url=h.source_url,
            video=h.video,
            warnings=broken_rules(h.video),
            created_at=now,
            next_poll_at=now + FIRST_POLL_DELAY_S,
        )
        await self.store.run(store_announcements.insert, a)
        card = messages.announcement_message(messages.AnnouncedView.of(a))
        await self.slack.update(h.team_id, h.channel, h.ts, card)
        reply = held_messages.started_reply(_view(after))
        await self.slack.post(h.team_id, h.channel, reply, thread_ts=h.ts)
        self.announcements.new_to_follow()
        return after

    # -- buttons --------------------------------------------------------------------------

    async def may_act(self, h: HeldUpload, user_id: str) -> bool:
        """May press Cancel or Start now: people granted the account, admins, and for an
        upload waiting for approval its named approvers and whoever sent it."""
        if h.needs_approval and user_id in (*h.approvers, h.submitted_by):
            return True
        granted = await self.store.run(grants.is_granted, h.team_id, h.account, user_id)
        return granted or await self.admins.is_admin(h.team_id, user_id)

    async def clicked(
        self, action: str, team_id: str, user_id: str, upload_key: str
    ) -> messages.Message:
        h = await self.get(team_id, upload_key)
        if h is None:
            return held_messages.gone_message()
        admins = await self._admins(team_id)
        if not await self.may_act(h, user_id):
            return held_messages.not_allowed_message(h.account, admins)
        if action == "cancel":
            after = await self.cancel(h, user_id)
        else:
            after = await self.start(team_id, upload_key, user_id, store_held.OPEN_STATES)
        if after is None:
            return held_messages.already_message(
                _view(await self.get(team_id, upload_key) or h), admins
            )
        return held_messages.done_message(_view(after), admins)

    async def answer_for(self, after: HeldUpload) -> messages.Message:
        """The answer of whoever's action moved the upload to `after`."""
        return held_messages.done_message(_view(after), await self._admins(after.team_id))

    async def _admins(self, team_id: str) -> list[str]:
        """Who can relink the team account, named in what a refused start says."""
        return sorted(await self.admins.named(team_id))

    async def cancel(self, h: HeldUpload, user_id: str) -> HeldUpload | None:
        """Held back: no TikTok call, ever. None when it was started or cancelled first."""
        now = time.time()
        after = await self.store.run(
            store_held.move,
            h.team_id,
            h.upload_key,
            store_held.CANCELLABLE,
            state="cancelled",
            by_user=user_id,
            by_at=now,
        )
        if after is None:
            return None
        entry = audit.AuditStart(
            action="cancel_held",
            team_id=h.team_id,
            user_id=user_id,
            channel_id=h.channel,
            source="button",
            reason=f"held upload {h.upload_key}",
            account=h.account,
            account_kind="team",
        )
        await self.store.run(audit.record, entry, audit.AuditFinish(outcome="held_back"))
        await self._show(after, held_messages.cancelled_reply(_view(after)))
        return after

    async def card_of(self, h: HeldUpload) -> messages.Message:
        """The channel message of `h` as its last move showed it: the TikTok upload's once
        started (as its announcement stands now), else the held upload's."""
        if h.state == "started" and h.publish_id:
            a = await self.store.run(store_announcements.get, h.team_id, h.publish_id)
            if a is not None:
                return messages.announcement_message(messages.AnnouncedView.of(a))
        admins = await self._admins(h.team_id) if h.state in ("refused", "retry") else ()
        return held_messages.held_message(_view(h), admins=admins)

    async def _show(self, h: HeldUpload, reply: messages.Message, admins=()) -> None:
        """The channel message as `h` now stands, and `reply` in its thread."""
        card = held_messages.held_message(_view(h), admins=admins)
        await self.slack.update(h.team_id, h.channel, h.ts, card)
        await self.slack.post(h.team_id, h.channel, reply, thread_ts=h.ts)

    # -- the schedule -------------------------------------------------------------------

    async def run_due(self, now: float | None = None) -> int:
        """Start (or ask about) every upload whose window has closed; how many were taken."""
        now = time.time() if now is None else now
        taken = 0
        if await self.store.run(store_held.forget_abandoned, STALE_POSTING_S):
            log.warning("held.abandoned_posting_forgotten")
        for h in await self.store.run(store_held.stuck_starting, self.stale_starting_s):
            after = await self.store.run(
                store_held.move,
                h.team_id,
                h.upload_key,
                ("starting",),
                state="unknown",
                code=INTERRUPTED,
            )
            if after is not None:
                await self._show(after, held_messages.unknown_reply(_view(after)))
        # Approved, but the process that took the last approval died before its start: the
        # approvers' consent stands, and nothing was sent to TikTok, so it starts now.
        for h in await self.store.run(store_held.stuck_approved, self.stale_starting_s):
            if await self.start(h.team_id, h.upload_key, h.by_user, ("approved",)) is not None:
                taken += 1
        for h in await self.store.run(store_held.due, now):
            late = now - h.starts_at
            if late > max(h.hold_s, MISSED_GRACE_S):
                asked = await self.store.run(
                    store_held.move, h.team_id, h.upload_key, ("held",), state="asking"
                )
                if asked is not None:
                    taken += 1
                    await self._show(asked, held_messages.asking_reply(_view(asked)))
                continue
            if await self.start(h.team_id, h.upload_key) is not None:
                taken += 1
        return taken


class HeldScheduler(WakeableLoop):
    """Wakes when the next window closes (or every `interval` s, or when told) and runs due
    starts. Several replicas may run one each: the conditional update picks one starter."""

    def __init__(
        self,
        held: HeldUploads,
        interval: float = 5.0,
        expire: Callable[[], Awaitable[int]] | None = None,
    ):
        self.held = held
        self.interval = interval
        self.expire = expire  # ends uploads whose approval deadline passed (Approvals)
        super().__init__("held-scheduler")
        self._busy: set[asyncio.Task] = set()
        self.passes = PassCounter("held.scheduler_pass")

    async def next_pass(self, timeout: float = 10.0) -> None:
        """Wake the scheduler and wait until a pass begun after this call has finished: any
        start it would make has been made (tests and the sandbox prove "nothing else")."""
        target = self.passes.begun + 1
        self.wake()
        await self.passes.wait_for(target, timeout)

    async def stop(self) -> None:
        await super().stop()
        if self._busy:
            await asyncio.gather(*self._busy, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before looking: a wake-up during the pass is not lost
            now = time.time()
            number = self.passes.begin(now)
            try:
                task = asyncio.create_task(self.held.run_due(now))
                self._busy.add(task)
                task.add_done_callback(self._busy.discard)
                await asyncio.shield(task)
                if self.expire is not None:
                    await self.expire()
                nxt = await self.held.store.run(store_held.next_start)
                deadline = await self.held.store.run(store_held.next_expiry)
                if deadline is not None:  # seconds from now, by the database's clock
                    nxt = min(nxt or math.inf, time.time() + max(0.0, deadline))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("held.scheduler_failed")
                nxt = None
            self.passes.finish(number)
            wait = self.interval
            if nxt is not None:
                wait = min(wait, max(0.05, nxt - time.time()))
            await self._sleep(wait)
