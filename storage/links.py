"""Linked TikTok accounts: tokens encrypted with Fernet at rest, decrypted only in memory."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from cryptography.fernet import Fernet, InvalidToken
from sqlite_utils import Database

from storage.db import fetch_one
from storage.timefmt import now_iso

TABLE = "links"


class LinkUnreadable(Exception):
    """A stored link's tokens cannot be decrypted with the current key (the key changed)."""


@dataclass(frozen=True)
class Link:
    team_id: str
    kind: str  # "user" or "team"
    owner: str  # Slack user ID or team account name
    open_id: str
    display_name: str
    scope: str
    access_token: str = field(repr=False)
    access_expires_at: float
    refresh_token: str = field(repr=False)
    refresh_expires_at: float
    linked_by: str = ""
    linked_at: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.team_id, self.kind, self.owner)

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        return self.access_expires_at - (now or time.time()) < seconds

    def with_tokens(
        self,
        access: str,
        access_expires_at: float,
        refresh: str,
        refresh_expires_at: float,
        scope: str | None = None,
    ) -> Link:
        return replace(
            self,
            access_token=access,
            access_expires_at=access_expires_at,
            refresh_token=refresh,
            refresh_expires_at=refresh_expires_at,
            scope=scope or self.scope,
        )


class Links:
    """Reads and writes `links` rows; `fernet` encrypts on the way in, decrypts on the way out."""

    def __init__(self, fernet: Fernet):
        self.fernet = fernet

    def _encrypt(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode()

    def _decrypt(self, value: str) -> str:
        try:
            return self.fernet.decrypt(value.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise LinkUnreadable from exc

    def get(self, db: Database, team_id: str, kind: str, owner: str) -> Link | None:
        sql = f"SELECT * FROM {TABLE} WHERE team_id = ? AND kind = ? AND owner = ?"
        row = fetch_one(db, sql, (team_id, kind, owner))
        if row is None:
            return None
        return Link(
            team_id=row["team_id"],
            kind=row["kind"],
            owner=row["owner"],
            open_id=row["open_id"] or "",
            display_name=row["display_name"] or "",
            scope=row["scope"] or "",
            access_token=self._decrypt(row["access_token"]),
            access_expires_at=row["access_expires_at"] or 0.0,
            refresh_token=self._decrypt(row["refresh_token"]),
            refresh_expires_at=row["refresh_expires_at"] or 0.0,
            linked_by=row["linked_by"] or "",
            linked_at=row["linked_at"] or "",
        )

    def save(self, db: Database, link: Link) -> None:
        now = now_iso()
        db[TABLE].upsert(
            {
                "team_id": link.team_id,
                "kind": link.kind,
                "owner": link.owner,
                "open_id": link.open_id,
                "display_name": link.display_name,
                "scope": link.scope,
                "access_token": self._encrypt(link.access_token),
                "access_expires_at": link.access_expires_at,
                "refresh_token": self._encrypt(link.refresh_token),
                "refresh_expires_at": link.refresh_expires_at,
                "linked_by": link.linked_by,
                "linked_at": link.linked_at or now,
                "updated_at": now,
            },
            pk=("team_id", "kind", "owner"),
        )

    def delete(self, db: Database, team_id: str, kind: str, owner: str) -> None:
        db[TABLE].delete_where("team_id = ? AND kind = ? AND owner = ?", [team_id, kind, owner])

    def delete_open_id(self, db: Database, open_id: str) -> list[tuple[str, str, str]]:
        """Forget every link to this TikTok account (TikTok said it was disconnected)."""
        sql = f"SELECT team_id, kind, owner FROM {TABLE} WHERE open_id = ?"
        keys = [tuple(row) for row in db.execute(sql, [open_id]).fetchall()]
        if keys:
            db[TABLE].delete_where("open_id = ?", [open_id])
        return keys

    def team_accounts(self, db: Database, team_id: str) -> list[dict]:
        sql = (
            f"SELECT owner AS account, display_name, open_id, access_expires_at, "
            f"refresh_expires_at, linked_by FROM {TABLE} "
            "WHERE team_id = ? AND kind = 'team' ORDER BY owner"
        )
        return list(db.query(sql, [team_id]))

    @staticmethod
    def rows_without_tokens(db: Database) -> list[dict]:
        columns = "team_id, kind, owner, open_id, display_name, scope, access_expires_at, "
        columns += "refresh_expires_at, linked_by, linked_at, updated_at"
        return list(db.query(f"SELECT {columns} FROM {TABLE} ORDER BY team_id, kind, owner"))
