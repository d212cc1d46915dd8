"""Leases: who holds a named piece of work until when, decided by the database.

One cancel per upload in flight, one token refresh per link, one status poll per upload, one
change to an announcement at a time: whichever replica takes the lease does the work. Taking
is one conditional statement (insert, or take over a lease whose time ran out because its
holder died), so two replicas can never both win. A holder gives the lease back when done.
A set of leases kept until they run out (`take_slot`) is a rate limit all replicas share:
TikTok's per-link limit on status fetches. The kinds of lease, their names and durations are
registered in `bot.claims`, which takes and gives them back through these statements.

Every time here is the database's clock (`db.now`), read in the statement that takes,
renews or checks a lease: a replica whose clock runs ahead can't see a live lease as run out,
and one whose clock runs behind can't keep a dead holder's lease alive.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.sql import Db

TABLE = "leases"


@dataclass(frozen=True)
class Holder:
    """Who holds the lease `name` (and what they said about it) until when."""

    name: str
    holder: str
    detail: str
    expires_at: float


def take_statement(db: Db, unless: str = "") -> str:
    """The statement that takes a lease: parameters name, holder, detail, seconds (then those
    of `unless`); one row changed if it was taken (for a statement that takes one with more,
    `storage.cancels`). `unless`, a condition: when it holds, nothing is taken, judged in the
    same statement as the take (the work the lease would guard has become needless)."""
    row = f"?, ?, ?, {db.now} + ?"
    source = f"VALUES ({row})" if not unless else f"SELECT {row} WHERE NOT ({unless})"
    return (
        f"INSERT INTO {TABLE} (name, holder, detail, expires_at) {source} "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, detail = excluded.detail, "
        f"expires_at = excluded.expires_at WHERE {TABLE}.expires_at < {db.now}"
    )


def take(
    db: Db,
    name: str,
    holder: str,
    seconds: float,
    detail: str = "",
    unless: tuple[str, list] = ("", []),
) -> bool:
    """Take `name` for `seconds` if it is free or expired (and the condition `unless`, SQL
    and its parameters, does not hold); True if `holder` has it now."""
    condition, condition_params = unless
    params = [name, holder, detail, float(seconds), *condition_params]
    return db.execute(take_statement(db, condition), params).rowcount == 1


def take_slot(db: Db, prefix: str, slots: int, holder_id: str, seconds: float) -> bool:
    """Take one of `slots` leases named `<prefix><n>` for `seconds`: a limit of `slots` uses
    per `seconds` (a sliding window) that every replica counts against. False when all are
    taken."""
    names = [f"{prefix}{n}" for n in range(slots)]
    marks = ", ".join("?" for _ in names)
    busy = {
        row["name"]
        for row in db.query(
            f"SELECT name FROM {TABLE} WHERE name IN ({marks}) AND expires_at >= {db.now}",
            names,
        )
    }
    return any(take(db, name, holder_id, seconds) for name in names if name not in busy)


def holder(db: Db, name: str) -> Holder | None:
    """The lease on `name` while it runs, or None."""
    row = db.one(f"SELECT * FROM {TABLE} WHERE name = ? AND expires_at >= {db.now}", [name])
    if row is None:
        return None
    return Holder(row["name"], row["holder"], row["detail"] or "", row["expires_at"])


GIVE_BACK = f"DELETE FROM {TABLE} WHERE name = ? AND holder = ?"


def give_back(db: Db, name: str, holder_id: str) -> None:
    """Release `name` if `holder_id` still holds it (never someone else's later lease)."""
    db.execute(GIVE_BACK, [name, holder_id])


def prune(db: Db, older_than_s: float = 3600.0) -> int:
    """Forget leases that ran out long ago."""
    return db.execute(
        f"DELETE FROM {TABLE} WHERE expires_at < {db.now} - ?", [float(older_than_s)]
    ).rowcount


def clear(db: Db) -> int:
    """Drop every lease: for a SQLite file at start-up, when this process is the only one."""
    return db.execute(f"DELETE FROM {TABLE}").rowcount
