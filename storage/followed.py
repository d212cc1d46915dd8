"""Cancels of uploads the bot did not announce, followed to their end (webhooks and polling).

A row is written with the "finished" audit row of a cancel TikTok answered `ok` for such an
upload; from then on it holds where the upload stands at TikTok, the poll schedule (claimed
like the announcements' polls, so of several replicas one polls), and `told`: the ending
last said to the person who asked. Every change is a compare-and-write on what was read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage import polls
from storage.sql import Db, single_write, update_unchanged

TABLE = "followed_cancels"


@dataclass(frozen=True)
class FollowedCancel:
    publish_id: str
    team_id: str
    user_id: str  # who asked TikTok to cancel it: the person told how it ended
    link_kind: str  # the link that made the cancel ("user" or "team") and follows it
    link_owner: str
    asked_at: float
    account: str = ""  # that link's TikTok display name
    status: str = ""
    fail_reason: str = ""
    final: bool = False
    final_at: float = 0.0
    next_poll_at: float | None = None
    poll_count: int = 0
    told: str = ""  # the ending last told by direct message ("" = nothing yet)
    updated_at: float = 0.0

    @property
    def stopping(self) -> bool:
        """TikTok said it would try to cancel it and hasn't said how that ended."""
        return not self.final

    @property
    def unfollowed(self) -> bool:
        """Not final, and polling gave up on it (a webhook may still come)."""
        return not self.final and self.next_poll_at is None and self.poll_count > 0


def from_row(row: dict) -> FollowedCancel:
    row = dict(row)
    row["final"] = bool(row["final"])
    return FollowedCancel(**row)


def get(db: Db, team_id: str, publish_id: str) -> FollowedCancel | None:
    row = db.one(
        f"SELECT * FROM {TABLE} WHERE team_id = ? AND publish_id = ?", [team_id, publish_id]
    )
    return None if row is None else from_row(row)


def teams_of(db: Db, publish_id: str) -> list[str]:
    """The workspaces following `publish_id` (TikTok's webhooks name only the upload)."""
    rows = db.query(f"SELECT team_id FROM {TABLE} WHERE publish_id = ?", [publish_id])
    return sorted(r["team_id"] for r in rows)


def start(db: Db, f: FollowedCancel) -> bool:
    """Begin following; False if the upload was already followed (that row is kept)."""
    return db[TABLE].insert_if_absent(first_row(f))


def first_row(f: FollowedCancel) -> dict:
    """The columns of the row that begins following `f`."""
    return {
        "publish_id": f.publish_id,
        "team_id": f.team_id,
        "user_id": f.user_id,
        "link_kind": f.link_kind,
        "link_owner": f.link_owner,
        "account": f.account,
        "asked_at": f.asked_at,
        "next_poll_at": f.next_poll_at,
        "updated_at": time.time(),
    }


def update_if(
    db: Db, team_id: str, publish_id: str, expected: dict, **changes
) -> FollowedCancel | None:
    """Apply `changes` only while the row still holds the `expected` values (compare-and-write);
    the new row, or None when it changed in between (or is gone)."""
    if "final" in changes:
        changes["final"] = int(changes["final"])
    expected = {k: int(v) if isinstance(v, bool) else v for k, v in expected.items()}
    changed = update_unchanged(db, TABLE, team_id, publish_id, expected, changes)
    return get(db, team_id, publish_id) if changed else None


def claim_telling(db: Db, team_id: str, publish_id: str, told_before: str, ending: str) -> bool:
    """Claim the direct message saying `ending`: True for exactly one caller, and only while
    the ending last told is still `told_before` (so the same ending is never told twice)."""
    sql = (
        f"UPDATE {TABLE} SET told = ?, updated_at = ? "
        "WHERE team_id = ? AND publish_id = ? AND told = ?"
    )
    params = [ending, time.time(), team_id, publish_id, told_before]
    return db.execute(sql, params).rowcount == 1


def due_for_poll(db: Db, now: float, limit: int = 20) -> list[FollowedCancel]:
    """The due polls this caller claimed (`storage.polls`)."""
    return [from_row(row) for row in polls.claim_due(db, TABLE, now, limit)]


@single_write  # one read: no transaction needed on PostgreSQL
def next_poll_time(db: Db) -> float | None:
    return polls.earliest(db, TABLE)
