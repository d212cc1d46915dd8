"""OAuth `state` values: random, single-use, bound to a Slack team and user, short-lived.

After TikTok's consent the callback does not link yet: it parks the exchanged tokens
(Fernet ciphertext) on the state's row with a second single-use secret, the confirm token,
shown only on the bot's confirm page. Only a POST carrying both the state and that token,
before it expires, links (`take_confirmation`, a conditional update: it works once).

Only SHA-256 hashes of the state and the confirm token are stored, so the database never
holds a usable one; parked tokens are dropped once used or declined, and once their page
expired unconfirmed by a periodic prune (`expired_parked`, `drop_parked`: see
`bot.accounts.parked_prune`), which also revokes them at TikTok.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from storage.sql import Db, NotFoundError

TABLE = "oauth_states"
STATE_TTL_SECONDS = 600
CONFIRM_TTL_SECONDS = 600


@dataclass(frozen=True)
class PendingLink:
    team_id: str
    user_id: str
    kind: str
    owner: str
    channel_id: str
    retry_publish_id: str
    retry_reason: str


class StateProblem(Exception):
    """Why a state was refused: "unknown", "used" or "expired"."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def create_state(db: Db, pending: PendingLink, now: float | None = None) -> str:
    now = now or time.time()
    state = secrets.token_urlsafe(32)
    # Rows still parking tokens stay until the prune has revoked them at TikTok.
    db[TABLE].delete_where("expires_at < ? AND pending_grant IS NULL", [now - 86400])
    db[TABLE].insert(
        {
            "state_hash": _hash(state),
            "team_id": pending.team_id,
            "user_id": pending.user_id,
            "kind": pending.kind,
            "owner": pending.owner,
            "channel_id": pending.channel_id,
            "retry_publish_id": pending.retry_publish_id,
            "retry_reason": pending.retry_reason,
            "created_at": now,
            "expires_at": now + STATE_TTL_SECONDS,
            "used_at": None,
        }
    )
    return state


def consume_state(db: Db, state: str, now: float | None = None) -> PendingLink:
    """Mark the state used and return what it was for, or raise `StateProblem`."""
    now = now or time.time()
    if not state or len(state) > 200:
        raise StateProblem("unknown")
    key = _hash(state)
    # One conditional statement: of two callbacks racing with the same state (two replicas,
    # two connections), exactly one sees the row unused and marks it; the other's update
    # matches nothing once the first commits.
    row = db.one(
        f"UPDATE {TABLE} SET used_at = ? WHERE state_hash = ? AND used_at IS NULL RETURNING *",
        [now, key],
    )
    if row is None:
        known = db.one(f"SELECT used_at FROM {TABLE} WHERE state_hash = ?", [key])
        raise StateProblem("unknown" if known is None else "used")
    if row["expires_at"] < now:
        raise StateProblem("expired")
    return _pending(row)


def _pending(row: dict) -> PendingLink:
    return PendingLink(
        team_id=row["team_id"],
        user_id=row["user_id"],
        kind=row["kind"],
        owner=row["owner"],
        channel_id=row["channel_id"] or "",
        retry_publish_id=row["retry_publish_id"] or "",
        retry_reason=row["retry_reason"] or "",
    )


@dataclass(frozen=True)
class Confirmation:
    """A consent waiting on the bot's confirm page: what it links, and the parked tokens."""

    pending: PendingLink
    open_id: str
    display_name: str
    pending_grant: str  # Fernet ciphertext of the exchanged tokens (JSON)


def park_for_confirm(
    db: Db,
    state: str,
    pending_grant: str,
    open_id: str,
    display_name: str,
    now: float | None = None,
) -> str:
    """Park the exchanged tokens on the (used) state's row; returns the confirm token."""
    now = now or time.time()
    token = secrets.token_urlsafe(32)
    db[TABLE].update(
        _hash(state),
        {
            "confirm_hash": _hash(token),
            "confirm_expires_at": now + CONFIRM_TTL_SECONDS,
            "confirmed_at": None,
            "pending_grant": pending_grant,
            "open_id": open_id,
            "display_name": display_name,
        },
    )
    return token


def take_confirmation(db: Db, state: str, token: str, now: float | None = None) -> Confirmation:
    """Use the confirm token once: returns what to link, or raises `StateProblem`.

    The update is conditional (not confirmed yet, same token hash), so two POSTs racing, on
    one replica or several, link once.
    """
    now = now or time.time()
    if not state or not token or len(state) > 200 or len(token) > 200:
        raise StateProblem("unknown")
    key = _hash(state)
    try:
        row = db[TABLE].get(key)
    except NotFoundError:
        raise StateProblem("unknown") from None
    if not row.get("confirm_hash") or not hmac.compare_digest(row["confirm_hash"], _hash(token)):
        raise StateProblem("unknown")
    if row["confirmed_at"]:
        raise StateProblem("used")
    if (row["confirm_expires_at"] or 0) < now:
        raise StateProblem("expired")
    if not row["pending_grant"]:
        raise StateProblem("used")
    taken = db.execute(
        f"UPDATE {TABLE} SET confirmed_at = ?, pending_grant = NULL "
        "WHERE state_hash = ? AND confirm_hash = ? AND confirmed_at IS NULL "
        "AND pending_grant IS NOT NULL",
        [now, key, row["confirm_hash"]],
    ).rowcount
    if taken != 1:
        raise StateProblem("used")
    return Confirmation(
        pending=_pending(row),
        open_id=row["open_id"] or "",
        display_name=row["display_name"] or "",
        pending_grant=row["pending_grant"],
    )


@dataclass(frozen=True)
class Parked:
    """Tokens parked on a confirm page that expired unconfirmed."""

    state_hash: str
    pending_grant: str  # Fernet ciphertext


def expired_parked(db: Db, now: float, limit: int = 50) -> list[Parked]:
    """Parked tokens whose confirm page expired before anyone confirmed or declined it."""
    rows = db.query(
        f"SELECT state_hash, pending_grant FROM {TABLE} WHERE pending_grant IS NOT NULL "
        "AND confirmed_at IS NULL AND confirm_expires_at < ? ORDER BY confirm_expires_at "
        "LIMIT ?",
        [now, limit],
    )
    return [Parked(r["state_hash"], r["pending_grant"]) for r in rows]


def drop_parked(db: Db, parked: Parked) -> bool:
    """Delete parked tokens if they are still the ones read (compare-and-write): True for the
    one caller, of several replicas, that dropped them and so revokes them."""
    return (
        db.execute(
            f"UPDATE {TABLE} SET pending_grant = NULL WHERE state_hash = ? AND pending_grant = ?",
            [parked.state_hash, parked.pending_grant],
        ).rowcount
        == 1
    )


def park_again(db: Db, parked: Parked) -> None:
    """Put dropped tokens back when TikTok could not be asked to revoke them, so the next
    prune tries again (never over a row that changed meanwhile)."""
    db.execute(
        f"UPDATE {TABLE} SET pending_grant = ? WHERE state_hash = ? AND pending_grant IS NULL "
        "AND confirmed_at IS NULL",
        [parked.pending_grant, parked.state_hash],
    )
