"""Migration 8 (many workspaces): a database made before it keeps every upload's row, now keyed
by its Slack team, so two workspaces may use the same publish_id or upload_key. Runs on the
suite's database (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from storage.db import Store, create, database_url
from storage.migrations import STEPS, migrate
from storage.schema import announcements, approvals, followed_cancels, held_uploads
from tests import pg

# The primary keys these tables had before migration 8.
OLD_KEYS = {
    announcements: "publish_id",
    held_uploads: "upload_key",
    approvals: "upload_key, user_id",
    followed_cancels: "publish_id",
}
NEW_KEYS = {
    "announcements": ["team_id", "publish_id"],
    "held_uploads": ["team_id", "upload_key"],
    "approvals": ["team_id", "upload_key", "user_id"],
    "followed_cancels": ["team_id", "publish_id"],
}


@pytest.fixture
def url(request, tmp_path) -> str:
    return database_url(pg.database_url_for_test(request), str(tmp_path / "bot.sqlite3"))


def at_version_7(engine: sa.Engine) -> None:
    """A database as release 0.x left it at version 7: the four tables keyed without the team,
    each with a row."""
    with engine.begin() as conn:
        from storage.schema import schema_migrations

        schema_migrations.create(conn)
        for number, step in enumerate(STEPS[:7], start=1):
            step(conn)
            conn.execute(sa.insert(schema_migrations).values(version=number, applied_at="x"))
        for table, old_key in OLD_KEYS.items():
            conn.execute(sa.text(f"DROP TABLE {table.name}"))
            ddl = str(CreateTable(table).compile(dialect=conn.dialect))
            new_key = ", ".join(c.name for c in table.primary_key.columns)
            assert f"PRIMARY KEY ({new_key})" in ddl
            conn.execute(
                sa.text(ddl.replace(f"PRIMARY KEY ({new_key})", f"PRIMARY KEY ({old_key})"))
            )
            for index in table.indexes:
                index.create(conn)
        conn.execute(
            sa.text(
                "INSERT INTO announcements (publish_id, team_id, channel, ts, title, final, "
                "poll_count) VALUES ('v_pub_url~v2.1', 'T1', 'C1', '1.1', 'Spring', 0, 0)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO held_uploads (upload_key, team_id, channel, account, source_url, "
                "post, hold_s, created_at, starts_at, state, updated_at) VALUES ('run-1', 'T1', "
                "'C1', 'brand', 'https://cdn.example/v.mp4', '{}', 60, 1, 61, 'held', 1)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO approvals (upload_key, team_id, user_id, approved_at) "
                "VALUES ('run-1', 'T1', 'U1', 5)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO followed_cancels (publish_id, team_id, user_id, link_kind, "
                "link_owner, asked_at, updated_at) VALUES ('v_pub_url~v2.2', 'T1', 'U1', "
                "'user', 'U1', 1, 1)"
            )
        )


def test_migration_8_keys_upload_rows_by_team_and_keeps_them(url):
    engine = create(url)
    try:
        at_version_7(engine)
        assert migrate(engine) == 8
        inspector = sa.inspect(engine)
        for name, key in NEW_KEYS.items():
            assert inspector.get_pk_constraint(name)["constrained_columns"] == key
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT team_id, title FROM announcements")).all() == [
                ("T1", "Spring")
            ]
            assert conn.execute(sa.text("SELECT team_id, state FROM held_uploads")).all() == [
                ("T1", "held")
            ]
            assert conn.execute(sa.text("SELECT user_id FROM approvals")).all() == [("U1",)]
            assert conn.execute(sa.text("SELECT publish_id FROM followed_cancels")).all() == [
                ("v_pub_url~v2.2",)
            ]
            # another workspace may now announce the same upload and hold the same key
            conn.execute(
                sa.text(
                    "INSERT INTO announcements (publish_id, team_id, channel, ts, final, "
                    "poll_count) VALUES ('v_pub_url~v2.1', 'T2', 'C1', '2.2', 0, 0)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO held_uploads (upload_key, team_id, channel, account, "
                    "source_url, post, hold_s, created_at, starts_at, state, updated_at) "
                    "VALUES ('run-1', 'T2', 'C1', 'brand', 'https://cdn.example/v.mp4', '{}', "
                    "60, 1, 61, 'held', 1)"
                )
            )
        names = {i["name"] for i in sa.inspect(engine).get_indexes("announcements")}
        assert "idx_announcements_next_poll_at" in names
        assert migrate(engine) == 8  # nothing runs twice
    finally:
        engine.dispose()


def test_a_store_opened_on_a_fresh_database_is_at_version_8(url):
    store = Store(url)
    try:
        version = store.call(lambda db: db.execute("SELECT MAX(version) FROM schema_migrations"))
        assert version.scalar() == 8
    finally:
        store.close()


def schema_of(engine: sa.Engine) -> dict:
    """Every table's columns (name, type, nullable, default), key and indexes, as inspected."""
    inspector = sa.inspect(engine)
    found = {}
    for name in sorted(inspector.get_table_names()):
        columns = [
            (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
            for c in inspector.get_columns(name)
        ]
        key = inspector.get_pk_constraint(name)["constrained_columns"]
        indexes = sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name))
        found[name] = (sorted(columns), key, indexes)
    return found


def test_an_empty_database_gets_the_schema_the_steps_make(url, tmp_path, request):
    """An empty database is made in one go; it must be what running every step makes."""
    at_once = create(url)
    try:
        assert migrate(at_once) == 8
        made_at_once = schema_of(at_once)
        with at_once.begin() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_migrations")).all()
        assert sorted(v for (v,) in versions) == [1, 2, 3, 4, 5, 6, 7, 8]
    finally:
        at_once.dispose()
    other = database_url(pg.database_url_for_test(request), str(tmp_path / "steps.sqlite3"))
    by_steps = create(other)
    try:
        from storage.schema import schema_migrations

        with by_steps.begin() as conn:  # not empty: the steps run one by one
            schema_migrations.create(conn)
        assert migrate(by_steps) == 8
        assert schema_of(by_steps) == made_at_once
    finally:
        by_steps.dispose()
