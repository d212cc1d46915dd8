"""Claiming a named piece of work across replicas: every kind of lease, and one way to hold one.

`KINDS` is the registry: each kind of lease the bot takes, its name prefix in the `leases`
table, how long a holder keeps it by default, and what it guards. A `Lease` is one lease of a
kind (`Lease.cancel(team, publish_id)`, `Lease.refresh(link_key)`, …), carrying its name, its
duration and its holder (a name no other claim in any process has). Its `take`, `give_back` and
`current` are the statements of `storage.leases` (the SQL, timed by the database's clock) for
one trip to the database, so a lease can be taken in the same transaction as what it guards
(the cancel's "started" row) and given back in the one that records the outcome.

Everywhere else a lease is held with `holding`:

    async with holding(store, Lease.announcement(publish_id), locks):
        ...  # this replica, and this one task in it, changes the announcement

waits for its turn (queued first on `locks`, a `KeyedLocks`, so one process never polls the
database for its own work; then asking the database every tenth of a second until the holder
gives it back or its time runs out because the holder died) and gives it back afterwards.
With `wait=False` it asks once and yields whether it got it: the one that did does the work,
the others `wait_out` the lease and use what it stored (a token refresh).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot import metrics
from bot.keyed_locks import KeyedLocks
from storage import leases
from storage.db import Store
from storage.sql import Db

POLL_S = 0.1  # how often a waiting `holding` asks the database again
WAIT_OUT_POLL_S = 0.2  # how often `wait_out` looks whether the holder is done
# A holder is this process's random name and a count: unique across replicas and restarts,
# without asking the OS for randomness on the event loop for every cancel (`os.urandom`
# gives up the GIL, and the database thread takes it).
_PROCESS = uuid.uuid4().hex
_count = itertools.count()


def new_holder() -> str:
    """A holder name no other claim, in any process, ever has."""
    return f"{_PROCESS}-{next(_count)}"


@dataclass(frozen=True)
class Kind:
    """A kind of lease: its names start with `prefix` and a colon; a holder keeps one for
    `seconds` unless it gives it back first (or the caller asks for another duration)."""

    prefix: str
    seconds: float
    guards: str
    slots: int = 1  # more than one: a shared rate limit of `slots` takes per `seconds`

    def name(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))


CANCEL = Kind(
    "cancel",
    12.0 + 5.0,  # the default cancel deadline and 5 s; CancelService passes its own deadline + 5
    "one TikTok cancel per upload in flight (team, publish_id); a second request is told who "
    "holds it, and the claim is given back with the outcome's record",
)
REFRESH = Kind(
    "refresh",
    20.0,  # TikTok's timeout and the grace after a refusal fit well inside
    "one token refresh per link (team, kind, owner): TikTok rotates refresh tokens, so two at "
    "once would leave one invalid; the others wait it out and use what it stored",
)
ANNOUNCE = Kind(
    "announce",
    30.0,
    "one announcement posted per upload (team, publish_id), however many notifications arrive",
)
ANNOUNCEMENT = Kind(
    "announcement",
    30.0,
    "one change at a time to an upload's announcement (team, publish_id): a cancel's thread reply, "
    "a new status, polling giving up",
)
POLL_RATE = Kind(
    "poll-rate",
    60.0,
    "TikTok's per-link limit on status fetches (link key), counted across replicas: each "
    "fetch takes one of the slots for a minute",
    slots=20,
)

SLACK_TOKEN = Kind(
    "slack-token",
    20.0,  # one oauth.v2.access (slack_sdk's timeout and its retries) fits well inside
    "one bot token rotation per workspace (team), many workspaces with Slack's token rotation "
    "on: a refresh token is spent once, so two at once would leave the workspace without a "
    "token; the others wait, then use what it stored",
)

KINDS: dict[str, Kind] = {
    k.prefix: k for k in (CANCEL, REFRESH, ANNOUNCE, ANNOUNCEMENT, POLL_RATE, SLACK_TOKEN)
}
metrics.lease_waits.prebind(*((prefix,) for prefix in KINDS))


@dataclass(frozen=True)
class Lease:
    """One lease: its kind, its name in the database, how long it lasts, and who takes it."""

    kind: Kind
    name: str
    seconds: float
    holder: str = field(default_factory=new_holder)

    @classmethod
    def of(cls, kind: Kind, *parts: str, seconds: float | None = None) -> Lease:
        return cls(kind, kind.name(*parts), kind.seconds if seconds is None else seconds)

    @classmethod
    def cancel(cls, team_id: str, publish_id: str, seconds: float | None = None) -> Lease:
        return cls.of(CANCEL, team_id, publish_id, seconds=seconds)

    @classmethod
    def refresh(cls, link_key: tuple[str, str, str]) -> Lease:
        return cls.of(REFRESH, *link_key)

    @classmethod
    def announce(cls, team_id: str, publish_id: str) -> Lease:
        return cls.of(ANNOUNCE, team_id, publish_id)

    @classmethod
    def announcement(cls, team_id: str, publish_id: str) -> Lease:
        return cls.of(ANNOUNCEMENT, team_id, publish_id)

    @classmethod
    def poll_rate(cls, link_key: str) -> Lease:
        return cls.of(POLL_RATE, link_key)

    @classmethod
    def slack_token(cls, team_id: str) -> Lease:
        return cls.of(SLACK_TOKEN, team_id)

    # One statement each, for `store.run` or inside a transaction that does more.

    def take(self, db: Db, detail: str = "") -> bool:
        """Take it if it is free or its holder's time ran out; True if we hold it now."""
        if self.kind.slots > 1:
            return leases.take_slot(db, self.name + ":", self.kind.slots, self.holder, self.seconds)
        return leases.take(db, self.name, self.holder, self.seconds, detail=detail)

    def give_back(self, db: Db) -> None:
        """Give it back if we still hold it (never someone else's later lease)."""
        leases.give_back(db, self.name, self.holder)

    def current(self, db: Db) -> leases.Holder | None:
        """Who holds it while it runs (any holder), or None."""
        return leases.holder(db, self.name)


@contextlib.asynccontextmanager
async def holding(
    store: Store, lease: Lease, locks: KeyedLocks | None = None, *, wait: bool = True
) -> AsyncIterator[bool]:
    """Hold `lease` for the body (at most `lease.seconds`; longer work must not rely on it),
    then give it back. Yields True when held. `wait=False` asks once: False means another
    holder has it, and the body runs without it (nothing is given back)."""
    async with locks.hold(lease.name) if locks is not None else contextlib.nullcontext():
        mine = await store.run(lease.take)
        if wait and not mine:  # another holder has it: wait our turn (what /metrics times)
            started = time.monotonic()
            while not mine:
                await asyncio.sleep(POLL_S)
                mine = await store.run(lease.take)
            metrics.lease_wait(lease.kind.prefix, time.monotonic() - started)
        try:
            yield mine
        finally:
            if mine:
                await store.run(lease.give_back)


async def wait_out(store: Store, lease: Lease) -> None:
    """Until nobody holds `lease` (its holder gave it back), at most one lease's time."""
    started = time.monotonic()
    deadline = started + lease.seconds
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(WAIT_OUT_POLL_S)
            if await store.run(lease.current) is None:
                return
    finally:
        metrics.lease_wait(lease.kind.prefix, time.monotonic() - started)
