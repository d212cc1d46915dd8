"""PostgreSQL on the event loop: `Store.run` without threads.

Each `Store.run(fn)` on PostgreSQL takes one of the connections this module keeps open
(asyncpg, on the running loop), begins a transaction and calls `fn(db)` inside a greenlet
(SQLAlchemy's `greenlet_spawn`): the storage functions stay plain functions, and each of their
statements waits for PostgreSQL on the loop (`await_only`) instead of blocking a thread. The
transaction commits when `fn` returns and rolls back when it raises, as on the thread path.

Why: on threads, every statement woke a worker thread that then fought the event loop for the
GIL, and every call checked a connection out of SQLAlchemy's pool (pinging it first) and went
through its begin/commit. bench/load.py measured the bot at about 2.8 ms of CPU per command on
PostgreSQL against 1.2 on SQLite; see bench/README.md for the figures after this change.

Statements are written once with `?` placeholders (storage/sql.py); here they become `$1…`,
are prepared once per connection and kept. asyncpg checks each parameter against the type
PostgreSQL expects; where the bot hands a number to a text column (psycopg let PostgreSQL
convert it), the value is sent as its text, once asyncpg has refused it, before anything is
sent. The CLI and migrations keep the synchronous engine (`Store.call`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import make_url
from sqlalchemy.util import await_only, greenlet_spawn

from storage.group_commit import StoreClosed
from storage.sql import Db, Rows, SingleWriteBroken

T = TypeVar("T")
CONNECTIONS = 8  # open connections per process, taken one per transaction
STATEMENTS_KEPT = 512  # prepared statements kept per connection
CONNECT_TIMEOUT_S = 10.0
_QMARK = re.compile(r"\?")
_OPTION = re.compile(r"-c\s*([\w.]+)=(\S+)")


@lru_cache(maxsize=4096)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, …`."""
    counter = iter(range(1, 10_000))
    return _QMARK.sub(lambda _m: f"${next(counter)}", sql)


def connect_arguments(url: str) -> dict[str, Any]:
    """asyncpg's arguments for a SQLAlchemy PostgreSQL URL (DATABASE_URL, which
    bot/database_url.py has already checked reads the same to libpq): host (a Unix socket's
    folder with `?host=`), port, user, password, database, sslmode, connect_timeout, and
    `options=-c name=value` and `application_name` as server settings."""
    parsed = make_url(url)
    info = {
        "host": parsed.host or "",
        "port": str(parsed.port or ""),
        "user": parsed.username or "",
        "password": parsed.password or "",
        "dbname": parsed.database or "",
    }
    for key, value in parsed.query.items():  # libpq's ?host=, ?options=, … (decoded)
        info[key] = value if isinstance(value, str) else value[-1]
    server_settings = dict(_OPTION.findall(info.pop("options", "")))
    if "application_name" in info:
        server_settings["application_name"] = info.pop("application_name")
    arguments: dict[str, Any] = {"server_settings": server_settings}
    for ours, theirs in (
        ("host", "host"),
        ("user", "user"),
        ("password", "password"),
        ("dbname", "database"),
        ("passfile", "passfile"),
    ):
        if info.get(ours):
            arguments[theirs] = info[ours]
    if info.get("port"):
        arguments["port"] = int(info["port"])
    if info.get("sslmode"):
        arguments["ssl"] = info["sslmode"]
    timeout = info.get("connect_timeout")
    arguments["timeout"] = float(timeout) if timeout else CONNECT_TIMEOUT_S
    return arguments


def _status_count(status: str | None) -> int:
    """The row count of a command tag ("INSERT 0 1", "UPDATE 3", "SELECT 2"); -1 without one."""
    if not status:
        return -1
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


def _as_text(statement, params: Sequence[Any]) -> list[Any]:
    """The parameters with every non-text value bound for a text column sent as text."""
    kinds = [p.name for p in statement.get_parameters()]
    return [
        str(v) if kind in ("text", "varchar") and v is not None and not isinstance(v, str) else v
        for kind, v in zip(kinds, params, strict=False)
    ]


class Connection:
    """One asyncpg connection and the statements prepared on it."""

    def __init__(self, raw: asyncpg.Connection):
        self.raw = raw
        self.prepared: dict[str, tuple[Any, list[str]]] = {}  # sql: (statement, columns)
        self.broken = False

    async def execute(self, sql: str, params: Sequence[Any]) -> Rows:
        kept = self.prepared.get(sql)
        if kept is None:
            if len(self.prepared) >= STATEMENTS_KEPT:
                self.prepared.clear()
            statement = await self.raw.prepare(numbered(sql))
            kept = self.prepared[sql] = (statement, [a.name for a in statement.get_attributes()])
        statement, columns = kept
        try:
            records = await statement.fetch(*params)
        except asyncpg.DataError:  # refused before sending: a number for a text column
            records = await statement.fetch(*_as_text(statement, params))
        return Rows.of(_status_count(statement.get_statusmsg()), columns, records)


class AsyncDb(Db):
    """`Db` whose statements wait on the event loop (inside `greenlet_spawn`)."""

    def __init__(self, connection: Connection):
        super().__init__(None, "postgresql")
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return await_only(self._connection.execute(sql, params))


