"""Cancels a person asked for before linking, kept for the "Cancel it now" button after linking.

The button carries only a short random key; the publish_id and the reason stay here, so a long
reason never makes the button's value too big for Slack. A key works only for the person it
was made for, and rows older than a week are pruned.
"""

from __future__ import annotations

import secrets
import time

from storage.sql import Db

TABLE = "pending_retries"
KEEP_SECONDS = 7 * 86400


def remember(
    db: Db, team_id: str, user_id: str, publish_id: str, reason: str, now: float | None = None
) -> str:
    """Store the retry; returns its key (22 URL-safe characters)."""
    now = now or time.time()
    key = secrets.token_urlsafe(16)
    db[TABLE].delete_where("created_at < ?", [now - KEEP_SECONDS])
    db[TABLE].insert(
        {
            "retry_key": key,
            "team_id": team_id,
            "user_id": user_id,
            "publish_id": publish_id,
            "reason": reason,
            "created_at": now,
        }
    )
    return key


def recall(db: Db, key: str, team_id: str, user_id: str) -> tuple[str, str] | None:
    """(publish_id, reason) for this person's key, or None (unknown, pruned, someone else's)."""
    if not key or len(key) > 64:
        return None
    sql = (
        f"SELECT publish_id, reason FROM {TABLE} "
        "WHERE retry_key = ? AND team_id = ? AND user_id = ?"
    )
    row = db.one(sql, (key, team_id, user_id))
    if row is None:
        return None
    return row["publish_id"] or "", row["reason"] or ""
