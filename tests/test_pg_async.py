"""PostgreSQL on the event loop (storage/pg_async.py): how `Store.run` reads DATABASE_URL for
asyncpg, and what a transaction does when its function raises, when a value needs PostgreSQL's
conversion, when the server closed the kept connections, and when a caller gives up while
waiting for a connection; and `single_write` calls, sent without a transaction of their own."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from storage.db import Store, database_url
from storage.pg_async import Pool, connect_arguments, numbered
from storage.sql import SingleWriteBroken, single_write
from tests.pg import pg_rows

APP = f"pg-async-test-{uuid.uuid4().hex[:12]}"  # this process's: the test kills its backends


def test_placeholders_are_numbered_in_order():
    assert numbered("SELECT ? WHERE a = ? AND b IN (?, ?)") == (
        "SELECT $1 WHERE a = $2 AND b IN ($3, $4)"
    )


def test_the_url_is_read_by_libpq_rules_with_options_and_application_name_as_settings():
    url = database_url(
        "postgresql://bot:p%40ss%3Aw@db.internal:6543/tiktok"
        "?options=-csearch_path%3Dbench_1%20-c%20statement_timeout%3D5000"
        "&application_name=bench_1&sslmode=require&connect_timeout=4"
    )
    assert connect_arguments(url) == {
        "host": "db.internal",
        "port": 6543,
        "user": "bot",
        "password": "p@ss:w",
        "database": "tiktok",
        "ssl": "require",
        "timeout": 4.0,
        "server_settings": {
            "search_path": "bench_1",
            "statement_timeout": "5000",
            "application_name": "bench_1",
        },
    }


def test_a_unix_socket_url_keeps_its_folder_as_host():
    url = database_url("postgresql://bot@/tiktok?host=/run/postgresql")
    assert connect_arguments(url) == {
        "host": "/run/postgresql",
        "user": "bot",
        "database": "tiktok",
        "timeout": 10.0,
        "server_settings": {},
    }


@pytest.fixture
async def store(postgres_url):
    s = Store(database_url(postgres_url + "&application_name=" + APP))
    await s.open()
    yield s
    s.close()


def _lease(db, name, holder):
    db.execute(
        "INSERT INTO leases (name, holder, detail, expires_at) VALUES (?, ?, ?, ?)",
        [name, holder, "", 1.0],
    )


async def test_a_number_for_a_text_column_is_stored_as_its_text(store, postgres_url):
    await store.run(_lease, 12345, 7)
    assert pg_rows(postgres_url, "SELECT name, holder FROM leases") == [
        {"name": "12345", "holder": "7"}
    ]


async def test_a_function_that_raises_leaves_nothing_and_the_store_goes_on(store, postgres_url):
    def half_then_fail(db):
        _lease(db, "first", "h")
        raise ValueError("after the first write")

    with pytest.raises(ValueError, match="after the first write"):
        await store.run(half_then_fail)
    assert pg_rows(postgres_url, "SELECT name FROM leases") == []
    await store.run(_lease, "second", "h")
    assert pg_rows(postgres_url, "SELECT name FROM leases") == [{"name": "second"}]


async def test_a_statement_postgres_refuses_rolls_back_the_whole_call(store, postgres_url):
    def duplicate(db):
        _lease(db, "same", "h")
        _lease(db, "same", "h")  # the primary key again

    with pytest.raises(Exception, match="duplicate key"):
        await store.run(duplicate)
    assert pg_rows(postgres_url, "SELECT name FROM leases") == []
    assert await store.run(lambda db: db.execute("SELECT 1").scalar()) == 1


async def test_connections_the_server_closed_are_replaced_without_failing_a_call(
    store, postgres_url
):
    async def several_at_once():
        return await asyncio.gather(
            *(store.run(lambda db: db.execute("SELECT pg_backend_pid()").scalar()) for _ in "abc")
        )

    before = set(await several_at_once())
    killed = pg_rows(
        postgres_url,
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity "
        "WHERE application_name = :app AND pid <> pg_backend_pid()",
        app=APP,
    )
    assert len(killed) >= len(before) >= 1
    after = set(await several_at_once())  # every kept connection was dead: none of them fails
    assert after and not after & before
    await store.run(_lease, "after the restart", "h")
    assert pg_rows(postgres_url, "SELECT name FROM leases") == [{"name": "after the restart"}]


async def test_a_caller_that_gives_up_waiting_for_a_connection_takes_none_away(postgres_url):
    pool = Pool(database_url(postgres_url), size=1)
    held = asyncio.Event()
    release = asyncio.get_running_loop().create_future()

    async def holder():
        # the one connection is held by a transaction waiting on the test
        connection = await pool._begun()
        held.set()
        await release
        await connection.raw.execute("COMMIT")
        pool._give_back(connection)
        return await pool.run(lambda db: db.execute("SELECT 2").scalar())

    first = asyncio.create_task(holder())
    await held.wait()
    waiting = asyncio.create_task(pool.run(lambda db: db.execute("SELECT 3").scalar()))
    given_up = asyncio.create_task(pool.run(lambda db: db.execute("SELECT 4").scalar()))
    await asyncio.sleep(0)  # both queue for the one connection
    given_up.cancel()
    release.set_result(None)
    assert await waiting == 3
    assert await first == 2
    assert given_up.cancelled()
    assert await pool.run(lambda db: db.execute("SELECT 5").scalar()) == 5
    pool.close()


# --- single_write: no transaction of its own --------------------------------------------------


@single_write
def _two_reads_then_a_write(db, name):
    first = db.execute("SELECT txid_current()").scalar()
    second = db.execute("SELECT txid_current()").scalar()
    _lease(db, name, "h")
    return first, second


def _two_reads_in_a_transaction(db):
    return db.execute("SELECT txid_current()").scalar(), db.execute(
        "SELECT txid_current()"
    ).scalar()


async def test_a_single_write_call_sends_no_begin_each_statement_is_its_own_transaction(
    store, postgres_url
):
    first, second = await store.run(_two_reads_then_a_write, "single")
    assert first != second  # each statement committed by itself
    same = await store.run(_two_reads_in_a_transaction)
    assert same[0] == same[1]  # an ordinary call is one transaction
    assert pg_rows(postgres_url, "SELECT name FROM leases") == [{"name": "single"}]


async def test_a_statement_after_the_single_write_is_refused_before_it_is_sent(store, postgres_url):
    @single_write
    def write_twice(db):
        _lease(db, "first", "h")
        _lease(db, "second", "h")

    with pytest.raises(SingleWriteBroken):
        await store.run(write_twice)
    # the one write committed by itself (there is no transaction to undo it); nothing after
    assert pg_rows(postgres_url, "SELECT name FROM leases") == [{"name": "first"}]
    assert await store.run(lambda db: db.execute("SELECT 1").scalar()) == 1


async def test_a_single_write_call_on_connections_the_server_closed_does_not_fail(
    store, postgres_url
):
    pids = await asyncio.gather(
        *(store.run(lambda db: db.execute("SELECT pg_backend_pid()").scalar()) for _ in "abc")
    )
    killed = pg_rows(
        postgres_url,
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity "
        "WHERE application_name = :app AND pid <> pg_backend_pid()",
        app=APP,
    )
    assert len(killed) >= len(set(pids)) >= 1
    results = await asyncio.gather(
        *(store.run(_two_reads_then_a_write, f"after {n}") for n in "abc")
    )
    assert len(results) == 3
    names = {r["name"] for r in pg_rows(postgres_url, "SELECT name FROM leases")}
    assert names == {"after a", "after b", "after c"}
