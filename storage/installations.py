"""Slack installations (many workspaces): one row per workspace that installed the app with
Add to Slack, its bot token (and refresh token, when the Slack app rotates tokens) encrypted
with Fernet at rest and decrypted only in memory.

A rotated token is stored only if the row still holds the refresh token that was spent
(`replace_tokens`, compare-and-write), so a refresh that lost a race, or finished after the
workspace was uninstalled, never overwrites or resurrects anything. Times are the database's
clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.sql import Db

TABLE = "slack_installations"


@dataclass(frozen=True)
class Installation:
    team_id: str
    bot_token: str = field(repr=False)
    team_name: str = ""
    enterprise_id: str = ""
    app_id: str = ""
    bot_id: str = ""
    bot_user_id: str = ""
    bot_scopes: str = ""
    bot_refresh_token: str = field(default="", repr=False)  # "": the app doesn't rotate
    bot_token_expires_at: float = 0.0  # 0: never
    installer_user_id: str = ""
    installed_at: float = 0.0
    updated_at: float = 0.0
    # The refresh token's ciphertext as read: `replace_tokens` compares against it.
    stored_refresh: str = field(default="", repr=False, compare=False)


class Installations:
    """The queries, with the Fernet key that seals the tokens (`fernet`)."""

    def __init__(self, fernet: Fernet):
        self.fernet = fernet

    def _seal(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode() if value else ""

    def _open(self, value: str) -> str:
        if not value:
            return ""
        try:
            return self.fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            return ""  # sealed with another key: as good as no token

    def _from_row(self, row: dict) -> Installation:
        return Installation(
            team_id=row["team_id"],
            bot_token=self._open(row["bot_token"]),
            team_name=row["team_name"],
            enterprise_id=row["enterprise_id"],
            app_id=row["app_id"],
            bot_id=row["bot_id"],
            bot_user_id=row["bot_user_id"],
            bot_scopes=row["bot_scopes"],
            bot_refresh_token=self._open(row["bot_refresh_token"]),
            bot_token_expires_at=float(row["bot_token_expires_at"] or 0),
            installer_user_id=row["installer_user_id"],
            installed_at=float(row["installed_at"] or 0),
            updated_at=float(row["updated_at"] or 0),
            stored_refresh=row["bot_refresh_token"],
        )

    def get(self, db: Db, team_id: str) -> Installation | None:
        row = db.one(f"SELECT * FROM {TABLE} WHERE team_id = ?", [team_id])
        return None if row is None else self._from_row(row)

    def all(self, db: Db) -> list[Installation]:
        return [self._from_row(r) for r in db.query(f"SELECT * FROM {TABLE} ORDER BY team_id")]

    def save(self, db: Db, i: Installation) -> None:
        """Store a (re)install: the workspace's row is replaced, `installed_at` kept when the
        app was already installed there (an install that adds scopes is not a new workspace)."""
        sql = (
            f"INSERT INTO {TABLE} (team_id, team_name, enterprise_id, app_id, bot_token, bot_id, "
            "bot_user_id, bot_scopes, bot_refresh_token, bot_token_expires_at, "
            "installer_user_id, installed_at, updated_at) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {db.now}, {db.now}) "
            "ON CONFLICT (team_id) DO UPDATE SET team_name = excluded.team_name, "
            "enterprise_id = excluded.enterprise_id, app_id = excluded.app_id, "
            "bot_token = excluded.bot_token, bot_id = excluded.bot_id, "
            "bot_user_id = excluded.bot_user_id, bot_scopes = excluded.bot_scopes, "
            "bot_refresh_token = excluded.bot_refresh_token, "
            "bot_token_expires_at = excluded.bot_token_expires_at, "
            "installer_user_id = excluded.installer_user_id, updated_at = excluded.updated_at"
        )
        db.execute(
            sql,
            [
                i.team_id,
                i.team_name,
                i.enterprise_id,
                i.app_id,
                self._seal(i.bot_token),
                i.bot_id,
                i.bot_user_id,
                i.bot_scopes,
                self._seal(i.bot_refresh_token),
                float(i.bot_token_expires_at),
                i.installer_user_id,
            ],
        )

    def get_with_clock(self, db: Db, team_id: str) -> tuple[Installation | None, float]:
        """The installation and the database's clock, read together: is its token due for
        rotation, by the clock every replica shares?"""
        return self.get(db, team_id), clock(db)

    def store_rotated(
        self, db: Db, spent: Installation, bot_token: str, refresh_token: str, expires_in: float
    ) -> bool:
        """`replace_tokens` with the new token expiring `expires_in` seconds from now by the
        database's clock."""
        expires_at = clock(db) + float(expires_in) if expires_in else 0.0
        return self.replace_tokens(db, spent, bot_token, refresh_token, expires_at)

    def replace_tokens(
        self, db: Db, spent: Installation, bot_token: str, refresh_token: str, expires_at: float
    ) -> bool:
        """Store a rotated pair only while the row still holds the refresh token `spent` was
        read with (compare-and-write); False when another refresher or an uninstall came first."""
        sql = (
            f"UPDATE {TABLE} SET bot_token = ?, bot_refresh_token = ?, bot_token_expires_at = ?, "
            f"updated_at = {db.now} WHERE team_id = ? AND bot_refresh_token = ?"
        )
        params = [
            self._seal(bot_token),
            self._seal(refresh_token),
            float(expires_at),
            spent.team_id,
            spent.stored_refresh,
        ]
        return db.execute(sql, params).rowcount == 1

    def delete(self, db: Db, team_id: str) -> bool:
        """Forget the workspace's tokens; True if it was installed."""
        return db[TABLE].delete_where("team_id = ?", [team_id]) > 0

    def reseal(self, db: Db, old: Fernet | MultiFernet) -> tuple[int, int]:
        """Re-encrypt every stored token with this key, reading them with `old` (`rotate-key`
        passes both keys); (rows changed, rows neither key could read: left as they are, the
        workspace reinstalls)."""
        changed = unreadable = 0
        for row in db.query(f"SELECT team_id, bot_token, bot_refresh_token FROM {TABLE}"):
            try:
                values = [
                    self._seal(old.decrypt(row[name].encode()).decode()) if row[name] else ""
                    for name in ("bot_token", "bot_refresh_token")
                ]
            except InvalidToken:
                unreadable += 1
                continue
            db.execute(  # unless a rotation or reinstall changed the row meanwhile
                f"UPDATE {TABLE} SET bot_token = ?, bot_refresh_token = ? "
                "WHERE team_id = ? AND bot_token = ? AND bot_refresh_token = ?",
                [*values, row["team_id"], row["bot_token"], row["bot_refresh_token"]],
            )
            changed += 1
        return changed, unreadable


LISTED = (
    "team_id, team_name, enterprise_id, bot_user_id, installer_user_id, installed_at, "
    "updated_at, bot_token_expires_at"
)


def rows_without_tokens(db: Db) -> list[dict]:
    """Every installation for an operator's list: never a token, only whether it rotates
    (`rotates`) and when it runs out (`bot_token_expires_at`, 0 = never)."""
    rows = db.query(
        f"SELECT {LISTED}, CASE WHEN bot_refresh_token <> '' THEN 1 ELSE 0 END AS rotates "
        f"FROM {TABLE} ORDER BY team_id"
    )
    return [{**row, "rotates": bool(row["rotates"])} for row in rows]


def clock(db: Db) -> float:
    """The database's clock now, in seconds since the epoch."""
    return float(db.execute(f"SELECT {db.now} AS now").scalar())
