"""Holding a named piece of work across replicas: `async with held(store, name, seconds)`.

The database decides who holds it (`storage.leases`); whoever doesn't waits, asking again
every tenth of a second, and takes over once the holder gives it back or its time runs out
(the holder died). Within one process an asyncio lock queues the waiters first, so a single
process never polls the database for its own work.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator

from bot.keyed_locks import KeyedLocks
from storage import leases
from storage.db import Store

POLL_S = 0.1
# A holder is this process's random name and a count: unique across replicas and restarts,
# without asking the OS for randomness on the event loop for every cancel (`os.urandom`
# gives up the GIL, and the database thread takes it).
_PROCESS = uuid.uuid4().hex
_count = itertools.count()


def new_holder() -> str:
    """A holder name no other claim, in any process, ever has."""
    return f"{_PROCESS}-{next(_count)}"


@contextlib.asynccontextmanager
async def held(
    store: Store, locks: KeyedLocks, name: str, seconds: float = 30.0
) -> AsyncIterator[None]:
    """Hold `name` for the body (at most `seconds`; longer work must not rely on it)."""
    holder = new_holder()
    async with locks.hold(name):
        while not await store.run(leases.take, name, holder, seconds):
            await asyncio.sleep(POLL_S)
        try:
            yield
        finally:
            await store.run(leases.give_back, name, holder)
