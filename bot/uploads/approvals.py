"""Approval before posting: who may approve, the post page's fresh facts, each approval, the
one start after the last, rejection and expiry.

An upload waiting for approval (`awaiting_approval`) is never started without it. The rules:
only its named approvers (or members of its named user groups) approve or reject; nobody
approves an upload they sent; each approver counts once (one row each in `approvals`,
written only while the upload still waits and its deadline has not passed by the database's
clock). The approval that makes the count moves the upload to `approved` in the transaction
that writes it, with the choices made on the post page as its post, and that caller alone
starts it through `HeldUploads.start` (creator_info again, then exactly one init). Two
approvers at once, an approval against an expiry or a cancel: one write wins, the others get
a plain answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot import messages
from bot.messages import approval_card as cards
from bot.messages import post_page
from bot.messages.held import APPROVAL_STATES, HeldView
from bot.slack.output import SlackOut
from bot.tiktok.client import ApiResult
from bot.tiktok.restrictions import broken_rules
from bot.uploads import post_choices
from bot.uploads.held import HeldUploads
from bot.uploads.post_choices import CreatorFacts, PostChoices
from storage import approvals as store_approvals
from storage import audit
from storage import held as store_held
from storage.db import Store
from storage.held import HeldUpload
from storage.links import LinkUnreadable

log = logging.getLogger(__name__)

# Where the web post page is, per person (`bot.uploads.approval_links`); "" when not served.
WebLink = Callable[[str, str, str, float], Awaitable[str]]
REVIEW_CREATOR_INFO_S = 2.0  # a modal must open within Slack's 3 s trigger window
MAX_REDRAWS = 5  # a counted approval's card, redrawn while other replicas move the upload


async def no_web_link(team_id: str, upload_key: str, user_id: str, expires_at: float) -> str:
    return ""


@dataclass(frozen=True)
class Review:
    """What opening the post page found: a refusal to show, or the upload and fresh facts."""

    refusal: messages.Message | None = None
    upload: HeldUpload | None = None
    view: HeldView | None = None
    facts: CreatorFacts | None = None
    web_url: str = ""
    last: bool = False  # this approval would be the last one needed


class Approvals:
    def __init__(
        self,
        store: Store,
        slack: SlackOut,
        held: HeldUploads,
        *,
        web_link: WebLink = no_web_link,
        creator_info_deadline_s: float = REVIEW_CREATOR_INFO_S,
    ):
        self.store = store
        self.slack = slack
        self.held = held
        self.web_link = web_link
        self.creator_info_deadline_s = creator_info_deadline_s

    # -- facts ----------------------------------------------------------------------------

    async def view(self, h: HeldUpload) -> HeldView:
        """What the messages show of `h`, with who approved it so far."""
        approved = await self.store.run(store_approvals.approvers_of, h.team_id, h.upload_key)
        return replace(HeldView.of(h), approved_by=tuple(approved))

    async def show(self, h: HeldUpload, reply: messages.Message | None = None) -> None:
        """The card as `h` now stands, and `reply` in its thread."""
        view = await self.view(h)
        card = cards.approval_card(view, broken_rules(h.video))
        await self.slack.update(h.team_id, h.channel, h.ts, card)
        if reply is not None:
            await self.slack.post(h.team_id, h.channel, reply, thread_ts=h.ts)

    async def is_approver(self, h: HeldUpload, user_id: str) -> bool:
        """Named, or a member of a named user group (asked of Slack each time: a person
        removed from the group no longer approves)."""
        if user_id in h.approvers:
            return True
        for group in (a for a in h.approvers if a.startswith("S")):
            members = await self.slack.group_members(h.team_id, group)
            if members and user_id in members:
                return True
        return False

    async def creator_facts(self, h: HeldUpload, deadline_s: float) -> CreatorFacts | ApiResult:
        """A fresh creator_info of the upload's team account (the failure, when it failed)."""
        try:
            link = await self.held.tokens.load(h.team_id, "team", h.account)
        except LinkUnreadable:
            return ApiResult(False, "link_unreadable")
        if link is None:
            return ApiResult(False, "no_such_account")
        if link.open_id != h.open_id:
            return ApiResult(False, "account_changed")
        info = await self.held.creator_info(link, deadline_s)
        if not info.ok:
            return info
        return CreatorFacts.of(info.data)

    async def _refusal(self, h: HeldUpload | None, team_id: str, user_id: str) -> str:
        """Why `user_id` may not approve or reject `h` now ("" when they may)."""
        if h is None or h.team_id != team_id or not h.needs_approval:
            return "gone"
        if h.state in ("rejected", "expired", "cancelled"):
            return h.state
        if h.state not in ("awaiting_approval", "posting"):
            return "started"
        if await self.store.run(store_held.past_deadline, h.team_id, h.upload_key):
            return "expired"
        if not await self.is_approver(h, user_id):
            return "not_approver"
        return ""

    # -- the post page ------------------------------------------------------------------

    async def review(
        self, team_id: str, upload_key: str, user_id: str, *, with_web_link: bool = True
    ) -> Review:
        """Opening the post page: the checks, then a fresh creator_info for it (and a link to
        the web post page, unless that page is what is being opened)."""
        h = await self.held.get(team_id, upload_key)
        refusal = await self._refusal(h, team_id, user_id)
        if not refusal and h is not None and user_id == h.submitted_by:
            refusal = "own_upload"
        if not refusal and h is not None:
            done = await self.store.run(store_approvals.approvers_of, team_id, upload_key)
            if user_id in done:
                refusal = "already_approved"
        view = await self.view(h) if h is not None and h.team_id == team_id else None
        if refusal:
            return Review(refusal=cards.refusal_message(refusal, view))
        assert h is not None and view is not None
        facts = await self.creator_facts(h, self.creator_info_deadline_s)
        if isinstance(facts, ApiResult):
            return Review(refusal=cards.refusal_message("creator_info", view, facts.code))
        web_url = ""
        if with_web_link:
            web_url = await self.web_link(team_id, upload_key, user_id, h.approve_by)
        last = len(view.approved_by) + 1 >= h.needed
        return Review(upload=h, view=view, facts=facts, web_url=web_url, last=last)

    async def open_post_page(
        self, team_id: str, upload_key: str, user_id: str, trigger_id: str
    ) -> messages.Message | None:
        """Review and approve: the post-page modal opened for this person (None), or why not."""
        review = await self.review(team_id, upload_key, user_id)
        if review.refusal is not None:
            return review.refusal
        assert review.upload is not None and review.view is not None
        modal = post_page.post_page_modal(
            review.view,
            review.facts,
            review.upload.source_url,
            web_url=review.web_url,
            last=review.last,
        )
        if not await self.slack.open_view(team_id, trigger_id, modal):
            return cards.refusal_message("no_trigger", review.view)
        return None

    async def open_reject(
        self, team_id: str, upload_key: str, user_id: str, trigger_id: str
    ) -> messages.Message | None:
        """Reject: the modal asking why (None), or why this person may not reject it."""
        h = await self.held.get(team_id, upload_key)
        refusal = await self._refusal(h, team_id, user_id)
        view = await self.view(h) if h is not None and h.team_id == team_id else None
        if refusal or view is None:
            return cards.refusal_message(refusal or "gone", view)
        if not await self.slack.open_view(team_id, trigger_id, post_page.reject_modal(view)):
            return cards.refusal_message("no_trigger", view)
        return None

    # -- deciding -----------------------------------------------------------------------

    async def approve(
        self, team_id: str, upload_key: str, user_id: str, choices: PostChoices, via: str
    ) -> messages.Message:
        """One approval; the last one needed starts the upload. The approver's answer."""
        h = await self.held.get(team_id, upload_key)
        refusal = await self._refusal(h, team_id, user_id)
        if not refusal and h is not None and user_id == h.submitted_by:
            refusal = "own_upload"
        if refusal or h is None:
            return cards.refusal_message(
                refusal or "gone", await self.view(h) if h and h.team_id == team_id else None
            )
        post = post_choices.post_with(h.post, choices)
        added = await self.store.run(
            store_approvals.add,
            team_id,
            upload_key,
            user_id,
            choices.as_dict(),
            via,
            post=post,
            by_at=time.time(),
        )
        if not added.added:
            return await self._not_added(team_id, upload_key, user_id)
        edits = post_choices.edits(h.post, post)
        changed = f"; changed: {', '.join(edits)}" if edits else ""
        await self._audit(
            h, user_id, "approve_upload", f"via {via}; {cards.choices_line(post)}{changed}"
        )
        view = await self.view(added.approved or h)
        reply = cards.approved_reply(view, user_id, via, post, edits)
        await self.slack.post(team_id, h.channel, reply, thread_ts=h.ts)
        if added.approved is None:
            await self._show_count(team_id, upload_key)
            return cards.counted_message(view)
        # The start's claim shows the card (starting), or a cancel that came first shows it
        # (cancelled): each the winner of its own compare-and-write, so never out of order.
        after = await self.held.start(team_id, upload_key, user_id, ("approved",))
        if after is None:  # cancelled first, or (this caller stalled) the scheduler started it
            now = await self.held.get(team_id, upload_key) or added.approved
            if now.state == "cancelled":
                return cards.refusal_message("cancelled", await self.view(now))
            return await self.held.answer_for(now)
        return await self.held.answer_for(after)

    async def _show_count(self, team_id: str, upload_key: str) -> None:
        """The card with an approval counted. Unlike every other card update this one wins
        no compare-and-write: another replica may move the upload (the last approval, a
        cancel, the expiry) and show its card before ours lands. So once ours has landed the
        row is read again, and the card redrawn as it now stands, until nothing changed."""
        shown = None
        for _ in range(MAX_REDRAWS):
            h = await self.held.get(team_id, upload_key)
            if h is None:
                return
            if h.state in APPROVAL_STATES:
                card = cards.approval_card(await self.view(h), broken_rules(h.video))
            else:
                card = await self.held.card_of(h)
            if card == shown:
                return
            await self.slack.update(team_id, h.channel, h.ts, card)
            shown = card

    async def _not_added(
        self, team_id: str, upload_key: str, user_id: str, counted: bool = False
    ) -> messages.Message:
        """Why an approval did not count: approved already, or the upload moved first."""
        h = await self.held.get(team_id, upload_key)
        if h is None:
            return cards.refusal_message("gone", None)
        view = await self.view(h)
        if h.state in ("rejected", "expired", "cancelled"):
            return cards.refusal_message(h.state, view)
        if h.state == "awaiting_approval" and await self.store.run(
            store_held.past_deadline, team_id, upload_key
        ):
            return cards.refusal_message("expired", view)
        if not counted and user_id in view.approved_by:
            return cards.refusal_message("already_approved", view)
        return cards.refusal_message("started", view)

    async def reject(
        self, team_id: str, upload_key: str, user_id: str, reason: str
    ) -> messages.Message:
        """Ends it, never posted: the card, the thread, the audit and the pipeline say why."""
        h = await self.held.get(team_id, upload_key)
        refusal = await self._refusal(h, team_id, user_id)
        if refusal or h is None:
            return cards.refusal_message(
                refusal or "gone", await self.view(h) if h and h.team_id == team_id else None
            )
        after = await self.store.run(
            store_held.move,
            team_id,
            upload_key,
            ("awaiting_approval",),
            state="rejected",
            reason=reason,
            by_user=user_id,
            by_at=time.time(),
        )
        if after is None:
            return await self._not_added(team_id, upload_key, user_id, counted=True)
        await self._audit(after, user_id, "reject_upload", reason, outcome="rejected")
        view = await self.view(after)
        await self.show(after, cards.rejected_reply(view))
        return cards.rejected_message(view)

    async def expire_due(self) -> int:
        """Uploads past their deadline without enough approvals: expired, never posted."""
        expired = 0
        for h in await self.store.run(store_held.expired_approvals):
            after = await self.store.run(
                store_held.move, h.team_id, h.upload_key, ("awaiting_approval",), state="expired"
            )
            if after is None:
                continue
            expired += 1
            await self._audit(after, "", "expire_upload", "not approved in time", "expired")
            await self.show(after, cards.expired_reply(await self.view(after)))
        return expired

    async def notify_approvers(self, h: HeldUpload) -> None:
        """A direct message to each approver (group members included), never the sender."""
        people: set[str] = set()
        for approver in h.approvers:
            if approver.startswith("S"):
                people |= await self.slack.group_members(h.team_id, approver) or frozenset()
            else:
                people.add(approver)
        people.discard(h.submitted_by)
        view = await self.view(h)
        for person in sorted(people):
            url = await self.web_link(h.team_id, h.upload_key, person, h.approve_by)
            await self.slack.dm(h.team_id, person, cards.approver_notice(view, h.channel, url))

    async def _audit(
        self, h: HeldUpload, user_id: str, action: str, reason: str, outcome: str = "approved"
    ) -> None:
        entry = audit.AuditStart(
            action=action,
            team_id=h.team_id,
            user_id=user_id,
            channel_id=h.channel,
            source="approval",
            reason=f"held upload {h.upload_key}: {reason}"[:1000],
            account=h.account,
            account_kind="team",
        )
        await self.store.run(audit.record, entry, audit.AuditFinish(outcome=outcome))
