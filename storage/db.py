"""The database: SQLite (a file, the default) or PostgreSQL (`DATABASE_URL`), opened and
migrated through SQLAlchemy, and work run off the event loop.

`await store.run(fn, *args)` calls `fn(db, *args)` on a worker thread inside one transaction
(`db` is a `storage.sql.Db`), committed when `fn` returns: short transactions, never on the
event loop. SQLite gets one thread (one writer, WAL) that commits the calls waiting at once
together (`storage.group_commit`); PostgreSQL runs them on the event loop itself, each
statement awaited on a kept asyncpg connection (`storage.pg_async`), and a function marked
`storage.sql.single_write` (reads, then at most one write) without BEGIN and COMMIT there.
`Store.call` (the CLI, from a thread) and the migrations use SQLAlchemy's synchronous engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url

from storage.group_commit import GroupCommitWorker, StoreClosed
from storage.migrations import migrate
from storage.pg_async import Pool
from storage.sql import Db

T = TypeVar("T")
POSTGRES_WORKERS = 4  # the synchronous engine's pool (CLI, migrations)

__all__ = ["Db", "Store", "database_url", "open_engine", "redacted"]


def database_url(url: str = "", path: str = "") -> str:
    """The SQLAlchemy URL: `DATABASE_URL` (libpq form, driven by psycopg) if set, else the
    SQLite file at `path`."""
    if url:
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    return "sqlite://" if path == ":memory:" else f"sqlite:///{path}"


def redacted(url: str) -> str:
    """The URL without its password, for logs and `check`."""
    return make_url(url).render_as_string(hide_password=True)


def _create_private(path: str) -> None:
    """Make the folder (0700) and an empty file (0600) when they don't exist yet; SQLite
    gives its -wal and -shm files the database file's mode. Existing ones are left as they are."""
    folder = Path(path).parent
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _sqlite_connected(dbapi_connection, _record) -> None:
    # The driver's own transaction handling leaves DDL outside transactions; take it over, so
    # a migration step and its version commit together, like every other unit of work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # IMMEDIATE: take the write lock at the start (waiting up to the busy timeout), so a
    # transaction that read never fails later when it writes.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create(url: str) -> Engine:
    """The engine for `url`, configured but not migrated (a SQLite file and its folder are
    created privately)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=POSTGRES_WORKERS, pool_pre_ping=True)
    path = parsed.database or ":memory:"
    if path != ":memory:":
        _create_private(path)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=1
    )
    event.listen(engine, "connect", _sqlite_connected)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def open_engine(url: str) -> Engine:
    """Connect, migrate, return the engine."""
    engine = create(url)
    parsed = make_url(url)
    migrate(engine, sqlite_path=parsed.database if parsed.get_backend_name() == "sqlite" else None)
    return engine


def _bound(fn: Callable[..., T], args: tuple, kwargs: dict) -> Callable[[Db], T]:
    """fn with its arguments after `db`."""
    if not args and not kwargs:
        return fn
    return lambda db: fn(db, *args, **kwargs)


class Store:
    """The database as the bot uses it: `await store.run(fn, ...)` runs fn(db, ...) off-loop."""

    def __init__(self, url: str):
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self._engine: Engine | None = None
        # SQLite: one thread keeps one connection (checking it out of the pool for every call
        # cost as much as the statements) and commits the calls waiting together (group
        # commit); PostgreSQL: a few worker threads, served by the pool.
        self._kept: Connection | None = None
        self._sqlite: GroupCommitWorker | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._pools: dict[asyncio.AbstractEventLoop, Pool] = {}  # PostgreSQL: one per loop
        if self.dialect == "sqlite":
            self._sqlite = GroupCommitWorker(self._connect_sqlite, self._disconnect_sqlite)
        else:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.url)
        return self._engine

    async def open(self) -> None:
        if self._sqlite is not None:
            await self.run(lambda db: None)
            return
        if self._engine is None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, lambda: self.engine)

    async def run(self, fn: Callable[..., T], *args, **kwargs) -> T:
        if self._sqlite is not None:
            return await self._sqlite.submit(_bound(fn, args, kwargs))
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            if self._executor is None:
                raise StoreClosed("the store is closed")
            await self.open()  # migrated before the first statement
            for old in [p for p in self._pools if p.is_closed()]:  # a loop that ended
                self._pools.pop(old).close()
            pool = self._pools.setdefault(loop, Pool(self.url))
        transaction = not getattr(fn, "single_write", False)
        return await pool.run(_bound(fn, args, kwargs), transaction=transaction)

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """fn(db, ...) in one transaction, from a thread that is not running the event loop
        (the CLI; PostgreSQL's workers)."""
        if self._sqlite is not None:
            return self._sqlite.call(_bound(fn, args, kwargs))
        with self.engine.begin() as conn:
            return fn(Db.over(conn), *args, **kwargs)

    def _connect_sqlite(self):
        """On the SQLite thread: its one connection, whose transactions it begins and ends
        directly on the driver (through SQLAlchemy's begin/commit the bookkeeping cost as much
        as the statements, measured by bench/load.py)."""
        self._kept = self.engine.connect()
        return self._kept.connection.dbapi_connection

    def _disconnect_sqlite(self) -> None:
        if self._kept is not None:
            self._kept.close()
            self._kept = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            return
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
