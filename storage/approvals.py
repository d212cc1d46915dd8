"""Approvals of uploads waiting for approval: one row per approver and upload, so each
approver counts once, whoever else approves at the same moment on any replica.

An approval is written only while its upload still waits for approval and its deadline has
not passed by the database's clock, in the same statement that checks it: an approval can
never land on an upload that expired, was rejected or was cancelled first.
"""

from __future__ import annotations

import json
from typing import Any

from storage.sql import Db

TABLE = "approvals"


def add(
    db: Db, team_id: str, upload_key: str, user_id: str, choices: dict[str, Any], via: str
) -> bool:
    """Record `user_id`'s approval; False when they approved already, or the upload no longer
    waits for approval (or its deadline passed)."""
    sql = (
        f"INSERT INTO {TABLE} (upload_key, team_id, user_id, approved_at, choices, via) "
        f"SELECT upload_key, team_id, ?, {db.now}, ?, ? FROM held_uploads "
        "WHERE upload_key = ? AND team_id = ? AND state = 'awaiting_approval' "
        f"AND approve_by > {db.now} "
        "ON CONFLICT (upload_key, user_id) DO NOTHING"
    )
    params = [user_id, json.dumps(choices, sort_keys=True), via, upload_key, team_id]
    return db.execute(sql, params).rowcount == 1


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
