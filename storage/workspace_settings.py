"""A workspace's own settings, set by its admins in Slack: who else administers the bot there
(`settings admins`) and where audit entries of unannounced uploads go (`settings audit`).
One row per Slack team; every query names the team.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.sql import Db

TABLE = "workspace_settings"


@dataclass(frozen=True)
class WorkspaceSettings:
    team_id: str
    admins: tuple[str, ...] | None = None  # None: never set
    audit_channel: str = ""  # "": never set
    updated_by: str = ""
    updated_at: float = 0.0


def _admins(raw: str) -> tuple[str, ...] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return tuple(str(v) for v in value) if isinstance(value, list) else None


def get(db: Db, team_id: str) -> WorkspaceSettings:
    row = db.one(f"SELECT * FROM {TABLE} WHERE team_id = ?", [team_id])
    if row is None:
        return WorkspaceSettings(team_id)
    return WorkspaceSettings(
        team_id=team_id,
        admins=_admins(row["admins"]),
        audit_channel=row["audit_channel"],
        updated_by=row["updated_by"],
        updated_at=float(row["updated_at"] or 0),
    )


def _put(db: Db, team_id: str, column: str, value: str, by: str) -> None:
    sql = (
        f"INSERT INTO {TABLE} (team_id, {column}, updated_by, updated_at) "
        f"VALUES (?, ?, ?, {db.now}) ON CONFLICT (team_id) DO UPDATE SET "
        f"{column} = excluded.{column}, updated_by = excluded.updated_by, "
        "updated_at = excluded.updated_at"
    )
    db.execute(sql, [team_id, value, by])


def set_admins(db: Db, team_id: str, admins: tuple[str, ...] | list[str], by: str) -> None:
    _put(db, team_id, "admins", json.dumps(list(admins)), by)


def clear_admins(db: Db, team_id: str, by: str) -> None:
    """Forget the workspace's own list (one workspace: ADMIN_USERS applies again)."""
    _put(db, team_id, "admins", "", by)


def set_audit_channel(db: Db, team_id: str, channel: str, by: str) -> None:
    _put(db, team_id, "audit_channel", channel, by)


def delete(db: Db, team_id: str) -> None:
    db[TABLE].delete_where("team_id = ?", [team_id])
