"""Upload announcements: post one with a Cancel button, keep it current, thread the history.

`announce` is the one path for `POST /notifications` and `python -m bot announce`: checked
input, one Slack post per publish_id (a repeat answers with the first message), nothing
stored unless Slack took the post. `record_cancel` writes how a cancel ended onto its
announcement, in the cancel's own transaction; `after_cancel` hears every cancel outcome and
does the Slack side: a reply in the announcement's thread (or the audit channel) and the
announcement updated in place.
`apply_status` moves an upload to what TikTok says, from a webhook or a poll.

A cancel is best effort: TikTok's `ok` means it will try. So `ok` records who asked and
when (the upload is "stopping"), polls soon, and the announcement becomes final only on
TikTok's word: `publish_cancelled` confirms it; a post or inbox draft instead is said as
such, mentioning who asked. Every later word from TikTok moves the state on or is the
same news (then nothing is posted).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.claims import Lease, holding
from bot.keyed_locks import KeyedLocks
from bot.outcome import Outcome
from bot.slack.output import SlackOut, slack_error
from bot.tiktok.restrictions import broken_rules
from bot.tiktok.rules import FINAL_STATUSES
from storage import announcements as store_announcements
from storage.announcements import Announcement
from storage.db import Store
from storage.sql import Db

log = logging.getLogger(__name__)
_view = messages.AnnouncedView.of  # the plain facts the messages show of an announcement

MAX_TITLE = 200
FIRST_POLL_DELAY_S = 15.0
# What "Slack could not be reached" means: the network, not our own code.
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, ConnectionError)
STOPPING_POLL_DELAY_S = 15.0  # after TikTok's `ok`, ask soon how the cancel ended
# Answered from what the announcement already says: nothing about the upload changes.
ANSWERED_FROM_RECORD = frozenset({"already_final", "already_stopping"})
# What the pipeline did wrong when Slack refuses the post, and the HTTP status we answer.
SLACK_REFUSALS = {
    "channel_not_found": (
        404,
        "Slack can't find channel {channel}. Check the channel ID; for a private channel, "
        "invite the bot first (/invite @tiktok-cancel).",
    ),
    "not_in_channel": (
        403,
        "The bot isn't in channel {channel}. Invite it with /invite @tiktok-cancel and retry.",
    ),
    "is_archived": (409, "Channel {channel} is archived. Use another channel."),
}


INTERNAL_ERROR = (
    "The bot failed on its own (not Slack) and posted nothing. Try again; if it happens "
    "again, tell the bot's operator (log event announce.internal_error)."
)


class AnnounceError(Exception):
    """The announcement was refused; `status` is the HTTP status the route answers."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class AnnounceRequest:
    publish_id: str
    channel: str
    title: str = ""
    account: str = ""
    source_url: str = ""
    video: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnnounceResult:
    created: bool
    channel: str
    ts: str


@contextlib.contextmanager
def slack_refusals(channel: str):
    """Turn what goes wrong while posting an announcement into `AnnounceError` with the HTTP
    status the route answers: Slack refused it (what the pipeline should do), Slack cannot be
    reached (502), or our own code failed (500, said as ours, never as Slack's)."""
    try:
        yield
    except SlackApiError as exc:
        error = slack_error(exc)
        status, text = SLACK_REFUSALS.get(
            error, (502, "Slack refused the post ({error}). Try again in a minute.")
        )
        raise AnnounceError(status, text.format(channel=channel, error=error)) from None
    except NETWORK_ERRORS as exc:
        log.warning("announce.post_failed", extra={"error": type(exc).__name__})
        raise AnnounceError(502, "Slack could not be reached. Try again in a minute.") from None
    except AnnounceError:
        raise
    except Exception as exc:  # our own bug, not Slack's: say so
        log.error("announce.internal_error", extra={"error": type(exc).__name__})
        raise AnnounceError(500, INTERNAL_ERROR) from None


def changes_record(code: str) -> bool:
    """Whether a cancel attempt that ended with `code` changes what the announcement records
    (not one about the person, nor one answered from the record itself)."""
    return not (messages.is_personal(code) or code in ANSWERED_FROM_RECORD or code == "in_flight")


def record_cancel(
    db: Db, team_id: str, publish_id: str, user_id: str, code: str, at: float
) -> bool:
    """Write how a cancel of an announced upload ended onto its announcement: who tried and
    how it went, and, on TikTok's `ok`, that it is stopping (so a later request is answered
    `already_stopping`, with no second TikTok call). Called inside the transaction that gives
    back the cancel's claim; a compare-and-write, so news that landed meanwhile is kept.
    True if the record changed."""
    a = store_announcements.get(db, team_id, publish_id)
    if a is None or not changes_record(code):
        return False
    changes: dict[str, Any] = {"last_user_id": user_id, "last_code": code, "last_at": at}
    if code == "ok":
        # TikTok will try: stopping until its word (webhook or poll) says how it ended.
        changes.update(cancel_by=user_id, cancel_at=at)
        if not a.final:
            changes.update(next_poll_at=time.time() + STOPPING_POLL_DELAY_S, poll_count=0)
    elif code == "publish_not_cancellable":
        changes["next_poll_at"] = time.time()  # find out where it ended up
    expected = {"final": a.final, "status": a.status, "cancel_by": a.cancel_by}
    updated = store_announcements.update_if(db, team_id, publish_id, expected, **changes)
    if updated is None:
        log.warning("announce.changed_meanwhile", extra={"code": code})
    return updated is not None


