"""The `team approvers` rule: which Slack users and user groups approve every upload for a
team account, and how many approvals it needs. One row per (Slack team, account).

`approvers` is a JSON list of Slack ids ("U…"/"W…" users, "S…" user groups), in the order the
admin named them. `set_at` is the database's clock. Every query names the Slack team: a
workspace only ever reads its own rules.
"""

from __future__ import annotations

import json

from storage.sql import Db

TABLE = "account_approvers"


def _ids(raw: str | None) -> tuple[str, ...]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def get(db: Db, team_id: str, account: str) -> tuple[tuple[str, ...], int] | None:
    """(approvers, needed) for `account`, or None when no rule is set."""
    row = db.one(
        f"SELECT approvers, needed FROM {TABLE} WHERE team_id = ? AND account = ?",
        [team_id, account],
    )
    if row is None:
        return None
    return _ids(row["approvers"]), int(row["needed"] or 0)


def put(
    db: Db,
    team_id: str,
    account: str,
    approvers: tuple[str, ...] | list[str],
    needed: int,
    set_by: str,
) -> None:
    """Set the rule for `account`, replacing the one there; `set_at` is the database's clock."""
    sql = (
        f"INSERT INTO {TABLE} (team_id, account, approvers, needed, set_by, set_at) "
        f"VALUES (?, ?, ?, ?, ?, {db.now}) ON CONFLICT (team_id, account) DO UPDATE SET "
        "approvers = excluded.approvers, needed = excluded.needed, set_by = excluded.set_by, "
        "set_at = excluded.set_at"
    )
    db.execute(sql, [team_id, account, json.dumps(list(approvers)), int(needed), set_by])


def remove(db: Db, team_id: str, account: str) -> bool:
    """Drop the rule for `account`; True if there was one."""
    return db[TABLE].delete_where("team_id = ? AND account = ?", [team_id, account]) > 0


def for_team(db: Db, team_id: str) -> list[dict]:
    """Every rule of the Slack team, by account: dicts with `account`, `approvers` (a tuple of
    ids), `needed`, `set_by`, `set_at`."""
    rows = db.query(
        f"SELECT account, approvers, needed, set_by, set_at FROM {TABLE} "
        "WHERE team_id = ? ORDER BY account",
        [team_id],
    )
    return [
        {**row, "approvers": _ids(row["approvers"]), "needed": int(row["needed"] or 0)}
        for row in rows
    ]
