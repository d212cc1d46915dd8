"""Status polls shared by the tables that follow an upload to its end (`announcements`, and
`followed_cancels` for cancels of uploads the bot did not announce): each row has
`publish_id`, `final` and `next_poll_at`. A due poll is claimed by a conditional update that
moves it POLL_CLAIM_S ahead, so of several replicas asking at once exactly one gets each; the
poll itself then sets the real next time."""

from __future__ import annotations

from storage.sql import Db

POLL_CLAIM_S = 60.0  # a claimed poll not done by then (its replica died) is due again


def claim_due(db: Db, table: str, now: float, limit: int = 20) -> list[dict]:
    """The rows of `table` whose poll is due and that this caller claimed."""
    rows = db[table].rows_where(
        "final = 0 AND next_poll_at IS NOT NULL AND next_poll_at <= ?",
        [now],
        order_by="next_poll_at",
        limit=limit,
    )
    claimed = []
    for row in rows:
        sql = (
            f"UPDATE {table} SET next_poll_at = ? "
            "WHERE team_id = ? AND publish_id = ? AND next_poll_at = ?"
        )
        params = [now + POLL_CLAIM_S, row["team_id"], row["publish_id"], row["next_poll_at"]]
        if db.execute(sql, params).rowcount == 1:
            claimed.append(row)
    return claimed


def earliest(db: Db, table: str) -> float | None:
    """When the next poll of `table` is due (None: nothing to poll)."""
    row = db.execute(
        f"SELECT MIN(next_poll_at) FROM {table} WHERE final = 0 AND next_poll_at IS NOT NULL"
    ).fetchone()
    return row[0] if row else None
