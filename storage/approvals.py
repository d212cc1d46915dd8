"""Approvals of uploads waiting for approval: one row per approver and upload, so each
approver counts once, whoever else approves at the same moment on any replica.

An approval is written only while its upload still waits for approval and its deadline has
not passed by the database's clock, with the upload's row locked (a no-op update) for the rest
of the transaction: an approval can never land on an upload that expired, was rejected or was
cancelled first. The approval that makes the count moves the upload to `approved` in the same
transaction, so an expiry, a rejection, a cancel or another approval on another replica comes
wholly before it (the approval is refused) or wholly after it (it finds the upload approved):
never an approval written in time and then expired, never a count two approvers both miss.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage import held
from storage.held import HeldUpload
from storage.sql import Db

TABLE = "approvals"


@dataclass(frozen=True)
class Added:
    """What one approval did: whether it was written, the count with it, and the upload
    moved to `approved` when it was the last one needed (None otherwise)."""

    added: bool
    count: int = 0
    approved: HeldUpload | None = None


def add(
    db: Db,
    team_id: str,
    upload_key: str,
    user_id: str,
    choices: dict[str, Any],
    via: str,
    *,
    post: dict[str, Any],
    by_at: float,
) -> Added:
    """Record `user_id`'s approval; when it makes the count the upload needs, move the upload
    to `approved` with `post` (the choices made) in the same transaction. Not added when they
    approved already, or the upload no longer waits for approval (or its deadline passed)."""
    lock = db.execute(
        f"UPDATE {held.TABLE} SET approve_by = approve_by "
        "WHERE upload_key = ? AND team_id = ? AND state = 'awaiting_approval' "
        f"AND approve_by > {db.now}",
        [upload_key, team_id],
    )
    if lock.rowcount != 1:
        return Added(False)
    sql = (
        f"INSERT INTO {TABLE} (upload_key, team_id, user_id, approved_at, choices, via) "
        f"VALUES (?, ?, ?, {db.now}, ?, ?) ON CONFLICT (team_id, upload_key, user_id) DO NOTHING"
    )
    params = [upload_key, team_id, user_id, json.dumps(choices, sort_keys=True), via]
    if db.execute(sql, params).rowcount != 1:
        return Added(False)
    n = count(db, team_id, upload_key)
    row = db.one(
        f"SELECT needed FROM {held.TABLE} WHERE team_id = ? AND upload_key = ?",
        [team_id, upload_key],
    )
    if row is None or n < int(row["needed"]):
        return Added(True, n)
    approved = held.move(
        db,
        team_id,
        upload_key,
        ("awaiting_approval",),
        state="approved",
        post=post,
        by_user=user_id,
        by_at=by_at,
    )
    return Added(True, n, approved)


def approvers_of(db: Db, team_id: str, upload_key: str) -> list[str]:
    """Who approved the upload, first first."""
    rows = db.query(
        f"SELECT user_id FROM {TABLE} WHERE team_id = ? AND upload_key = ? "
        "ORDER BY approved_at, user_id",
        [team_id, upload_key],
    )
    return [r["user_id"] for r in rows]


def count(db: Db, team_id: str, upload_key: str) -> int:
    row = db.one(
        f"SELECT COUNT(*) AS n FROM {TABLE} WHERE team_id = ? AND upload_key = ?",
        [team_id, upload_key],
    )
    return int(row["n"]) if row else 0


def still_needed(db: Db) -> int:
    """Approvals still needed by the uploads waiting for approval, over every workspace (for
    /metrics): each upload's `needed` less the approvals it has."""
    row = db.one(
        f"SELECT COALESCE(SUM(h.needed - (SELECT COUNT(*) FROM {TABLE} a "
        "WHERE a.team_id = h.team_id AND a.upload_key = h.upload_key)), 0) AS n "
        f"FROM {held.TABLE} h WHERE h.state = 'awaiting_approval'"
    )
    return int(row["n"]) if row else 0
