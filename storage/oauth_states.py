"""OAuth `state` values: random, single-use, bound to a Slack team and user, short-lived.

After TikTok's consent the callback does not link yet: it parks the exchanged tokens
(Fernet ciphertext) on the state's row with a second single-use secret, the confirm token,
shown only on the bot's confirm page. Only a POST carrying both the state and that token,
before it expires, links (`take_confirmation`, a conditional update: it works once).

Only SHA-256 hashes of the state and the confirm token are stored, so the database never
holds a usable one; parked tokens are dropped once used or declined, and once their page
expired unconfirmed by a periodic prune (`expired_parked`, `drop_parked`: see
`bot.accounts.parked_prune`), which also revokes them at TikTok. The confirm page's expiry is
set and checked by the database's clock.

With many workspaces the confirm page first asks the browser to Sign in with Slack: the
sign-in's own single-use state is stored as its SHA-256 in `signin_hash` (`begin_sign_in`),
marked used (`used:` before the hash) by the one request that takes it (`take_sign_in`), and
`signed_in_at` is set, with a fresh confirm token, only when Slack said the signed-in person is
the link's own (`mark_signed_in`). `take_confirmation` then links only a signed-in page, in
the same conditional update that takes the confirmation. Every step is one compare-and-write
timed by the database's clock, so replicas agree.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from storage.sql import Db

TABLE = "oauth_states"
STATE_TTL_SECONDS = 600
CONFIRM_TTL_SECONDS = 600
MAX_SECRET_CHARS = 200  # ours are 43; anything longer is not one we made
USED = "used:"  # before a sign-in state's hash in `signin_hash` once that state was used
# A confirm page still waiting: nobody confirmed or declined it, its tokens are parked, and it
# has not expired by the database's clock.
WAITING = "confirmed_at IS NULL AND pending_grant IS NOT NULL AND confirm_expires_at >= {now}"


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
    """Why a state was refused: "unknown", "used", "expired", or (many workspaces: a confirm
    before Slack said who is signed in) "not_signed_in"."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", errors="replace")).hexdigest()


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
) -> str:
    """Park the exchanged tokens on the (used) state's row; returns the confirm token. The
    page works for CONFIRM_TTL_SECONDS of the database's clock."""
    token = secrets.token_urlsafe(32)
    db.execute(
        f"UPDATE {TABLE} SET confirm_hash = ?, confirm_expires_at = {db.now} + ?, "
        "confirmed_at = NULL, pending_grant = ?, open_id = ?, display_name = ?, "
        "signin_hash = NULL, signed_in_at = NULL WHERE state_hash = ?",
        [
            _hash(token),
            float(CONFIRM_TTL_SECONDS),
            pending_grant,
            open_id,
            display_name,
            _hash(state),
        ],
    )
    return token


def _confirm_row(db: Db, state: str) -> dict | None:
    """The row a confirm form names: by TikTok's state (the callback's page), or by the
    Sign in with Slack state it came back with (the page after the sign-in)."""
    key = _hash(state)
    row = db.one(f"SELECT *, {db.now} AS db_now FROM {TABLE} WHERE state_hash = ?", [key])
    if row is None:
        row = db.one(
            f"SELECT *, {db.now} AS db_now FROM {TABLE} WHERE signin_hash = ?", [USED + key]
        )
    return row


def take_confirmation(db: Db, state: str, token: str, *, signed_in: bool = False) -> Confirmation:
    """Use the confirm token once: returns what to link, or raises `StateProblem`.

    The update is conditional (not confirmed yet, same token hash, not expired by the
    database's clock, and with `signed_in` Slack said the link's person signed in), so two
    POSTs racing, on one replica or several, link once, and never an unsigned page.
    """
    if not state or not token or len(state) > MAX_SECRET_CHARS or len(token) > MAX_SECRET_CHARS:
        raise StateProblem("unknown")
    row = _confirm_row(db, state)
    if row is None:
        raise StateProblem("unknown")
    if not row.get("confirm_hash") or not hmac.compare_digest(row["confirm_hash"], _hash(token)):
        raise StateProblem("unknown")
    if row["confirmed_at"]:
        raise StateProblem("used")
    if (row["confirm_expires_at"] or 0) < row["db_now"]:
        raise StateProblem("expired")
    if not row["pending_grant"]:
        raise StateProblem("used")
    if signed_in and row["signed_in_at"] is None:
        raise StateProblem("not_signed_in")
    needs_sign_in = " AND signed_in_at IS NOT NULL" if signed_in else ""
    taken = db.execute(
        f"UPDATE {TABLE} SET confirmed_at = {db.now}, pending_grant = NULL "
        "WHERE state_hash = ? AND confirm_hash = ? AND "
        + WAITING.format(now=db.now)
        + needs_sign_in,
        [row["state_hash"], row["confirm_hash"]],
    ).rowcount
    if taken != 1:
        raise StateProblem("used")
    return Confirmation(
        pending=_pending(row),
        open_id=row["open_id"] or "",
        display_name=row["display_name"] or "",
        pending_grant=row["pending_grant"],
    )


