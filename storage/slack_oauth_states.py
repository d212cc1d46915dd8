"""The Add to Slack flow's `state` values (many workspaces): random, single use, 10 minutes.

Only the state's SHA-256 is stored, with when it expires by the database's clock, so any
replica can finish an install another one began, and the database never holds a usable state.
`consume` is one compare-and-delete: of two callbacks racing with the same state (a double
click, two replicas), exactly one deletes the row and goes on; an expired state is refused
(and swept) whatever the replica's own clock says.
"""

from __future__ import annotations

import hashlib
import secrets

from storage.sql import Db

TABLE = "slack_oauth_states"
TTL_SECONDS = 600
MAX_STATE_CHARS = 200  # ours are 43; anything longer is not one we made


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", errors="replace")).hexdigest()


def issue(db: Db, ttl_s: float = TTL_SECONDS) -> str:
    """A new state, good for `ttl_s` seconds of the database's clock (expired ones swept)."""
    db.execute(f"DELETE FROM {TABLE} WHERE expires_at < {db.now}")
    state = secrets.token_urlsafe(32)
    db.execute(
        f"INSERT INTO {TABLE} (state_hash, expires_at) VALUES (?, {db.now} + ?)",
        [_hash(state), float(ttl_s)],
    )
    return state


def consume(db: Db, state: str) -> bool:
    """Use `state` once: True if it was issued here, unused and not expired."""
    if not state or len(state) > MAX_STATE_CHARS:
        return False
    key = _hash(state)
    taken = db.execute(
        f"DELETE FROM {TABLE} WHERE state_hash = ? AND expires_at >= {db.now}", [key]
    ).rowcount
    if taken == 1:
        return True
    db.execute(f"DELETE FROM {TABLE} WHERE state_hash = ?", [key])  # expired: gone too
    return False
