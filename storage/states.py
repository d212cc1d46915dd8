"""OAuth `state` values: random, single-use, bound to a Slack team and user, short-lived.

Only a SHA-256 of each state is stored, so the database never holds a usable state.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError

TABLE = "oauth_states"
STATE_TTL_SECONDS = 600


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


def create_state(db: Database, pending: PendingLink, now: float | None = None) -> str:
    now = now or time.time()
    state = secrets.token_urlsafe(32)
    with db.atomic():
        db[TABLE].delete_where("expires_at < ?", [now - 86400])
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


def consume_state(db: Database, state: str, now: float | None = None) -> PendingLink:
    """Mark the state used and return what it was for, or raise `StateProblem`."""
    now = now or time.time()
    if not state or len(state) > 200:
        raise StateProblem("unknown")
    key = _hash(state)
    with db.atomic():
        try:
            row = db[TABLE].get(key)
        except NotFoundError:
            raise StateProblem("unknown") from None
        if row["used_at"]:
            raise StateProblem("used")
        db[TABLE].update(key, {"used_at": now})
    if row["expires_at"] < now:
        raise StateProblem("expired")
    return PendingLink(
        team_id=row["team_id"],
        user_id=row["user_id"],
        kind=row["kind"],
        owner=row["owner"],
        channel_id=row["channel_id"] or "",
        retry_publish_id=row["retry_publish_id"] or "",
        retry_reason=row["retry_reason"] or "",
    )