# --- Sign in with Slack (many workspaces) ---------------------------------------------------


@dataclass(frozen=True)
class SignInWait:
    """A confirm page waiting for its Sign in with Slack: whose link, which TikTok account,
    and how many seconds the page has left by the database's clock."""

    state_hash: str
    pending: PendingLink
    open_id: str
    display_name: str
    seconds_left: float


def begin_sign_in(db: Db, state: str, signin_state: str) -> float | None:
    """The confirm page of TikTok's `state` (just parked) waits for a Sign in with Slack
    carrying `signin_state`: the seconds it has left, or None if it no longer waits."""
    row = db.one(
        f"UPDATE {TABLE} SET signin_hash = ? WHERE state_hash = ? AND signed_in_at IS NULL AND "
        + WAITING.format(now=db.now)
        + f" RETURNING confirm_expires_at - {db.now} AS seconds_left",
        [_hash(signin_state), _hash(state)],
    )
    return None if row is None else float(row["seconds_left"])


def take_sign_in(db: Db, signin_state: str) -> SignInWait:
    """Use a sign-in state once (Slack sent the browser back with it): the page it is for,
    or `StateProblem` ("unknown", "used", "expired"). One conditional update: of two requests
    racing with the same state, exactly one takes it."""
    if not signin_state or len(signin_state) > MAX_SECRET_CHARS:
        raise StateProblem("unknown")
    key = _hash(signin_state)
    row = db.one(
        f"UPDATE {TABLE} SET signin_hash = ? WHERE signin_hash = ? AND signed_in_at IS NULL AND "
        + WAITING.format(now=db.now)
        + f" RETURNING *, confirm_expires_at - {db.now} AS seconds_left",
        [USED + key, key],
    )
    if row is not None:
        return SignInWait(
            state_hash=row["state_hash"],
            pending=_pending(row),
            open_id=row["open_id"] or "",
            display_name=row["display_name"] or "",
            seconds_left=float(row["seconds_left"]),
        )
    found = db.one(
        f"SELECT signin_hash, signed_in_at, confirmed_at, confirm_expires_at, {db.now} AS db_now "
        f"FROM {TABLE} WHERE signin_hash = ? OR signin_hash = ?",
        [key, USED + key],
    )
    if found is None:
        raise StateProblem("unknown")
    if found["signin_hash"] != key or found["signed_in_at"] or found["confirmed_at"]:
        raise StateProblem("used")
    if (found["confirm_expires_at"] or 0) < found["db_now"]:
        raise StateProblem("expired")
    raise StateProblem("used")  # declined meanwhile


def again_sign_in(db: Db, state_hash: str, used_state: str, signin_state: str) -> float | None:
    """After a sign-in Slack did not complete (refused, failed, too slow), the same page waits
    for a new one, `signin_state`, in place of the used `used_state` (compare-and-write: once).
    The seconds it has left, or None if it no longer waits."""
    row = db.one(
        f"UPDATE {TABLE} SET signin_hash = ? WHERE state_hash = ? AND signin_hash = ? AND "
        "signed_in_at IS NULL AND "
        + WAITING.format(now=db.now)
        + f" RETURNING confirm_expires_at - {db.now} AS seconds_left",
        [_hash(signin_state), state_hash, USED + _hash(used_state)],
    )
    return None if row is None else float(row["seconds_left"])


def mark_signed_in(db: Db, state_hash: str, used_state: str) -> tuple[str, float] | None:
    """Slack said the person signed in with `used_state` is the link's own: remember when (the
    database's clock) and give the page a fresh confirm token. (token, seconds left), or None
    if the page no longer waits (expired, declined meanwhile)."""
    token = secrets.token_urlsafe(32)
    row = db.one(
        f"UPDATE {TABLE} SET signed_in_at = {db.now}, confirm_hash = ? "
        "WHERE state_hash = ? AND signin_hash = ? AND signed_in_at IS NULL AND "
        + WAITING.format(now=db.now)
        + f" RETURNING confirm_expires_at - {db.now} AS seconds_left",
        [_hash(token), state_hash, USED + _hash(used_state)],
    )
    return None if row is None else (token, float(row["seconds_left"]))


@dataclass(frozen=True)
class Parked:
    """Tokens parked on a confirm page that expired unconfirmed."""

    state_hash: str
    pending_grant: str  # Fernet ciphertext


def expired_parked(db: Db, now: float | None = None, limit: int = 50) -> list[Parked]:
    """Parked tokens whose confirm page expired (by the database's clock, or as of `now`)
    before anyone confirmed or declined it."""
    rows = db.query(
        f"SELECT state_hash, pending_grant FROM {TABLE} WHERE pending_grant IS NOT NULL "
        "AND confirmed_at IS NULL AND confirm_expires_at < "
        + ("?" if now is not None else db.now)
        + " ORDER BY confirm_expires_at LIMIT ?",
        [now, limit] if now is not None else [limit],
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
