"""Linked TikTok accounts: tokens encrypted with Fernet at rest, decrypted only in memory.

Writes that depend on what was read are conditional SQL, so the database decides even when
several replicas share it: a refresh stores its new pair only if the row still holds the
refresh token it refreshed with (`replace_tokens`), and a link TikTok refused is forgotten
only if it is still that link (`forget_if_current`). A forgotten link leaves a tombstone in
`forgotten_links`, so the bot can say the link stopped working instead of "never linked".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from cryptography.fernet import Fernet, InvalidToken

from storage.sql import Db
from storage.timefmt import now_iso

TABLE = "links"
FORGOTTEN = "forgotten_links"


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
    linked_via: str = ""  # "confirmed": the person confirmed on the bot's page; "" before that
    # The refresh token's ciphertext as read: conditional writes compare against it.
    stored_refresh: str = field(default="", repr=False, compare=False)

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


@dataclass(frozen=True)
class Forgotten:
    """A tombstone: the bot forgot this link because TikTok refused it."""

    team_id: str
    kind: str
    owner: str
    open_id: str
    display_name: str
    reason: str  # "refresh_refused" or "authorization_removed"
    detail: str  # for authorization_removed: TikTok's reason number, as text
    forgotten_at: str
    linked_by: str = ""  # the Slack user who had linked it (the admin, for a team account)


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

    def get(self, db: Db, team_id: str, kind: str, owner: str) -> Link | None:
        sql = f"SELECT * FROM {TABLE} WHERE team_id = ? AND kind = ? AND owner = ?"
        row = db.one(sql, (team_id, kind, owner))
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
            linked_via=row.get("linked_via") or "",
            stored_refresh=row["refresh_token"],
        )

    def save(self, db: Db, link: Link) -> None:
        """Store a new link (replacing any for the same owner) and drop its tombstone, both in
        the transaction of the `Store.run` call this runs in."""
        now = now_iso()
        self._forget_tombstone(db, *link.key)
        db[TABLE].upsert(self._row(link, now))

    def _row(self, link: Link, now: str) -> dict:
        return {
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
            "linked_via": link.linked_via,
            "updated_at": now,
        }

    def replace_tokens(self, db: Db, read: Link, renewed: Link) -> str | None:
        """Store `renewed`'s tokens only if the row still holds the refresh token `read` had.

        Returns the new refresh token's ciphertext; None when the link was disconnected,
        removed, relinked or refreshed by someone else meanwhile: the old link is never
        brought back and a newer one never overwritten.
        """
        if not read.stored_refresh:
            return None
        refresh_ciphertext = self._encrypt(renewed.refresh_token)
        sql = (
            f"UPDATE {TABLE} SET access_token = ?, access_expires_at = ?, refresh_token = ?, "
            "refresh_expires_at = ?, scope = ?, updated_at = ? "
            "WHERE team_id = ? AND kind = ? AND owner = ? AND refresh_token = ?"
        )
        params = [
            self._encrypt(renewed.access_token),
            renewed.access_expires_at,
            refresh_ciphertext,
            renewed.refresh_expires_at,
            renewed.scope,
            now_iso(),
            *read.key,
            read.stored_refresh,
        ]
        changed = db.execute(sql, params).rowcount
        return refresh_ciphertext if changed == 1 else None

    def forget_if_current(self, db: Db, read: Link, reason: str, detail: str = "") -> bool:
        """Delete the link only if it still holds `read`'s refresh token; leave a tombstone.

        False when the row changed since it was read (a newer link won): nothing is deleted.
        The delete and the tombstone commit together, with the `Store.run` call this runs in.
        """
        if not read.stored_refresh:
            return False
        sql = (
            f"DELETE FROM {TABLE} WHERE team_id = ? AND kind = ? AND owner = ? "
            "AND refresh_token = ?"
        )
        deleted = db.execute(sql, [*read.key, read.stored_refresh]).rowcount == 1
        if deleted:
            self._tombstone(db, read, reason, detail)
        return deleted

    def _tombstone(self, db: Db, link: Link, reason: str, detail: str) -> None:
        db[FORGOTTEN].upsert(
            {
                "team_id": link.team_id,
                "kind": link.kind,
                "owner": link.owner,
                "open_id": link.open_id,
                "display_name": link.display_name,
                "reason": reason,
                "detail": detail,
                "forgotten_at": now_iso(),
                "linked_by": link.linked_by,
            }
        )

    @staticmethod
    def _forget_tombstone(db: Db, team_id: str, kind: str, owner: str) -> None:
        db.execute(
            f"DELETE FROM {FORGOTTEN} WHERE team_id = ? AND kind = ? AND owner = ?",
            [team_id, kind, owner],
        )

    def forgotten(self, db: Db, team_id: str, kind: str, owner: str) -> Forgotten | None:
        """The tombstone of a link the bot forgot, or None."""
        sql = f"SELECT * FROM {FORGOTTEN} WHERE team_id = ? AND kind = ? AND owner = ?"
        row = db.one(sql, (team_id, kind, owner))
        if row is None:
            return None
        return Forgotten(
            team_id=row["team_id"],
            kind=row["kind"],
            owner=row["owner"],
            open_id=row["open_id"] or "",
            display_name=row["display_name"] or "",
            reason=row["reason"] or "",
            detail=row["detail"] or "",
            forgotten_at=row["forgotten_at"] or "",
            linked_by=row["linked_by"] or "",
        )

    def delete(self, db: Db, team_id: str, kind: str, owner: str) -> None:
        """The person unlinked it (disconnect, team remove): no tombstone, it was on purpose.
        The link and any old tombstone go together, with the `Store.run` call this runs in."""
        db[TABLE].delete_where("team_id = ? AND kind = ? AND owner = ?", [team_id, kind, owner])
        self._forget_tombstone(db, team_id, kind, owner)

    def delete_open_id(
        self, db: Db, open_id: str, reason: str = "authorization_removed", detail: str = ""
    ) -> list[Forgotten]:
        """Forget every link to this TikTok account (TikTok said access was removed).

        Each row is deleted only as it was read (compare-and-delete) and leaves a tombstone;
        returns what was forgotten, so the owners can be told. Every delete and tombstone is
        one transaction: the `Store.run` call this runs in.
        """
        sql = f"SELECT * FROM {TABLE} WHERE open_id = ?"
        forgotten = []
        rows = [dict(r) for r in db.query(sql, [open_id])]
        for row in rows:
            delete = (
                f"DELETE FROM {TABLE} WHERE team_id = ? AND kind = ? AND owner = ? "
                "AND refresh_token = ?"
            )
            key = [row["team_id"], row["kind"], row["owner"]]
            if db.execute(delete, [*key, row["refresh_token"]]).rowcount != 1:
                continue
            now = now_iso()
            entry = Forgotten(
                *key,
                open_id=row["open_id"] or "",
                display_name=row["display_name"] or "",
                reason=reason,
                detail=detail,
                forgotten_at=now,
                linked_by=row["linked_by"] or "",
            )
            db[FORGOTTEN].upsert(entry.__dict__)
            forgotten.append(entry)
        return forgotten

    def team_accounts(self, db: Db, team_id: str) -> list[dict]:
        sql = (
            f"SELECT owner AS account, display_name, open_id, access_expires_at, "
            f"refresh_expires_at, linked_by FROM {TABLE} "
            "WHERE team_id = ? AND kind = 'team' ORDER BY owner"
        )
        return list(db.query(sql, [team_id]))

    def team_links_granted_to(self, db: Db, team_id: str, user_id: str) -> list[dict]:
        """The team accounts `user_id` may use: name, TikTok account, who linked it and when."""
        sql = (
            f"SELECT l.owner AS account, l.display_name, l.linked_by, l.linked_at, l.linked_via "
            f"FROM {TABLE} l JOIN grants g ON g.team_id = l.team_id AND g.account = l.owner "
            "WHERE l.team_id = ? AND l.kind = 'team' AND g.user_id = ? ORDER BY l.owner"
        )
        return list(db.query(sql, [team_id, user_id]))

    @staticmethod
    def rows_without_tokens(db: Db) -> list[dict]:
        columns = "team_id, kind, owner, open_id, display_name, scope, access_expires_at, "
        columns += "refresh_expires_at, linked_by, linked_at, linked_via, updated_at"
        return list(db.query(f"SELECT {columns} FROM {TABLE} ORDER BY team_id, kind, owner"))
