"""Who may act with which team account: one row per (Slack team, account, Slack user)."""

from __future__ import annotations

from storage.sql import Db
from storage.timefmt import now_iso

TABLE = "grants"


def is_granted(db: Db, team_id: str, account: str, user_id: str) -> bool:
    sql = f"SELECT 1 FROM {TABLE} WHERE team_id = ? AND account = ? AND user_id = ?"
    return db.execute(sql, [team_id, account, user_id]).fetchone() is not None


def grant(db: Db, team_id: str, account: str, user_ids: list[str], by: str) -> list[str]:
    """Grant each user; returns those who did not have it already. One transaction: the
    `Store.run` call this runs in."""
    added = []
    for user_id in user_ids:
        if not is_granted(db, team_id, account, user_id):
            db[TABLE].insert(
                {
                    "team_id": team_id,
                    "account": account,
                    "user_id": user_id,
                    "granted_by": by,
                    "granted_at": now_iso(),
                }
            )
            added.append(user_id)
    return added


def revoke(db: Db, team_id: str, account: str, user_ids: list[str]) -> list[str]:
    """Take the grant back; returns those who had it. One transaction: the `Store.run` call
    this runs in."""
    removed = []
    for user_id in user_ids:
        if is_granted(db, team_id, account, user_id):
            db[TABLE].delete_where(
                "team_id = ? AND account = ? AND user_id = ?", [team_id, account, user_id]
            )
            removed.append(user_id)
    return removed


def remove_account(db: Db, team_id: str, account: str) -> None:
    db[TABLE].delete_where("team_id = ? AND account = ?", [team_id, account])


def users_of(db: Db, team_id: str, account: str) -> list[str]:
    sql = f"SELECT user_id FROM {TABLE} WHERE team_id = ? AND account = ? ORDER BY granted_at"
    return [row[0] for row in db.execute(sql, [team_id, account]).fetchall()]


def accounts_of(db: Db, team_id: str, user_id: str) -> list[str]:
    sql = f"SELECT account FROM {TABLE} WHERE team_id = ? AND user_id = ? ORDER BY account"
    return [row[0] for row in db.execute(sql, [team_id, user_id]).fetchall()]


def all_rows(db: Db) -> list[dict]:
    return list(db.query(f"SELECT * FROM {TABLE} ORDER BY team_id, account, user_id"))
