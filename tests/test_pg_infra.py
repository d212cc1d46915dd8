"""The PostgreSQL test plumbing (tests/pg.py): one schema per test, isolated and dropped.

The URL tests need no server; the rest need the PostgreSQL of .ci/postgres.sh (or
TEST_DATABASE_URL) and skip without it, except under CI, where they fail.
"""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from tests import pg


class FakeRequest:
    """Stands in for pytest's request where a test must run the schema's teardown itself."""

    class node:  # noqa: N801 - the attribute pytest's request has
        name = "test_Some[case-1]"

    def __init__(self):
        self.finalizers = []

    def addfinalizer(self, fn):
        self.finalizers.append(fn)

    def finish(self):
        while self.finalizers:
            self.finalizers.pop()()


def schema_of(url: str) -> str:
    return pg.pg_rows(url, "SELECT current_schema() AS s")[0]["s"]


def schema_exists(name: str) -> bool:
    rows = pg.pg_rows(
        pg.server_url(), "SELECT 1 FROM pg_namespace WHERE nspname = :name", name=name
    )
    return rows == [{"?column?": 1}]


# --- URLs (no server) --------------------------------------------------------------------


def test_search_path_is_added_as_a_connection_option():
    assert (
        pg.with_search_path("postgresql://u:p@127.0.0.1:5432/db", "t_abc")
        == "postgresql://u:p@127.0.0.1:5432/db?options=-csearch_path%3Dt_abc"
    )


def test_search_path_keeps_a_socket_host_and_other_options():
    assert (
        pg.with_search_path("postgresql://u@/db?host=/run/postgresql", "t_abc")
        == "postgresql://u@/db?host=/run/postgresql&options=-csearch_path%3Dt_abc"
    )
    assert (
        pg.with_search_path("postgresql://u@h/db?options=-cstatement_timeout%3D5000", "t_x")
        == "postgresql://u@h/db?options=-cstatement_timeout%3D5000%20-csearch_path%3Dt_x"
    )


def test_search_path_refuses_a_schema_name_that_needs_quoting():
    with pytest.raises(ValueError):
        pg.with_search_path("postgresql://u@h/db", "T-1; DROP")


def test_sqlalchemy_reads_the_url_with_psycopg_3_and_the_option():
    url = pg.sqlalchemy_url("postgresql://u:p@127.0.0.1:5432/db?options=-csearch_path%3Dt_abc")
    assert url.drivername == "postgresql+psycopg"
    assert url.query == {"options": "-csearch_path=t_abc"}
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "u",
        "p",
        "127.0.0.1",
        5432,
        "db",
    )
    assert pg.sqlalchemy_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(ValueError):
        pg.sqlalchemy_url("sqlite:///x.db")


def test_schema_names_are_plain_identifiers_and_unique():
    first, second = pg.schema_name_for(FakeRequest()), pg.schema_name_for(FakeRequest())
    assert first != second
    assert first.startswith("t_test_some_case_1_")
    assert len(first) <= 63


def test_without_test_database_url_the_test_runs_on_sqlite(monkeypatch):
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    request = FakeRequest()
    assert pg.database_url_for_test(request) == ""
    assert request.finalizers == []


# --- no server: skipped locally, failed under CI, password never shown -----------------------


def test_no_server_skips_locally_with_the_reason(monkeypatch):
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://u:s3cret-pw@127.0.0.1:1/db")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as caught:
        pg.require_postgres()
    reason = str(caught.value)
    assert "needs PostgreSQL: TEST_DATABASE_URL postgresql://u:***@127.0.0.1:1/db" in reason
    assert ".ci/postgres.sh" in reason
    assert "s3cret-pw" not in reason


def test_no_server_fails_under_ci(monkeypatch):
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://u:s3cret-pw@127.0.0.1:1/db")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as caught:
        pg.require_postgres()
    assert str(caught.value).startswith("CI must provide PostgreSQL: needs PostgreSQL")
    assert "s3cret-pw" not in str(caught.value)


def test_in_cis_sqlite_pass_a_postgres_test_waits_for_the_postgres_pass(monkeypatch):
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("POSTGRES_PASS_FOLLOWS", "1")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.skip.Exception) as caught:
        pg.require_postgres()
    assert "in CI's PostgreSQL pass" in str(caught.value)


@pytest.fixture
def own_schema(request):
    """Stands for the fuzz and fault suites' bots, which ask for a schema themselves."""
    return pg.database_url_for_test(request)


def test_a_test_with_a_database_fixture_reaches_the_database(request, database_url):
    assert pg.reaches_the_database(request.node)


def test_a_fixture_that_asks_for_a_schema_itself_reaches_the_database(request, own_schema):
    assert pg.reaches_the_database(request.node)


def test_a_test_of_plain_values_reaches_no_database(request, tmp_path):
    assert not pg.reaches_the_database(request.node)


