"""Held uploads in the database: the schedule, and the one claim that lets a start happen.

The window lives here, so a restart (kill -9 included) finds it again. Every move between
states is a conditional update on the row's current state: of several callers (the
scheduler on two replicas, a Start now click) exactly one moves `held` to `starting`, and
only that one calls TikTok. Each move stamps `updated_at` with the database's clock, which is
what the "stuck starting" check compares against. A row left in `starting` by a process that
died mid-call stays there: whether TikTok acted is unknown, so it is never started again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from storage.sql import Db

TABLE = "held_uploads"
# `posting`: the row claims its upload_key while its announcement is being posted (no
# message yet, never started); it becomes `held` once Slack placed the message.
STATES = (
    "posting",
    "held",
    "starting",
    "started",
    "cancelled",
    "refused",
    "unknown",
    "asking",
    "retry",
    "account_changed",  # the team account was relinked to another TikTok account: not started
    "awaiting_approval",  # announced as waiting for approval: never started without it
    "approved",  # the approvals it needs are in; its start is being claimed
    "rejected",  # an approver rejected it: never posted
    "expired",  # nobody approved it in time: never posted
)
# The buttons still act: waiting for its window; the window was missed while the bot was
# down (`asking`); the start failed before TikTok took the video, for a passing reason (`retry`).
OPEN_STATES = ("held", "asking", "retry")
# What a Cancel still stops: an open upload, or one waiting for (or just given) its approval.
CANCELLABLE = (*OPEN_STATES, "awaiting_approval", "approved")
# Still in play, shown by `list` and the Home.
LISTED = (*OPEN_STATES, "awaiting_approval")
CLAIM_LIMIT = 20


@dataclass(frozen=True)
class HeldUpload:
    upload_key: str
    team_id: str
    channel: str
    ts: str
    account: str
    source_url: str
    post: dict[str, Any]
    hold_s: float
    created_at: float
    starts_at: float
    state: str = "held"
    video: dict[str, Any] = field(default_factory=dict)
    nickname: str = ""
    publish_id: str = ""
    code: str = ""
    http_status: int | None = None
    log_id: str = ""
    by_user: str = ""
    by_at: float = 0.0
    updated_at: float = 0.0
    open_id: str = ""  # the TikTok account the team account had when the upload was accepted
    approvers: tuple[str, ...] = ()  # Slack user and user-group ids; () = no approval asked
    needed: int = 0
    approve_by: float = 0.0
    submitted_by: str = ""
    reason: str = ""  # why it was rejected
    avatar_url: str = ""

    @property
    def needs_approval(self) -> bool:
        return bool(self.approvers)


def _from_row(row: dict) -> HeldUpload:
    row = dict(row)
    row["post"] = json.loads(row.get("post") or "{}")
    row["video"] = json.loads(row.get("video") or "{}")
    row["approvers"] = tuple(json.loads(row.get("approvers") or "[]"))
    return HeldUpload(**row)


def get(db: Db, team_id: str, upload_key: str) -> HeldUpload | None:
    row = db.one(
        f"SELECT * FROM {TABLE} WHERE team_id = ? AND upload_key = ?", [team_id, upload_key]
    )
    return _from_row(row) if row else None


def insert(db: Db, h: HeldUpload) -> bool:
    """Store a new held upload; False if the upload_key is taken already. The insert is the
    claim on the upload_key: of two requests with one key (on any replicas), only the one
    whose insert went in announces it."""
    row = {
        name: getattr(h, name)
        for name in HeldUpload.__dataclass_fields__  # noqa: SLF001 - plain dataclass
    }
    row["post"] = json.dumps(h.post, sort_keys=True)
    row["video"] = json.dumps(h.video, sort_keys=True)
    row["approvers"] = json.dumps(list(h.approvers)) if h.approvers else ""
    row["updated_at"] = time.time()
    if not db[TABLE].insert_if_absent(row):
        return False
    db.execute(
        f"UPDATE {TABLE} SET updated_at = {db.now} WHERE team_id = ? AND upload_key = ?",
        [h.team_id, h.upload_key],
    )
    return True


def forget_posting(db: Db, team_id: str, upload_key: str) -> bool:
    """Drop the claim of an upload whose announcement Slack refused (still `posting`), so the
    pipeline can send it again."""
    sql = f"DELETE FROM {TABLE} WHERE team_id = ? AND upload_key = ? AND state = 'posting'"
    return db.execute(sql, [team_id, upload_key]).rowcount == 1


def forget_abandoned(db: Db, stale_s: float) -> int:
    """Drop claims still `posting` after `stale_s` seconds by the database's clock: the
    process posting the announcement died. Nothing was sent to TikTok."""
    sql = f"DELETE FROM {TABLE} WHERE state = 'posting' AND updated_at < {db.now} - ?"
    return db.execute(sql, [float(stale_s)]).rowcount


def move(
    db: Db, team_id: str, upload_key: str, from_states: tuple[str, ...], **changes
) -> HeldUpload | None:
    """Set `changes` only while the row is in one of `from_states` (compare-and-write); the
    new row, or None when another caller moved it first."""
    changes.pop("updated_at", None)
    if "post" in changes:
        changes["post"] = json.dumps(changes["post"], sort_keys=True)
    sets = ", ".join([*(f"{name} = ?" for name in changes), f"updated_at = {db.now}"])
    marks = ", ".join("?" for _ in from_states)
    sql = f"UPDATE {TABLE} SET {sets} WHERE team_id = ? AND upload_key = ? AND state IN ({marks})"
    cursor = db.execute(sql, [*changes.values(), team_id, upload_key, *from_states])
    return get(db, team_id, upload_key) if cursor.rowcount == 1 else None


def past_deadline(db: Db, team_id: str, upload_key: str) -> bool:
    """Whether the upload's approval deadline has passed, by the database's clock (a replica
    whose clock runs ahead never calls an upload still in time expired)."""
    row = db.one(
        f"SELECT approve_by <= {db.now} AS past FROM {TABLE} "
        "WHERE team_id = ? AND upload_key = ? AND approve_by > 0",
        [team_id, upload_key],
    )
    return bool(row and row["past"])


def expired_approvals(db: Db, limit: int = CLAIM_LIMIT) -> list[HeldUpload]:
    """Uploads still waiting for approval past their `approve_by`, by the database's clock
    (not claimed: `move` to `expired` claims each one)."""
    rows = db.query(
        f"SELECT * FROM {TABLE} WHERE state = 'awaiting_approval' AND approve_by <= {db.now} "
        "ORDER BY approve_by LIMIT ?",
        [limit],
    )
    return [_from_row(r) for r in rows]


def next_expiry(db: Db) -> float | None:
    """Seconds from now (by the database's clock) until the next approval deadline."""
    row = db.one(
        f"SELECT MIN(approve_by) - {db.now} AS t FROM {TABLE} WHERE state = 'awaiting_approval'"
    )
    return row["t"] if row and row["t"] is not None else None


def due(db: Db, now: float, limit: int = CLAIM_LIMIT) -> list[HeldUpload]:
    """Held uploads whose window has closed (not claimed: `move` claims each one)."""
    rows = db.query(
        f"SELECT * FROM {TABLE} WHERE state = 'held' AND starts_at <= ? ORDER BY starts_at LIMIT ?",
        [now, limit],
    )
    return [_from_row(r) for r in rows]


def stuck_starting(db: Db, stale_s: float) -> list[HeldUpload]:
    """Rows whose starter died mid-call: `starting` for more than `stale_s` seconds, by the
    database's clock (the claim's `updated_at` was written by it too), so a replica whose
    clock runs ahead never calls a live start stuck."""
    rows = db.query(
        f"SELECT * FROM {TABLE} WHERE state = 'starting' AND updated_at < {db.now} - ? LIMIT ?",
        [float(stale_s), CLAIM_LIMIT],
    )
    return [_from_row(r) for r in rows]


def stuck_approved(db: Db, stale_s: float) -> list[HeldUpload]:
    """Rows `approved` for more than `stale_s` seconds (by the database's clock): the process
    that took the last approval died before it claimed the start. Nothing was sent to TikTok."""
    rows = db.query(
        f"SELECT * FROM {TABLE} WHERE state = 'approved' AND updated_at < {db.now} - ? LIMIT ?",
        [float(stale_s), CLAIM_LIMIT],
    )
    return [_from_row(r) for r in rows]


def next_start(db: Db) -> float | None:
    row = db.one(f"SELECT MIN(starts_at) AS t FROM {TABLE} WHERE state = 'held'")
    return row["t"] if row and row["t"] is not None else None


def open_for_team(db: Db, team_id: str, limit: int = 50) -> list[HeldUpload]:
    """Held uploads still in play (waiting for their window, a person, or approval)."""
    marks = ", ".join("?" for _ in LISTED)
    rows = db.query(
        f"SELECT * FROM {TABLE} WHERE team_id = ? AND state IN ({marks}) "
        "ORDER BY starts_at LIMIT ?",
        [team_id, *LISTED, limit],
    )
    return [_from_row(r) for r in rows]


def count_by_state(db: Db) -> dict[str, int]:
    """How many held uploads are in each state, over every workspace (for /metrics)."""
    rows = db.query(f"SELECT state, COUNT(*) AS n FROM {TABLE} GROUP BY state")
    return {str(r["state"]): int(r["n"]) for r in rows}
