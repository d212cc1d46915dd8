"""The small query surface the storage modules use, the same on SQLite and PostgreSQL.

`Db` wraps one SQLAlchemy connection inside one transaction (`Store.run` opens it, commits it
when the function returns). Queries are portable SQL written once, with `?` placeholders;
`db["table"]` gives the few row operations the modules need, keyed by the primary key
`storage.schema` declares. Upserts are `INSERT … ON CONFLICT … DO UPDATE`, which both databases
speak. There is no `atomic()`: a whole `Store.run` call is already one transaction, so several
statements in one storage function commit together or not at all. `db.now` is the database's
clock as seconds since the epoch (a SQL expression), for claims that replicas must agree on.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from storage.schema import metadata

QMARK = re.compile(r"\?")
# The database's clock, in seconds since the epoch (the unit of every float time column), as
# SQL. A claim (a lease, a held upload's start) is taken, renewed and checked against this,
# never against a replica's clock: two replicas whose clocks disagree still agree on who
# holds what. SQLite's clock is its process's (one process per SQLite file); julianday keeps
# milliseconds.
NOW_SQL = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}


def single_write(fn):
    """Mark a storage function that reads what it likes and writes with one statement, its
    last (or none). On PostgreSQL `Store.run` sends it without a transaction of its own (no
    BEGIN, no COMMIT: two round trips fewer): each statement commits by itself, the reads see
    what they would see inside one at READ COMMITTED, and the one write is atomic by itself.
    A second write, or any statement after the write, raises `SingleWriteBroken` there
    before it is sent. SQLite runs it in a transaction like any other call."""
    fn.single_write = True
    return fn


class SingleWriteBroken(RuntimeError):
    """A `single_write` function sent a statement after its write (a programming error)."""


class NotFoundError(LookupError):
    """No row with that primary key."""


class Rows:
    """What a statement returned, read from the driver's cursor (a small part of
    SQLAlchemy's Result: the part the storage modules use)."""

    def __init__(self, cursor):
        self.rowcount = cursor.rowcount
        self._columns = [d[0] for d in cursor.description] if cursor.description else []
        self._rows = cursor.fetchall() if self._columns else []

    @classmethod
    def of(cls, rowcount: int, columns: list[str], rows: Sequence[Sequence[Any]]) -> Rows:
        """Rows from their parts (a driver without a DB-API cursor: storage.pg_async)."""
        made = cls.__new__(cls)
        made.rowcount, made._columns, made._rows = rowcount, columns, rows
        return made

    def fetchone(self) -> tuple | None:
        return tuple(self._rows[0]) if self._rows else None

    def fetchall(self) -> list[tuple]:
        return [tuple(r) for r in self._rows]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise NotFoundError("expected exactly one row")
        return self._rows[0][0]

    def dicts(self) -> list[dict]:
        return [dict(zip(self._columns, r, strict=True)) for r in self._rows]


class Db:
    """One connection in one transaction: what every storage function gets as `db`.

    Statements go straight to the driver's cursor inside the transaction SQLAlchemy opened:
    SQLite takes `?` as written, psycopg gets `%s`. (Through SQLAlchemy's `text()` each
    statement cost ten times the CPU on the cancel path, measured by bench/load.py.)
    """

    def __init__(self, driver_connection: Any, dialect: str):
        self._driver = driver_connection
        self.dialect = dialect
        self._postgres = dialect == "postgresql"
        self.now = NOW_SQL["postgresql" if self._postgres else "sqlite"]

    @classmethod
    def over(cls, conn: Connection) -> Db:
        """The `Db` of a SQLAlchemy connection, inside the transaction it has open."""
        return cls(conn.connection.dbapi_connection, conn.dialect.name)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement with `?` placeholders; what it returned, read in full."""
        if self._postgres:
            sql = QMARK.sub("%s", sql.replace("%", "%%"))
        cursor = self._driver.cursor()
        try:
            cursor.execute(sql, list(params))
            return Rows(cursor)
        finally:
            cursor.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        """Every row, as dicts keyed by column name."""
        return self.execute(sql, params).dicts()

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict | None:
        """The first row as a dict, or None when there is none."""
        rows = self.execute(sql, params).dicts()
        return rows[0] if rows else None

    def __getitem__(self, name: str) -> TableOps:
        """`db["table"]`: the row operations on a table of `storage.schema`."""
        return TableOps(self, name)


@functools.cache
def _primary_key(table: str) -> list[str]:
    """The primary key's columns of a table of `storage.schema` (read once per table)."""
    return [c.name for c in metadata.tables[table].primary_key.columns]