class AnnouncementService:
    def __init__(self, store: Store, slack: SlackOut, *, on_new: Sequence[Callable[[], None]] = ()):
        self.store = store
        self.slack = slack
        # One announce and one change per upload at a time, across replicas (a lease in the
        # database); in-process waiters queue on `locks`, empty when nothing is going on.
        self.locks = KeyedLocks()
        self.on_new = tuple(on_new)  # told (no arguments) when there is a new upload to follow

    def new_to_follow(self) -> None:
        """Tell whoever follows uploads (the status poller) that there is one to look at."""
        for callback in self.on_new:
            callback()

    async def get(self, team_id: str, publish_id: str) -> Announcement | None:
        return await self.store.run(store_announcements.get, team_id, publish_id)

    async def announce(self, team_id: str, request: AnnounceRequest) -> AnnounceResult:
        """Post the announcement in `team_id`'s workspace (the one the pipeline's credential
        belongs to), once per upload there."""
        async with holding(self.store, Lease.announce(team_id, request.publish_id), self.locks):
            existing = await self.get(team_id, request.publish_id)
            if existing is not None:
                return AnnounceResult(False, existing.channel, existing.ts)
            now = time.time()
            draft = Announcement(
                publish_id=request.publish_id,
                team_id=team_id,
                channel=request.channel,
                ts="",
                title=request.title,
                account=request.account,
                source_url=request.source_url,
                video=request.video,
                warnings=broken_rules(request.video),
                created_at=now,
                next_poll_at=now + FIRST_POLL_DELAY_S,
            )
            with slack_refusals(request.channel):
                channel, ts = await self.slack.post_placed(
                    team_id, request.channel, messages.announcement_message(_view(draft))
                )
            saved = replace(draft, channel=channel, ts=ts)
            await self.store.run(store_announcements.insert, saved)
        self.new_to_follow()
        log.info("announce.posted", extra={"warnings": len(saved.warnings)})
        return AnnounceResult(True, saved.channel, saved.ts)

    async def after_cancel(self, outcome: Outcome) -> None:
        """Thread the attempt under its announcement and update it; else the audit channel."""
        if outcome.code == "in_flight" or messages.is_personal(outcome.code):
            # Nothing reached TikTok and nothing changed about the upload: the person was
            # answered and the attempt is in the audit log; the channel hears nothing.
            return
        if not outcome.announced:
            await self.slack.post_audit(outcome)
            return
        team_id = outcome.actor.team_id
        async with holding(self.store, Lease.announcement(team_id, outcome.publish_id), self.locks):
            a = await self.get(team_id, outcome.publish_id)
            if a is None:
                await self.slack.post_audit(outcome)
                return
            await self._record_attempt(a, outcome)

    async def _record_attempt(self, a: Announcement, outcome: Outcome) -> None:
        """The Slack side of an attempt: its thread reply, and the announcement shown as the
        record now stands. The record itself (`record_cancel`) was written by the cancel, in
        the transaction that gave back its claim: Slack being slow never delays it."""
        await self.slack.post(a.team_id, a.channel, messages.audit_entry(outcome), thread_ts=a.ts)
        if not changes_record(outcome.code):
            return  # about the person, or nothing new about the upload: a thread reply only
        await self.slack.update(a.team_id, a.channel, a.ts, messages.announcement_message(_view(a)))
        if outcome.ok or outcome.code == "publish_not_cancellable":
            self.new_to_follow()  # the follower looks soon: how did the cancel end?

    async def apply_status(
        self,
        team_id: str,
        publish_id: str,
        status: str,
        fail_reason: str = "",
        post_ids: list[str] | None = None,
    ) -> bool:
        """Move an upload to TikTok's status; True if anything changed (then Slack is told)."""
        async with holding(self.store, Lease.announcement(team_id, publish_id), self.locks):
            return await self._apply_status(team_id, publish_id, status, fail_reason, post_ids)

    async def _apply_status(
        self,
        team_id: str,
        publish_id: str,
        status: str,
        fail_reason: str,
        post_ids: list[str] | None,
    ) -> bool:
        a = await self.get(team_id, publish_id)
        if a is None:
            return False
        post_ids = post_ids if post_ids is not None else a.post_ids
        if (status, fail_reason, post_ids) == (a.status, a.fail_reason, a.post_ids):
            return False  # the same news again
        final = status in FINAL_STATUSES
        moved = (status, fail_reason) != (a.status, a.fail_reason)
        changes: dict[str, Any] = {
            "status": status,
            "fail_reason": fail_reason,
            "post_ids": post_ids,
            "final": final,
        }
        if final:
            changes["next_poll_at"] = None
            if moved:
                changes["final_at"] = time.time()
        expected = {"status": a.status, "fail_reason": a.fail_reason, "final": a.final}
        updated = await self.store.run(
            store_announcements.update_if, team_id, publish_id, expected, **changes
        )
        if updated is None:
            return False
        message = messages.announcement_message(_view(updated))
        await self.slack.update(team_id, a.channel, a.ts, message)
        if final and moved:
            await self.slack.post(
                team_id, a.channel, messages.final_state_message(_view(updated)), thread_ts=a.ts
            )
        return True

    async def stopped_following(self, team_id: str, publish_id: str) -> None:
        """Polling gave up: the message stops promising news and says how to check."""
        async with holding(self.store, Lease.announcement(team_id, publish_id), self.locks):
            a = await self.get(team_id, publish_id)
            if a is not None and a.unfollowed:
                message = messages.announcement_message(_view(a))
                await self.slack.update(team_id, a.channel, a.ts, message)
