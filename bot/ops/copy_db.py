"""`python -m bot copy-db --to postgresql://…` (or `--to-env NAME`, the URL read from that
environment variable, so it sits in neither `ps` nor the shell's history): move a SQLite
deployment to PostgreSQL.

Reads every table of the SQLite file at DATABASE_PATH (brought to the current schema first, as
starting the bot would) and writes it into an empty PostgreSQL database, migrated first, in one
transaction on the target: all of it or nothing. Rows are copied as they are: tokens stay
Fernet ciphertext (the same TOKEN_ENCRYPTION_KEY reads them there), audit ids are kept and the
id sequence is moved past the highest one. A target holding any row in any data table is
refused, so nothing is ever merged into, or overwrites, a database in use. Leases (who is doing
what right now) are not copied: the bot is stopped while copying.

Nothing printed carries a token or the target's password.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot import database_url
from storage.db import database_url as storage_database_url
from storage.db import open_engine
from storage.schema import DATA_TABLES

Say = Callable[[str], None]
BATCH = 1000
EXIT_REFUSED = 1
EXIT_USAGE = 2


class CopyRefused(Exception):
    """The copy did not happen; `str(error)` says why in one line (no secret in it)."""


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


def shown(url: str) -> str:
    """A libpq URL as it may be printed: the password hidden, also a `?password=` one."""
    return database_url.shown(url)


def one_line(error: BaseException, url: str) -> str:
    """The driver's first line of an error, with the password of `url` (in any of its forms)
    blanked out."""
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()
    line = detail[0].strip() if detail else type(error).__name__
    for secret in database_url.secrets_of(url):
        line = line.replace(secret, "***")
    return line


def target_url(url: str, name: str = "--to") -> str:
    """The SQLAlchemy URL of the target; CopyRefused unless it is a PostgreSQL URL that libpq
    and SQLAlchemy read alike (the refusal quotes nothing of it)."""
    problem = database_url.problem(url, name)
    if problem:
        raise CopyRefused(f"{problem}; for a socket: postgresql://USER@/DB?host=/run/postgresql")
    return storage_database_url(url)


def _counts(conn: Connection) -> dict[str, int]:
    count = select(func.count())
    return {t.name: conn.execute(count.select_from(t)).scalar_one() for t in DATA_TABLES}


def _copy_table(source: Connection, target: Connection, table) -> int:
    copied = 0
    result = source.execution_options(yield_per=BATCH).execute(select(*table.c))
    for rows in result.mappings().partitions(BATCH):
        target.execute(table.insert(), [dict(r) for r in rows])
        copied += len(rows)
    return copied


def _move_sequences(target: Connection) -> None:
    """Next ids start past the highest copied one (setval's is_called false: `next` is used)."""
    for table in DATA_TABLES:
        column = table.autoincrement_column
        if column is None:
            continue
        target.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE(MAX({column.name}), 0) + 1, false) FROM {table.name}"
            ),
            {"table": table.name, "column": column.name},
        )


def copy_tables(source: Engine, target: Engine) -> list[Copied]:
    """Every data table from `source` into `target` (already migrated), in one transaction
    on the target; CopyRefused (nothing written) when the target holds any row."""
    names = ", ".join(t.name for t in DATA_TABLES)
    with source.connect() as src, target.begin() as dst:
        # Writers wait until we are done, and a second copy-db waits, then finds rows: refused.
        dst.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))
        held = {name: n for name, n in _counts(dst).items() if n}
        if held:
            listed = ", ".join(f"{name}: {n}" for name, n in held.items())
            raise CopyRefused(
                f"the target already holds data ({listed}); nothing was copied. "
                "copy-db only fills an empty database"
            )
        with src.begin():
            copied = [Copied(t.name, _copy_table(src, dst, t)) for t in DATA_TABLES]
        _move_sequences(dst)
    return copied


def copy_db(
    sqlite_path: str, to: str, say: Say = print, complain: Say = print, name: str = "--to"
) -> int:
    """The command: copy, say what was copied; returns the exit status. `name` is where the
    target came from (`--to`, or the variable `--to-env` named), for the refusal's line."""
    try:
        target = target_url(to, name)
    except CopyRefused as error:
        complain(f"tiktok-cancel: copy-db: {error}")
        return EXIT_USAGE
    where = shown(to)
    if not Path(sqlite_path).is_file():
        complain(
            f"tiktok-cancel: copy-db: no SQLite database at {sqlite_path} "
            "(set DATABASE_PATH to the file the bot uses)"
        )
        return EXIT_REFUSED
    source = target_engine = None
    try:
        try:
            source = open_engine(storage_database_url(path=sqlite_path))
        except SQLAlchemyError as error:
            complain(f"tiktok-cancel: copy-db: can't read {sqlite_path}: {one_line(error, '')}")
            return EXIT_REFUSED
        try:
            target_engine = open_engine(target)
        except (SQLAlchemyError, ArgumentError, ValueError) as error:
            complain(f"tiktok-cancel: copy-db: can't use {where}: {one_line(error, to)}")
            return EXIT_REFUSED
        try:
            copied = copy_tables(source, target_engine)
        except CopyRefused as error:
            complain(f"tiktok-cancel: copy-db refused: {where}: {error}")
            return EXIT_REFUSED
        except SQLAlchemyError as error:
            complain(
                f"tiktok-cancel: copy-db: nothing was copied to {where}: {one_line(error, to)}"
            )
            return EXIT_REFUSED
    finally:
        for engine in (source, target_engine):
            if engine is not None:
                engine.dispose()
    total = sum(c.rows for c in copied)
    say(f"Copied {total} rows from {sqlite_path} to {where}, in one transaction:")
    for c in copied:
        say(f"  {c.table}: {c.rows}")
    say(
        "Next: set DATABASE_URL to that database (same TOKEN_ENCRYPTION_KEY) and start the bot; "
        "keep the SQLite file as a backup."
    )
    return 0