class TableOps:
    """Row operations on one table, keyed by its primary key."""

    def __init__(self, db: Db, name: str):
        self.db = db
        self.name = name
        self.pk = _primary_key(name)

    def _where_pk(self, key: Any) -> tuple[str, list[Any]]:
        values = list(key) if isinstance(key, tuple | list) else [key]
        return " AND ".join(f"{c} = ?" for c in self.pk), values

    def insert(self, row: Mapping[str, Any]) -> None:
        """Insert one row (a row with the same primary key already there is an error)."""
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        self.db.execute(f"INSERT INTO {self.name} ({columns}) VALUES ({marks})", list(row.values()))

    def insert_returning_id(self, row: Mapping[str, Any]) -> int:
        """Insert one row; the integer key the database gave it."""
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        sql = f"INSERT INTO {self.name} ({columns}) VALUES ({marks}) RETURNING {self.pk[0]}"
        return int(self.db.execute(sql, list(row.values())).scalar_one())

    def insert_if_absent(self, row: Mapping[str, Any]) -> bool:
        """Insert unless a row with this primary key exists; True if this call inserted it."""
        return self.db.execute(self.insert_if_absent_sql(row), list(row.values())).rowcount == 1

    def insert_if_absent_sql(self, row: Mapping[str, Any]) -> str:
        """The statement of `insert_if_absent` (parameters: the row's values, in order)."""
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        keys = ", ".join(self.pk)
        return (
            f"INSERT INTO {self.name} ({columns}) VALUES ({marks}) ON CONFLICT ({keys}) DO NOTHING"
        )

    def upsert(self, row: Mapping[str, Any]) -> None:
        """Insert, or update the row with the same primary key (the key `storage.schema`
        declares for the table)."""
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        keys = ", ".join(self.pk)
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c not in self.pk)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        sql = f"INSERT INTO {self.name} ({columns}) VALUES ({marks}) ON CONFLICT ({keys}) {action}"
        self.db.execute(sql, list(row.values()))

    def update(self, key: Any, changes: Mapping[str, Any]) -> None:
        """Set `changes` on the row with primary key `key` (a tuple for a composite key);
        NotFoundError when there is no such row."""
        where, values = self._where_pk(key)
        assignments = ", ".join(f"{c} = ?" for c in changes)
        sql = f"UPDATE {self.name} SET {assignments} WHERE {where}"
        if self.db.execute(sql, [*changes.values(), *values]).rowcount == 0:
            raise NotFoundError(self.name)

    def get(self, key: Any) -> dict:
        """The row with primary key `key`; NotFoundError when there is none."""
        where, values = self._where_pk(key)
        row = self.db.one(f"SELECT * FROM {self.name} WHERE {where}", values)
        if row is None:
            raise NotFoundError(self.name)
        return row

    def delete_where(self, where: str, params: Sequence[Any] = ()) -> int:
        """Delete the rows matching `where`; how many were deleted."""
        return self.db.execute(f"DELETE FROM {self.name} WHERE {where}", params).rowcount

    def rows_where(
        self,
        where: str,
        params: Sequence[Any] = (),
        order_by: str = "",
        limit: int | None = None,
    ) -> list[dict]:
        """The rows matching `where`, in `order_by` order, at most `limit` of them."""
        sql = f"SELECT * FROM {self.name} WHERE {where}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.db.query(sql, params)


def update_unchanged(
    db: Db,
    table: str,
    team_id: str,
    publish_id: str,
    expected: dict[str, Any],
    changes: dict[str, Any],
) -> bool:
    """Apply `changes` to the row of (`team_id`, `publish_id`) only while it still holds the
    `expected` values (compare-and-write); `updated_at` is set too. True if the row was changed.
    IS NOT DISTINCT FROM: equality that also matches NULL, in SQLite (3.39+) and PostgreSQL."""
    changes = {**changes, "updated_at": time.time()}
    sets = ", ".join(f"{name} = ?" for name in changes)
    checks = " AND ".join(f"{name} IS NOT DISTINCT FROM ?" for name in expected) or "1 = 1"
    sql = f"UPDATE {table} SET {sets} WHERE team_id = ? AND publish_id = ? AND {checks}"
    params = [*changes.values(), team_id, publish_id, *expected.values()]
    return db.execute(sql, params).rowcount == 1
