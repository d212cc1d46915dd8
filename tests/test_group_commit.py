"""SQLite's group commit (storage/group_commit.py): calls made at once share one transaction,
yet each caller hears back only after the COMMIT, and a call that fails undoes only its own
writes. Checked on a real SQLite file, read back through a second connection."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from storage import leases
from storage.db import Store, database_url
from storage.group_commit import StoreClosed


class Refused(Exception):
    pass


@pytest.fixture
async def store(tmp_path):
    s = Store(database_url(path=str(tmp_path / "bot.sqlite3")))
    await s.open()
    yield s
    s.close()


@pytest.fixture
def reader(tmp_path):
    """Another connection to the same file: it sees only what was committed."""
    conn = sqlite3.connect(str(tmp_path / "bot.sqlite3"))
    yield conn
    conn.close()


def names(reader) -> list[str]:
    return [r[0] for r in reader.execute("SELECT name FROM leases ORDER BY name")]


def take_then_refuse(db, name: str) -> None:
    leases.take(db, name, "h", 60)
    raise Refused(name)


def seen_in_transaction(db, name: str) -> bool:
    return leases.holder(db, name) is not None


async def test_each_caller_hears_back_only_after_its_write_is_committed(store, reader):
    async def take_and_look(i: int) -> tuple | None:
        await store.run(leases.take, f"lease-{i:02d}", "h", 60)
        # Read at once, through the other connection: uncommitted rows would not be there.
        return reader.execute(
            "SELECT name FROM leases WHERE name = ?", (f"lease-{i:02d}",)
        ).fetchone()

    seen = await asyncio.gather(*(take_and_look(i) for i in range(30)))
    assert seen == [(f"lease-{i:02d}",) for i in range(30)]


async def test_a_call_that_fails_undoes_only_its_own_writes_and_raises_to_its_caller(store, reader):
    results = await asyncio.gather(
        store.run(leases.take, "first", "h", 60),
        store.run(take_then_refuse, "refused"),
        store.run(leases.take, "third", "h", 60),
        store.run(seen_in_transaction, "first"),  # the same transaction sees "first"
        return_exceptions=True,
    )
    assert results[0] is True
    assert isinstance(results[1], Refused) and str(results[1]) == "refused"
    assert results[2] is True
    assert results[3] is True
    assert names(reader) == ["first", "third"]


async def test_a_call_alone_that_fails_writes_nothing(store, reader):
    with pytest.raises(Refused):
        await store.run(take_then_refuse, "alone")
    assert await store.run(leases.take, "after", "h", 60) is True
    assert names(reader) == ["after"]


async def test_calls_from_another_thread_queue_with_the_event_loop_s(store, reader):
    def from_a_thread() -> list[bool]:
        return [store.call(leases.take, f"thread-{i}", "h", 60) for i in range(5)]

    from_loop = [store.run(leases.take, f"loop-{i}", "h", 60) for i in range(5)]
    thread_results, *loop_results = await asyncio.gather(
        asyncio.to_thread(from_a_thread), *from_loop
    )
    assert thread_results == [True] * 5 and loop_results == [True] * 5
    assert names(reader) == [f"loop-{i}" for i in range(5)] + [f"thread-{i}" for i in range(5)]


async def test_a_closed_store_takes_no_more_work_and_its_thread_ends(tmp_path, reader):
    s = Store(database_url(path=str(tmp_path / "bot.sqlite3")))
    await s.run(leases.take, "before", "h", 60)
    s.close()
    with pytest.raises(StoreClosed):
        await s.run(leases.take, "after", "h", 60)
    with pytest.raises(StoreClosed):
        s.call(leases.take, "after", "h", 60)
    assert [t for t in threading.enumerate() if t.name == "db"] == []
    assert names(reader) == ["before"]
