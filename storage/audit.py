"""The audit trail: one row per attempt, written before TikTok is called and completed after.

A row left in state "started" is an attempt whose process died mid-call: it stays visible.
No column ever holds a token.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.sql import Db
from storage.timefmt import now_iso

TABLE = "audit"
EXPORT_COLUMNS = (
    "id",
    "started_at",
    "finished_at",
    "state",
    "action",
    "team_id",
    "user_id",
    "channel_id",
    "publish_id",
    "source",
    "reason",
    "account",
    "account_kind",
    "account_rule",
    "open_id",
    "outcome",
    "http_status",
    "log_id",
    "latency_ms",
    "attempts",
    "retired_at",  # set: the workspace was uninstalled then (kept AUDIT_RETENTION_DAYS)
)


@dataclass(frozen=True)
class AuditStart:
    action: str
    team_id: str
    user_id: str
    channel_id: str = ""
    publish_id: str = ""
    source: str = ""
    reason: str = ""
    account: str = ""
    account_kind: str = ""
    account_rule: str = ""
    open_id: str = ""


@dataclass(frozen=True)
class AuditFinish:
    outcome: str
    http_status: int | None = None
    log_id: str = ""
    latency_ms: int | None = None
    attempts: int = 0


# These run on every cancel: one statement each, in the caller's transaction.


def _fields(entry: AuditStart | AuditFinish) -> dict:
    """The entry's fields as a new dict (flat values only: dataclasses.asdict deep-copies, at
    about twenty times the cost, measured per cancel)."""
    return dict(vars(entry))


def _insert(db: Db, values: dict) -> int:
    return db[TABLE].insert_returning_id(values)


def started(entry: AuditStart) -> dict:
    """The columns of a "started" row."""
    return {**_fields(entry), "started_at": now_iso(), "state": "started"}


def start(db: Db, entry: AuditStart) -> int:
    return _insert(db, started(entry))


def finishing(row_id: int, result: AuditFinish) -> tuple[str, list]:
    """The UPDATE that finishes row `row_id`, and its parameters."""
    values = {**_fields(result), "finished_at": now_iso(), "state": "finished"}
    assignments = ", ".join(f"{name} = ?" for name in values)
    return f"UPDATE {TABLE} SET {assignments} WHERE id = ?", [*values.values(), row_id]


def finish(db: Db, row_id: int, result: AuditFinish) -> None:
    db.execute(*finishing(row_id, result))


def record(db: Db, entry: AuditStart, result: AuditFinish) -> int:
    """An attempt that made no TikTok call: written started and finished in one statement."""
    now = now_iso()
    return _insert(
        db,
        {
            **_fields(entry),
            **_fields(result),
            "started_at": now,
            "finished_at": now,
            "state": "finished",
        },
    )


def get(db: Db, row_id: int) -> dict:
    return db[TABLE].get(row_id)


def rows_since(db: Db, since_iso: str | None = None, team_id: str | None = None) -> list[dict]:
    """Every entry (from `since_iso` on; of one workspace when `team_id` is given), oldest
    first: the operator's export, retired entries of uninstalled workspaces included."""
    columns = ", ".join(EXPORT_COLUMNS)
    where, params = ["1 = 1"], []
    if since_iso:
        where.append("started_at >= ?")
        params.append(since_iso)
    if team_id is not None:
        where.append("team_id = ?")
        params.append(team_id)
    sql = f"SELECT {columns} FROM {TABLE} WHERE {' AND '.join(where)} ORDER BY id"
    return list(db.query(sql, params))


# How the upload of an attempt ended, as the bot knows it now: from its announcement, or from
# the following of an unannounced upload's cancel (at most one of the two exists).
ENDING_COLUMNS = {
    "ending_status": "status",
    "ending_fail_reason": "fail_reason",
    "ending_final": "final",
    "ending_final_at": "final_at",
    "ending_next_poll_at": "next_poll_at",
    "ending_poll_count": "poll_count",
}


def recent_for_user(db: Db, team_id: str, user_id: str, limit: int = 10) -> list[dict]:
    """A person's last attempts, newest first, each with how its upload ended (`ending_*`,
    None when the bot follows no such upload) and who asked TikTok to cancel it
    (`ending_cancel_by`: whoever's cancel TikTok accepted)."""
    columns = ", ".join(f"x.{c}" for c in EXPORT_COLUMNS)
    endings = ", ".join(f"COALESCE(a.{c}, f.{c}) AS {name}" for name, c in ENDING_COLUMNS.items())
    sql = (
        f"SELECT {columns}, {endings}, COALESCE(NULLIF(a.cancel_by, ''), f.user_id) "
        f"AS ending_cancel_by FROM {TABLE} x "
        "LEFT JOIN announcements a ON a.publish_id = x.publish_id AND a.team_id = x.team_id "
        "LEFT JOIN followed_cancels f ON f.publish_id = x.publish_id AND f.team_id = x.team_id "
        "WHERE x.team_id = ? AND x.user_id = ? AND x.retired_at IS NULL "
        "ORDER BY x.id DESC LIMIT ?"
    )
    return list(db.query(sql, [team_id, user_id, limit]))
