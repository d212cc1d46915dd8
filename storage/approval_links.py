"""The web post page's links: one per approver and upload, random, expiring, used once.

A link is a random token in the URL `/approve/<token>`, made for one Slack user (the approver
Slack told us opened Review and approve, or got the direct message) and handed only to them.
Only the token's SHA-256 is stored, so the database never holds a usable link. Each render of
the page's form stores the SHA-256 of a fresh form token (the form's CSRF token): only the
newest form can approve. `use` spends the link by compare-and-write (unused, that form token,
not expired): of two posts at once, on one replica or several, exactly one wins. Every time
here is the database's clock (`db.now`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from storage.sql import Db

TABLE = "approval_links"
MAX_TOKEN = 200  # ours are 43 characters; anything longer is not one of them
KEEP_AFTER_EXPIRY_S = 86400  # expired rows are kept a day (a late visit says "expired")


@dataclass(frozen=True)
class ApprovalLink:
    """Whom a live link is for, and which upload."""

    team_id: str
    upload_key: str
    user_id: str
    expires_at: float
    form_hash: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


def _now(db: Db) -> float:
    return float(db.execute(f"SELECT {db.now} AS now").scalar())


def issue(
    db: Db, team_id: str, upload_key: str, user_id: str, expires_at: float, ttl_s: float
) -> str:
    """A new link for `user_id`: its token (stored only hashed), good until `expires_at` and
    at most `ttl_s` from now; "" when that is already past."""
    now = _now(db)
    until = min(float(expires_at), now + float(ttl_s))
    if until <= now:
        return ""
    db.execute(f"DELETE FROM {TABLE} WHERE expires_at < ?", [now - KEEP_AFTER_EXPIRY_S])
    token = secrets.token_urlsafe(32)
    db[TABLE].insert(
        {
            "token_hash": token_hash(token),
            "team_id": team_id,
            "upload_key": upload_key,
            "user_id": user_id,
            "created_at": now,
            "expires_at": until,
            "form_hash": "",
            "used_at": None,
        }
    )
    return token


def find(db: Db, token: str) -> tuple[ApprovalLink | None, str]:
    """The live link of `token`, or None and why not: "unknown", "used" or "expired"."""
    if not token or len(token) > MAX_TOKEN:
        return None, "unknown"
    row = db.one(
        f"SELECT *, CASE WHEN expires_at > {db.now} THEN 1 ELSE 0 END AS live "
        f"FROM {TABLE} WHERE token_hash = ?",
        [token_hash(token)],
    )
    if row is None:
        return None, "unknown"
    if row["used_at"] is not None:
        return None, "used"
    if not row["live"]:
        return None, "expired"
    link = ApprovalLink(
        team_id=row["team_id"],
        upload_key=row["upload_key"],
        user_id=row["user_id"],
        expires_at=float(row["expires_at"]),
        form_hash=row["form_hash"] or "",
    )
    return link, ""


def set_form(db: Db, token: str) -> str:
    """A fresh form token for the page about to be rendered (stored hashed): only its form
    can approve now. "" when the link was used or expired meanwhile."""
    if not token or len(token) > MAX_TOKEN:
        return ""
    form_token = secrets.token_urlsafe(32)
    stored = db.execute(
        f"UPDATE {TABLE} SET form_hash = ? WHERE token_hash = ? AND used_at IS NULL "
        f"AND expires_at > {db.now}",
        [token_hash(form_token), token_hash(token)],
    ).rowcount
    return form_token if stored == 1 else ""


def use(db: Db, token: str, form_token: str) -> bool:
    """Spend the link with the form rendered last: True for the one caller that did."""
    if not token or not form_token or len(token) > MAX_TOKEN or len(form_token) > MAX_TOKEN:
        return False
    return (
        db.execute(
            f"UPDATE {TABLE} SET used_at = {db.now} WHERE token_hash = ? AND used_at IS NULL "
            f"AND form_hash = ? AND form_hash <> '' AND expires_at > {db.now}",
            [token_hash(token), token_hash(form_token)],
        ).rowcount
        == 1
    )
