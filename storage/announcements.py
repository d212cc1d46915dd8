"""Announced uploads: the Slack message that carries the Cancel button, and where the upload
stands at TikTok. Also the webhook events already seen, so a redelivery changes nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from storage import polls
from storage.sql import Db, NotFoundError, single_write, update_unchanged

TABLE = "announcements"
EVENTS = "webhook_events"
EVENT_MEMORY_S = 7 * 24 * 3600.0  # how long a webhook delivery is remembered


@dataclass(frozen=True)
class Announcement:
    publish_id: str
    team_id: str
    channel: str
    ts: str
    title: str = ""
    account: str = ""
    source_url: str = ""
    video: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    status: str = ""
    fail_reason: str = ""
    post_ids: list[str] = field(default_factory=list)
    final: bool = False
    last_user_id: str = ""
    last_code: str = ""
    last_at: float = 0.0
    created_at: float = 0.0
    next_poll_at: float | None = None
    poll_count: int = 0
    cancel_by: str = ""  # who asked, once TikTok said it would try to cancel
    cancel_at: float = 0.0
    final_at: float = 0.0  # when TikTok's word made it final

    @property
    def stopping(self) -> bool:
        """TikTok said it would try to cancel it and hasn't said how that ended."""
        return bool(self.cancel_by) and not self.final

    @property
    def unfollowed(self) -> bool:
        """Not final, and polling gave up on it (a webhook may still come)."""
        return not self.final and self.next_poll_at is None and self.poll_count > 0


def from_row(row: dict) -> Announcement:
    return Announcement(
        publish_id=row["publish_id"],
        team_id=row["team_id"] or "",
        channel=row["channel"],
        ts=row["ts"],
        title=row["title"] or "",
        account=row["account"] or "",
        source_url=row["source_url"] or "",
        video=json.loads(row["video"] or "{}"),
        warnings=json.loads(row["warnings"] or "[]"),
        status=row["status"] or "",
        fail_reason=row["fail_reason"] or "",
        post_ids=json.loads(row["post_ids"] or "[]"),
        final=bool(row["final"]),
        last_user_id=row["last_user_id"] or "",
        last_code=row["last_code"] or "",
        last_at=row["last_at"] or 0.0,
        created_at=row["created_at"] or 0.0,
        next_poll_at=row["next_poll_at"],
        poll_count=row["poll_count"] or 0,
        cancel_by=row.get("cancel_by") or "",
        cancel_at=row.get("cancel_at") or 0.0,
        final_at=row.get("final_at") or 0.0,
    )


def get(db: Db, team_id: str, publish_id: str) -> Announcement | None:
    row = db.one(
        f"SELECT * FROM {TABLE} WHERE team_id = ? AND publish_id = ?", (team_id, publish_id)
    )
    return None if row is None else from_row(row)


def teams_of(db: Db, publish_id: str) -> list[str]:
    """The workspaces that announced `publish_id` (TikTok's webhooks name only the upload)."""
    rows = db.query(f"SELECT team_id FROM {TABLE} WHERE publish_id = ?", (publish_id,))
    return sorted(r["team_id"] for r in rows)


def insert(db: Db, a: Announcement) -> None:
    now = time.time()
    db[TABLE].insert(
        {
            "publish_id": a.publish_id,
            "team_id": a.team_id,
            "channel": a.channel,
            "ts": a.ts,
            "title": a.title,
            "account": a.account,
            "source_url": a.source_url,
            "video": json.dumps(a.video),
            "warnings": json.dumps(a.warnings),
            "status": a.status,
            "fail_reason": a.fail_reason,
            "post_ids": json.dumps(a.post_ids),
            "final": int(a.final),
            "last_user_id": a.last_user_id,
            "last_code": a.last_code,
            "last_at": a.last_at,
            "created_at": a.created_at or now,
            "updated_at": now,
            "next_poll_at": a.next_poll_at,
            "poll_count": a.poll_count,
            "cancel_by": a.cancel_by,
            "cancel_at": a.cancel_at,
            "final_at": a.final_at,
        }
    )


def _encode(changes: dict) -> dict:
    for name in ("video", "warnings", "post_ids"):
        if name in changes:
            changes[name] = json.dumps(changes[name])
    if "final" in changes:
        changes["final"] = int(changes["final"])
    return changes


def update(db: Db, team_id: str, publish_id: str, **changes) -> Announcement | None:
    """Apply `changes` (column=value; lists and dicts stored as JSON) and return the new row."""
    changes = _encode(changes)
    changes["updated_at"] = time.time()
    try:
        db[TABLE].update((team_id, publish_id), changes)
    except NotFoundError:
        return None
    return get(db, team_id, publish_id)


def update_if(
    db: Db, team_id: str, publish_id: str, expected: dict, **changes
) -> Announcement | None:
    """Apply `changes` only while the row still holds the `expected` values (compare-and-write);
    the new row, or None when it changed in between (or is gone)."""
    expected, changes = _encode(dict(expected)), _encode(changes)
    changed = update_unchanged(db, TABLE, team_id, publish_id, expected, changes)
    return get(db, team_id, publish_id) if changed else None


def in_flight(db: Db, team_id: str, limit: int = 50) -> list[Announcement]:
    rows = db[TABLE].rows_where(
        "team_id = ? AND final = 0", [team_id], order_by="created_at DESC", limit=limit
    )
    return [from_row(r) for r in rows]


def due_for_poll(db: Db, now: float, limit: int = 20) -> list[Announcement]:
    """The due polls this caller claimed (`storage.polls`)."""
    return [from_row(row) for row in polls.claim_due(db, TABLE, now, limit)]


@single_write  # one read: no transaction needed on PostgreSQL
def next_poll_time(db: Db) -> float | None:
    return polls.earliest(db, TABLE)


def claim_event(db: Db, event_key: str, event: str) -> bool:
    """Record a webhook delivery before applying it; False if it was recorded before (a
    redelivery, on this replica or another: the unique key decides). Deliveries older than
    EVENT_MEMORY_S are forgotten (TikTok's signature is stale after 5 minutes, so they could
    not be accepted again anyway)."""
    now = time.time()
    db.execute(f"DELETE FROM {EVENTS} WHERE received_at < ?", [now - EVENT_MEMORY_S])
    row = {"event_key": event_key, "event": event, "received_at": now}
    return db[EVENTS].insert_if_absent(row)
