"""PostgreSQL for bench/load.py: which server, is it there, a fresh schema for one run.

The server is TEST_DATABASE_URL when set, else what `.ci/postgres.sh` creates with its
defaults (DEFAULT_SERVER_URL). Each database run gets its own schema `bench_<random>`, first
on the search_path through the URL's `options` (libpq, psycopg 3 and SQLAlchemy all honour
it), so the bot's tables never mix with the tests' or another run's; the schema is dropped
(CASCADE) at the end. The bench's connections carry an `application_name`, so the server's
backend processes serving the bot can be found in pg_stat_activity and their CPU time read.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

DEFAULT_SERVER_URL = (
    "postgresql://tiktok_cancel_test:tiktok_cancel_test@127.0.0.1:5432/tiktok_cancel_test"
)
CONNECT_TIMEOUT_S = 3


def server_url(given: str = "") -> str:
    """`given` (--postgres-url), else TEST_DATABASE_URL, else .ci/postgres.sh's default."""
    return given or os.environ.get("TEST_DATABASE_URL", "").strip() or DEFAULT_SERVER_URL


def masked(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _engine(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(f"not a PostgreSQL URL: {parsed.drivername}://…")
    return sa.create_engine(
        parsed.set(drivername="postgresql+psycopg"),
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        poolclass=NullPool,
    )


def problem(url: str) -> str | None:
    """None when `url` answers `SELECT 1`, else why not (one line, no password)."""
    try:
        engine = _engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as error:  # any failure means "not usable"; the reason says which
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        return f"{type(error).__name__}: {detail[0] if detail else ''}"
    return None


def with_options(url: str, schema: str, application_name: str) -> str:
    """The same libpq URL with `schema` first on the search_path and an application_name."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [
        p
        for p in parts.query.split("&")
        if p and not p.startswith(("options=", "application_name="))
    ]
    options = " ".join(value for key, value in pairs if key == "options")
    options = f"{options} -csearch_path={schema}".strip()
    query = "&".join(
        [*kept, "options=" + quote(options, safe=""), "application_name=" + application_name]
    )
    return urlunsplit(parts._replace(query=query))


@contextlib.contextmanager
def fresh_schema(server: str) -> Iterator[tuple[str, str]]:
    """A new schema on `server` for one run: yields (URL for the bot, application_name);
    the schema is dropped afterwards."""
    name = f"bench_{secrets.token_hex(6)}"
    engine = _engine(server)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        try:
            yield with_options(server, name, name), name
        finally:
            with engine.begin() as connection:
                connection.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        engine.dispose()


def backend_pids(server: str, application_name: str) -> list[int]:
    """The server processes serving connections that carry `application_name`."""
    engine = _engine(server)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application_name},
            )
            return [int(row[0]) for row in rows]
    finally:
        engine.dispose()
