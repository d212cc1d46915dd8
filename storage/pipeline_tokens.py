"""Pipeline credentials of a workspace (many workspaces): `POST /notifications`, `POST /uploads`
and `GET /uploads/<key>` learn the workspace from the bearer token. Only the SHA-256 of a
secret is stored; `token_id` is its public name (shown in `settings`, used to revoke it).
Every query but the lookup by hash names the team.
"""

from __future__ import annotations

import hashlib
import secrets

from storage.sql import Db

TABLE = "pipeline_tokens"
PREFIX = "tcp_"  # every pipeline token starts with this (easy to spot in a leaked log)


def digest(token: str | bytes) -> str:
    raw = token if isinstance(token, bytes) else token.encode("utf-8", "surrogateescape")
    return hashlib.sha256(raw).hexdigest()


def make(db: Db, team_id: str, made_by: str) -> tuple[str, str]:
    """A new credential for `team_id`: (token_id, the secret token, shown once)."""
    token_id = "pt_" + secrets.token_hex(4)
    token = PREFIX + secrets.token_urlsafe(32)
    db.execute(
        f"INSERT INTO {TABLE} (token_id, team_id, token_hash, made_by, made_at) "
        f"VALUES (?, ?, ?, ?, {db.now})",
        [token_id, team_id, digest(token), made_by],
    )
    return token_id, token


def team_of(db: Db, token: str | bytes) -> str | None:
    """The workspace a live credential belongs to; None for an unknown or revoked one."""
    row = db.one(
        f"SELECT team_id FROM {TABLE} WHERE token_hash = ? AND revoked_at IS NULL",
        [digest(token)],
    )
    return None if row is None else str(row["team_id"])


def revoke(db: Db, team_id: str, token_id: str) -> bool:
    """Revoke one of the workspace's credentials; False if it has none by that id (or it was
    revoked already)."""
    sql = (
        f"UPDATE {TABLE} SET revoked_at = {db.now} "
        "WHERE team_id = ? AND token_id = ? AND revoked_at IS NULL"
    )
    return db.execute(sql, [team_id, token_id]).rowcount == 1


def for_team(db: Db, team_id: str) -> list[dict]:
    """The workspace's live credentials (never the secret): token_id, made_by, made_at."""
    return db.query(
        f"SELECT token_id, made_by, made_at FROM {TABLE} "
        "WHERE team_id = ? AND revoked_at IS NULL ORDER BY made_at, token_id",
        [team_id],
    )


def delete_team(db: Db, team_id: str) -> int:
    return db[TABLE].delete_where("team_id = ?", [team_id])
