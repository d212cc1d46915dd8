"""PostgreSQL for the tests: one fresh schema per test, and the rule for tests that need it.

A pytest plugin (`pytest_plugins = ["tests.pg"]` in tests/conftest.py). The suite runs on
SQLite by default; with `TEST_DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/DB` set (what
`.ci/postgres.sh` prints) it runs again on that PostgreSQL. Each test gets its own schema in
that database, first on the search_path through the URL's connection options
(`?options=-csearch_path%3Dt_...`, which libpq, psycopg 3 and SQLAlchemy all honour), so tests
never see one another's tables and no database is created per test. The schema is dropped
(CASCADE) when the test ends.

- `database_url_for_test(request)`: the test's DATABASE_URL: "" (SQLite) when
  TEST_DATABASE_URL is unset, else a fresh schema's URL.
- `postgres_url_for_test(request)` / fixture `postgres_url`: a fresh schema's URL always, for
  tests that only make sense on PostgreSQL (replicas, copy-db); skips or fails as below.
- marker `@pytest.mark.needs_postgres` / fixture `needs_postgres`: skips with the reason when no
  PostgreSQL answers, except under CI (`CI` set), where that is a failure.
  The server tried: TEST_DATABASE_URL, else `.ci/postgres.sh`'s default (DEFAULT_SERVER_URL).
- `pg_rows(url, sql, **params)` and `pg_run(url, fn)`: read or write the test's schema with
  SQLAlchemy, for assertions written out in the test.
- CI's PostgreSQL pass (`SQLITE_PASS_RAN`, set by .ci/run) skips the tests that cannot reach
  the suite's database (`reaches_the_database`): they already ran, the same, on SQLite.
"""

from __future__ import annotations

import inspect
import os
import re
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

T = TypeVar("T")

# What .ci/postgres.sh creates when run with its defaults.
DEFAULT_SERVER_URL = (
    "postgresql://tiktok_cancel_test:tiktok_cancel_test@127.0.0.1:5432/tiktok_cancel_test"
)
CONNECT_TIMEOUT_S = 3
SCHEMA_PREFIX = "t_"


# --- URLs --------------------------------------------------------------------------------


def suite_database_url() -> str:
    """TEST_DATABASE_URL as set, "" when unset (the suite then runs on SQLite)."""
    return os.environ.get("TEST_DATABASE_URL", "").strip()


def server_url() -> str:
    """The PostgreSQL the tests that need one use: TEST_DATABASE_URL, else the default."""
    return suite_database_url() or DEFAULT_SERVER_URL


def sqlalchemy_url(url: str) -> sa.URL:
    """A libpq URL (postgresql:// or postgres://) as SQLAlchemy's, on the psycopg 3 driver."""
    parsed = sa.make_url(url)
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(f"not a PostgreSQL URL: {parsed.drivername}://…")
    return parsed.set(drivername="postgresql+psycopg")


def masked(url: str) -> str:
    """The URL with its password hidden, safe to show in a skip reason or an error."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def with_search_path(url: str, schema: str) -> str:
    """The same libpq URL, with `schema` first on the search_path of every connection.

    Adds `-csearch_path=<schema>` to the `options` connection parameter (kept alongside any
    options already there); everything else in the URL stays byte for byte.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise ValueError(f"schema name must be a plain lower-case identifier: {schema!r}")
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [p for p in parts.query.split("&") if p and not p.startswith("options=")]
    options = " ".join(value for key, value in pairs if key == "options")
    options = f"{options} -csearch_path={schema}".strip()
    query = "&".join([*kept, "options=" + quote(options, safe="")])
    return urlunsplit(parts._replace(query=query))


# --- connections -------------------------------------------------------------------------


_admin_engines: dict[str, sa.Engine] = {}


def _admin_engine(url: str) -> sa.Engine:
    """A pooled engine on the server URL itself, for creating and dropping schemas."""
    if url not in _admin_engines:
        _admin_engines[url] = sa.create_engine(
            sqlalchemy_url(url),
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
            pool_size=1,
            max_overflow=2,
            pool_pre_ping=True,
        )
    return _admin_engines[url]


def _engine(url: str) -> sa.Engine:
    """An engine without a pool: nothing stays open on a schema that is about to be dropped."""
    return sa.create_engine(
        sqlalchemy_url(url),
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        poolclass=NullPool,
    )


def pg_run(url: str, fn: Callable[[sa.Connection], T]) -> T:
    """Calls `fn(connection)` in one transaction on `url` (committed if fn returns)."""
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            return fn(connection)
    finally:
        engine.dispose()