def _reads(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


class AutocommitDb(AsyncDb):
    """`AsyncDb` for a `single_write` call: no transaction, each statement commits by itself.
    Reads as it likes; one write, the last statement. `sent` counts what was sent."""

    def __init__(self, connection: Connection):
        super().__init__(connection)
        self.sent = 0
        self._written = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        if self._written:
            raise SingleWriteBroken("a single_write call sent a statement after its write")
        self._written = not _reads(sql)
        self.sent += 1
        return super().execute(sql, params)


# What says the connection itself is gone (a server restart, a killed backend, the network).
LOST = (
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
)


def _in_transaction(connection: Connection, fn: Callable[[Db], T]) -> T:
    """On the greenlet, inside the transaction `Pool.run` began: fn(db), then COMMIT
    (ROLLBACK when fn raises)."""
    raw = connection.raw
    try:
        result = fn(AsyncDb(connection))
    except Exception:
        if not raw.is_closed():
            await_only(raw.execute("ROLLBACK"))
        raise
    await_only(raw.execute("COMMIT"))
    return result


class Pool:
    """The connections of one event loop: at most `size` open, the last one given back taken
    first, callers queued in order when all are in use."""

    def __init__(self, url: str, size: int = CONNECTIONS):
        self.arguments = connect_arguments(url)
        self.size = size
        self.loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[Connection] = []
        self._waiting: deque[asyncio.Future] = deque()
        self._open = 0
        self._every: set[Connection] = set()  # open connections, idle or in use
        self.closed = False

    async def run(self, fn: Callable[[Db], T], *, transaction: bool = True) -> T:
        """fn(db) in one transaction, or (`transaction=False`, a `single_write` function)
        without one."""
        if not transaction:
            return await self._run_autocommit(fn)
        connection = await self._begun()
        try:
            return await greenlet_spawn(_in_transaction, connection, fn)
        except BaseException as exc:
            self._after_failure(connection, exc)
            raise
        finally:
            self._give_back(connection)

    async def _run_autocommit(self, fn: Callable[[Db], T]) -> T:
        """A kept connection the server closed while it sat idle (a restart) fails the
        call's first statement, before PostgreSQL ran anything on it: that call is made
        again on another connection, as `_begun` does for BEGIN."""
        for attempt in range(self.size + 1):
            connection = await self._take()
            db = AutocommitDb(connection)
            try:
                return await greenlet_spawn(fn, db)  # no transaction around it
            except BaseException as exc:
                self._after_failure(connection, exc)
                if not (isinstance(exc, LOST) and db.sent == 1) or attempt == self.size:
                    raise
            finally:
                self._give_back(connection)
        raise AssertionError("unreachable")

    @staticmethod
    def _after_failure(connection: Connection, exc: BaseException) -> None:
        raw = connection.raw
        if not isinstance(exc, Exception) or isinstance(exc, LOST) or raw.is_closed():
            connection.broken = True  # cancelled mid-statement, or lost: state unknown
        elif raw.is_in_transaction():
            connection.broken = True  # the ROLLBACK did not happen

    async def _begun(self) -> Connection:
        """A connection inside a new transaction. A kept connection the server has closed
        since (a restart) is replaced before anything is sent on it, so such a restart costs
        no call its error; a new connection that fails too raises."""
        for attempt in range(self.size + 1):
            connection = await self._take()
            try:
                await connection.raw.execute("BEGIN")
                return connection
            except BaseException as exc:
                connection.broken = True
                self._give_back(connection)
                if not isinstance(exc, LOST) or attempt == self.size:
                    raise
        raise AssertionError("unreachable")

    async def _take(self) -> Connection:
        if self.closed:
            raise StoreClosed("the store is closed")
        if self._idle:
            return self._idle.pop()
        if self._open < self.size:
            self._open += 1
            try:
                return self._kept(await asyncpg.connect(**self.arguments))
            except BaseException:
                self._open -= 1
                raise
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())  # handed over as it was cancelled
            raise

    def _give_back(self, connection: Connection) -> None:
        if connection.broken or self.closed:
            self._drop(connection)
            self._open -= 1
            if self._waiting and not self.closed:  # someone waits: let them open one
                self._open += 1
                asyncio.ensure_future(self._open_for_waiter())
            return
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    async def _open_for_waiter(self) -> None:
        try:
            connection = self._kept(await asyncpg.connect(**self.arguments))
        except Exception as exc:
            self._open -= 1
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    waiter.set_exception(exc)
                    return
            return
        self._give_back(connection)

    def _kept(self, raw: asyncpg.Connection) -> Connection:
        connection = Connection(raw)
        self._every.add(connection)
        return connection

    def _drop(self, connection: Connection) -> None:
        self._every.discard(connection)
        with contextlib.suppress(Exception):  # a loop that ended took its transports
            connection.raw.terminate()

    def close(self) -> None:
        """Close every connection, those in use too: a call still under way when the store
        closes (shutdown has drained what it waits for) fails rather than keep a transaction
        open on a connection nobody will give back."""
        self.closed = True
        for connection in list(self._every):
            self._drop(connection)
        self._idle.clear()
        self._open = 0
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(StoreClosed("the store is closed"))