def test_cis_postgres_pass_skips_only_the_tests_that_reach_no_database(request, monkeypatch):
    class Item:
        def __init__(self, reaches: bool):
            self.fixturenames = ["database_url"] if reaches else []
            self.function = test_search_path_is_added_as_a_connection_option
            self.marks = []

        def get_closest_marker(self, name):
            return None

        def add_marker(self, mark):
            self.marks.append(mark)

    monkeypatch.setenv("TEST_DATABASE_URL", pg.DEFAULT_SERVER_URL)
    monkeypatch.delenv("SQLITE_PASS_RAN", raising=False)
    items = [Item(True), Item(False)]
    pg.pytest_collection_modifyitems(request.config, items)
    assert items[0].marks == [] and items[1].marks == []  # SQLITE_PASS_RAN unset: every test
    monkeypatch.setenv("SQLITE_PASS_RAN", "1")
    pg.pytest_collection_modifyitems(request.config, items)
    assert items[0].marks == []
    assert [m.kwargs["reason"] for m in items[1].marks] == [
        "touches no database: ran in CI's SQLite pass"
    ]


# --- on the server ---------------------------------------------------------------------------


@pytest.mark.needs_postgres
def test_tables_land_in_the_tests_own_schema(postgres_url):
    schema = schema_of(postgres_url)
    assert schema.startswith("t_test_tables_land_in_the_tests_own_schema_")
    pg.pg_rows(postgres_url, "CREATE TABLE links (slack_user TEXT PRIMARY KEY, n INT)")
    pg.pg_rows(postgres_url, "INSERT INTO links VALUES (:u, :n)", u="U1", n=7)
    assert pg.pg_rows(postgres_url, "SELECT slack_user, n FROM links") == [
        {"slack_user": "U1", "n": 7}
    ]
    where = pg.pg_rows(
        pg.server_url(),
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'links' "
        "AND table_schema = :s",
        s=schema,
    )
    assert where == [{"table_schema": schema}]
    assert pg.pg_rows(postgres_url, "SELECT to_regclass('public.links') AS r") == [{"r": None}]


@pytest.mark.needs_postgres
def test_psycopg_alone_honours_the_url_too(postgres_url):
    """The bot gets the URL in libpq form (DATABASE_URL); psycopg reads it as it is."""
    with psycopg.connect(postgres_url) as connection:
        (schema,) = connection.execute("SELECT current_schema()").fetchone()
    assert schema == schema_of(postgres_url)
    assert postgres_url.startswith(pg.server_url() + "?options=-csearch_path%3Dt_")


@pytest.mark.needs_postgres
def test_two_schemas_do_not_see_each_other(request):
    first = pg.postgres_url_for_test(request)
    second = pg.postgres_url_for_test(request)
    assert schema_of(first) != schema_of(second)
    for url, who in ((first, "U1"), (second, "U2")):
        pg.pg_rows(url, "CREATE TABLE links (slack_user TEXT)")
        pg.pg_rows(url, "INSERT INTO links VALUES (:who)", who=who)
    assert pg.pg_rows(first, "SELECT slack_user FROM links") == [{"slack_user": "U1"}]
    assert pg.pg_rows(second, "SELECT slack_user FROM links") == [{"slack_user": "U2"}]


@pytest.mark.needs_postgres
def test_the_schema_and_its_tables_are_dropped_when_the_test_ends():
    request = FakeRequest()
    url = pg.postgres_url_for_test(request)
    schema = schema_of(url)
    pg.pg_rows(url, "CREATE TABLE audit (id SERIAL PRIMARY KEY, outcome TEXT)")
    pg.pg_rows(url, "INSERT INTO audit (outcome) VALUES ('ok')")
    assert schema_exists(schema)
    request.finish()
    assert not schema_exists(schema)
    rows = pg.pg_rows(
        pg.server_url(), "SELECT count(*) AS n FROM pg_tables WHERE schemaname = :s", s=schema
    )
    assert rows == [{"n": 0}]


@pytest.mark.needs_postgres
def test_with_test_database_url_each_test_gets_a_fresh_schema(monkeypatch):
    monkeypatch.setenv("TEST_DATABASE_URL", pg.server_url())
    request = FakeRequest()
    url = pg.database_url_for_test(request)
    schema = schema_of(url)
    assert schema.startswith("t_test_some_case_1_")
    assert pg.pg_rows(url, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = :s", s=schema)
    request.finish()
    assert not schema_exists(schema)


@pytest.mark.needs_postgres
def test_pg_run_commits_what_the_callable_does_and_returns_its_result(postgres_url):
    def make_and_count(connection: sa.Connection) -> int:
        connection.execute(sa.text("CREATE TABLE grants (account TEXT)"))
        connection.execute(sa.text("INSERT INTO grants VALUES ('brand'), ('shop')"))
        return connection.execute(sa.text("SELECT count(*) FROM grants")).scalar_one()

    assert pg.pg_run(postgres_url, make_and_count) == 2
    assert pg.pg_rows(postgres_url, "SELECT account FROM grants ORDER BY account") == [
        {"account": "brand"},
        {"account": "shop"},
    ]


@pytest.mark.needs_postgres
def test_pg_run_rolls_back_when_the_callable_raises(postgres_url):
    pg.pg_rows(postgres_url, "CREATE TABLE grants (account TEXT)")

    def insert_then_fail(connection: sa.Connection) -> None:
        connection.execute(sa.text("INSERT INTO grants VALUES ('brand')"))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        pg.pg_run(postgres_url, insert_then_fail)
    assert pg.pg_rows(postgres_url, "SELECT account FROM grants") == []


def test_the_needs_postgres_fixture_gives_the_server(needs_postgres):
    assert needs_postgres == pg.server_url()
    assert pg.pg_rows(needs_postgres, "SELECT 1 AS one") == [{"one": 1}]