def pg_rows(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Runs one SQL statement (`:name` parameters) on `url`, committed; its rows as dicts."""

    def run(connection: sa.Connection) -> list[dict[str, Any]]:
        result = connection.execute(sa.text(sql), params)
        return [dict(row._mapping) for row in result] if result.returns_rows else []

    return pg_run(url, run)


# --- is there a PostgreSQL? -----------------------------------------------------------------


@cache
def postgres_problem(url: str) -> str | None:
    """None when `url` answers `SELECT 1`, else why not (one line, no password)."""
    try:
        with _admin_engine(url).connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure means "not usable"; the reason says which
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        return f"{type(error).__name__}: {detail[0] if detail else ''}"
    return None


def require_postgres() -> str:
    """The server URL when it answers; else skips the test, or fails it under CI. In CI's
    SQLite pass a test that always runs on PostgreSQL is left to the PostgreSQL pass that
    follows (.ci/run sets POSTGRES_PASS_FOLLOWS): the two runs would be the same test twice."""
    if os.environ.get("POSTGRES_PASS_FOLLOWS") and not suite_database_url():
        pytest.skip("runs on PostgreSQL whatever the suite's database: in CI's PostgreSQL pass")
    url = server_url()
    problem = postgres_problem(url)
    if problem is None:
        return url
    where = "TEST_DATABASE_URL" if suite_database_url() else "the default test server"
    reason = (
        f"needs PostgreSQL: {where} {masked(url)} does not answer ({problem}); "
        "start one with .ci/postgres.sh and set TEST_DATABASE_URL to the URL it prints"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide PostgreSQL: {reason}", pytrace=False)
    pytest.skip(reason)


# --- one schema per test -----------------------------------------------------------------


def schema_name_for(request: pytest.FixtureRequest) -> str:
    """`t_<test name, shortened>_<random>`: unique, readable in psql, a plain identifier."""
    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    return f"{SCHEMA_PREFIX}{name}_{uuid.uuid4().hex[:12]}"


def _schema_url(request: pytest.FixtureRequest, server: str) -> str:
    """Creates a fresh schema on `server` for this test, dropped when the test ends."""
    schema = schema_name_for(request)
    admin = _admin_engine(server)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        # A test that leaves a transaction open on its tables makes this wait; after 10 s
        # the teardown fails and says so, rather than hanging the suite.
        with admin.begin() as connection:
            connection.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))

    request.addfinalizer(drop)
    return with_search_path(server, schema)


def database_url_for_test(request: pytest.FixtureRequest) -> str:
    """This test's DATABASE_URL: "" (SQLite) unless TEST_DATABASE_URL is set, else the URL
    of a fresh schema there, dropped when the test ends."""
    if not suite_database_url():
        return ""
    return _schema_url(request, require_postgres())


def postgres_url_for_test(request: pytest.FixtureRequest) -> str:
    """The URL of a fresh PostgreSQL schema for this test, whatever TEST_DATABASE_URL says;
    skips (fails under CI) when there is no PostgreSQL."""
    return _schema_url(request, require_postgres())


# --- the plugin: the marker (declared in pyproject.toml) and the fixtures ----------------


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_postgres") is not None:
        require_postgres()


# --- CI's PostgreSQL pass: only the tests that reach the database ------------------------------

# What reaches the suite's database: these fixtures, and any fixture or test whose code asks
# for a schema itself (the fuzz and fault suites' module-wide bots) or reads TEST_DATABASE_URL.
DATABASE_FIXTURES = frozenset({"database_url", "postgres_url", "needs_postgres"})
ASKS_FOR_A_DATABASE = re.compile(
    r"database_url_for_test\(|postgres_url_for_test\(|suite_database_url\(|server_url\(|"
    r"TEST_DATABASE_URL|require_postgres\("
)


def _asks_for_a_database(fn: Callable) -> bool:
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return True  # can't tell: it runs
    return ASKS_FOR_A_DATABASE.search(source) is not None


def reaches_the_database(item: pytest.Item) -> bool:
    """Whether a test can touch the suite's database: a database fixture in its closure, a
    fixture or test function that asks for a schema or reads TEST_DATABASE_URL, or the
    needs_postgres mark. A test that can't (parsing, Block Kit, log formatting, a SQLite file
    of its own) runs the same on every database."""
    if item.get_closest_marker("needs_postgres") is not None:
        return True
    names = set(getattr(item, "fixturenames", ()))
    if names & DATABASE_FIXTURES:
        return True
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    functions = [d.func for defs in definitions for d in defs]
    functions.append(getattr(item, "function", None))
    return any(_asks_for_a_database(fn) for fn in functions if fn is not None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In CI's PostgreSQL pass (.ci/run sets SQLITE_PASS_RAN), a test that cannot reach the
    database already ran, identically, in the SQLite pass before it: it is skipped."""
    if not (os.environ.get("SQLITE_PASS_RAN") and suite_database_url()):
        return
    skip = pytest.mark.skip(reason="touches no database: ran in CI's SQLite pass")
    for item in items:
        if not reaches_the_database(item):
            item.add_marker(skip)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _admin_engines:
        _admin_engines.popitem()[1].dispose()


@pytest.fixture
def needs_postgres() -> str:
    """The PostgreSQL server URL (no schema of its own); skips or fails without one."""
    return require_postgres()


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """This test's DATABASE_URL: "" for SQLite, or a fresh schema on TEST_DATABASE_URL."""
    return database_url_for_test(request)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """A fresh schema on PostgreSQL for this test, whatever the suite's default database."""
    return postgres_url_for_test(request)
