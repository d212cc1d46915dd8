"""What is still under way in a workspace, as one person may see it: the announced uploads
not yet final and the held uploads not yet sent to TikTok, both only from channels the person
can see. `list` and the App Home show the same thing, so they ask here; the answer is what
their messages show of each upload (`bot.messages` views), not the stored rows."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.messages import AnnouncedView, HeldView
from bot.slack.visibility import ChannelVisibility
from storage import announcements as store_announcements
from storage import approvals as store_approvals
from storage import held as store_held
from storage.announcements import Announcement
from storage.db import Store
from storage.held import HeldUpload
from storage.sql import Db


@dataclass(frozen=True)
class InFlight:
    announced: list[AnnouncedView] = field(default_factory=list)
    held: list[HeldView] = field(default_factory=list)
    # waiting for approval: those this person may approve first, then by deadline
    awaiting: list[HeldView] = field(default_factory=list)
    hidden_unknown: bool = False  # some were hidden: Slack couldn't say who sees their channel


def _open_uploads(db: Db, team_id: str) -> tuple[list[HeldUpload | Announcement], dict]:
    """What is under way, and who approved each upload waiting for approval."""
    held = store_held.open_for_team(db, team_id)
    approved = {
        h.upload_key: tuple(store_approvals.approvers_of(db, team_id, h.upload_key))
        for h in held
        if h.state == "awaiting_approval"
    }
    return [*held, *store_announcements.in_flight(db, team_id)], approved


def waiting_order(user_id: str):
    """Sort key: uploads waiting for `user_id`'s approval first, then the nearest deadline."""

    def key(h: HeldView) -> tuple[bool, float]:
        mine = user_id in h.approvers and user_id not in h.approved_by
        return (not mine, h.approve_by)

    return key


class InFlightUploads:
    def __init__(self, store: Store, visibility: ChannelVisibility):
        self.store = store
        self.visibility = visibility

    async def for_user(self, team_id: str, user_id: str) -> InFlight:
        uploads, approved = await self.store.run(_open_uploads, team_id)
        visible = await self.visibility.visible(team_id, user_id, uploads)
        held = [i for i in visible.items if isinstance(i, HeldUpload)]
        awaiting = [
            replace(HeldView.of(h), approved_by=approved.get(h.upload_key, ()))
            for h in held
            if h.state == "awaiting_approval"
        ]
        return InFlight(
            announced=[AnnouncedView.of(i) for i in visible.items if isinstance(i, Announcement)],
            held=[HeldView.of(h) for h in held if h.state != "awaiting_approval"],
            awaiting=sorted(awaiting, key=waiting_order(user_id)),
            hidden_unknown=visible.unknown > 0,
        )
