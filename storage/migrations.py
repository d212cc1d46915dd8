"""Bringing a database to the current schema, the same way on SQLite and PostgreSQL.

Each step runs once, in order, in one transaction together with its row in
`schema_migrations`, so a crash never leaves a step half done or re-runs a finished one. On
PostgreSQL the whole run holds an advisory lock: replicas starting at once wait for the first
one, then find nothing left to do. A SQLite file from release 0.1 first finishes its own old
steps (`storage.legacy_sqlite`); its tables then already are the baseline.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select, text

from storage import legacy_sqlite
from storage.schema import (
    BASELINE,
    account_approvers,
    announcements,
    approval_links,
    approvals,
    audit,
    followed_cancels,
    held_uploads,
    leases,
    metadata,
    pipeline_tokens,
    schema_migrations,
    slack_installations,
    slack_oauth_states,
    workspace_settings,
)
from storage.timefmt import now_iso

MIGRATION_LOCK = 7_301_984_215  # any fixed number: pg_advisory_xact_lock's key for this app


def _baseline(conn: Connection) -> None:
    for table in BASELINE:
        table.create(conn, checkfirst=True)


def _leases(conn: Connection) -> None:
    leases.create(conn, checkfirst=True)


def _held_uploads(conn: Connection) -> None:
    held_uploads.create(conn, checkfirst=True)


def _held_open_id(conn: Connection) -> None:
    """Held uploads remember the TikTok account they were announced with. A row made before
    this step is bound to the account its team account is linked to now (none: '', which
    never starts)."""
    if "open_id" not in {c["name"] for c in inspect(conn).get_columns(held_uploads.name)}:
        conn.execute(text("ALTER TABLE held_uploads ADD COLUMN open_id TEXT NOT NULL DEFAULT ''"))
    conn.execute(
        text(
            "UPDATE held_uploads SET open_id = COALESCE((SELECT links.open_id FROM links "
            "WHERE links.team_id = held_uploads.team_id AND links.kind = 'team' "
            "AND links.owner = held_uploads.account), '') WHERE open_id = ''"
        )
    )


def _followed_cancels(conn: Connection) -> None:
    followed_cancels.create(conn, checkfirst=True)


APPROVAL_COLUMNS = (
    ("approvers", "TEXT NOT NULL DEFAULT ''"),
    ("needed", "INTEGER NOT NULL DEFAULT 0"),
    ("approve_by", "FLOAT NOT NULL DEFAULT 0"),
    ("submitted_by", "TEXT NOT NULL DEFAULT ''"),
    ("reason", "TEXT NOT NULL DEFAULT ''"),
    ("avatar_url", "TEXT NOT NULL DEFAULT ''"),
)


def _approvals(conn: Connection) -> None:
    """Approval before posting: the held upload's approval columns (empty: a plain held
    upload, as every row made before this step is), its approvals, the web post page's links."""
    have = {c["name"] for c in inspect(conn).get_columns(held_uploads.name)}
    for name, kind in APPROVAL_COLUMNS:
        if name not in have:
            conn.execute(text(f"ALTER TABLE held_uploads ADD COLUMN {name} {kind}"))
    approvals.create(conn, checkfirst=True)
    approval_links.create(conn, checkfirst=True)


def _account_approvers(conn: Connection) -> None:
    account_approvers.create(conn, checkfirst=True)


def _rekey(conn: Connection, table: Table) -> None:
    """Give `table` the primary key `storage.schema` declares now (the Slack team first), keeping
    every row. PostgreSQL swaps the constraint in place; SQLite can't, so the table is rebuilt
    (its indexes dropped first: their names are the new table's)."""
    found = inspect(conn).get_pk_constraint(table.name)
    wanted = [c.name for c in table.primary_key.columns]
    if list(found.get("constrained_columns") or []) == wanted:
        return  # made by this release's baseline
    conn.execute(text(f"UPDATE {table.name} SET team_id = '' WHERE team_id IS NULL"))
    if conn.dialect.name == "postgresql":
        conn.execute(text(f'ALTER TABLE {table.name} DROP CONSTRAINT "{found["name"]}"'))
        conn.execute(text(f"ALTER TABLE {table.name} ADD PRIMARY KEY ({', '.join(wanted)})"))
        return
    for index in table.indexes:
        conn.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
    old = f"{table.name}_before_teams"
    conn.execute(text(f"ALTER TABLE {table.name} RENAME TO {old}"))
    table.create(conn)
    have = {c["name"] for c in inspect(conn).get_columns(old)}
    columns = ", ".join(c.name for c in table.columns if c.name in have)
    conn.execute(text(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {old}"))
    conn.execute(text(f"DROP TABLE {old}"))


def _workspaces(conn: Connection) -> None:
    """Many workspaces: every upload's row is keyed by its Slack team too (two workspaces may
    use the same publish_id or upload_key), audit entries can be retired with their workspace,
    the link confirm page's Sign in with Slack is remembered on its state, and the
    installations, install states, workspace settings and pipeline tokens get tables."""
    for table in (announcements, held_uploads, approvals, followed_cancels):
        _rekey(conn, table)
    if "retired_at" not in {c["name"] for c in inspect(conn).get_columns(audit.name)}:
        conn.execute(text("ALTER TABLE audit ADD COLUMN retired_at FLOAT"))
    have = {c["name"] for c in inspect(conn).get_columns("oauth_states")}
    for name, kind in (("signin_hash", "TEXT"), ("signed_in_at", "FLOAT")):
        if name not in have:
            conn.execute(text(f"ALTER TABLE oauth_states ADD COLUMN {name} {kind}"))
    for table in (slack_installations, slack_oauth_states, workspace_settings, pipeline_tokens):
        table.create(conn, checkfirst=True)


STEPS: list[Callable[[Connection], None]] = [
    _baseline,
    _leases,
    _held_uploads,
    _held_open_id,
    _followed_cancels,
    _approvals,
    _account_approvers,
    _workspaces,
]


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, schema_migrations.name):
        return 0
    return conn.execute(select(func.max(schema_migrations.c.version))).scalar() or 0


def migrate(engine: Engine, sqlite_path: str | None = None) -> int:
    """Run the missing steps; returns the version the database is at."""
    if sqlite_path and sqlite_path != ":memory:":
        legacy_sqlite.upgrade(sqlite_path)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        if not inspect(conn).get_table_names():
            # An empty database: every step's end is this release's schema, made at once (no
            # step to inspect or alter anything), with every step recorded as done.
            metadata.create_all(conn, checkfirst=False)
            applied = now_iso()
            rows = [{"version": n, "applied_at": applied} for n in range(1, len(STEPS) + 1)]
            conn.execute(insert(schema_migrations), rows)
            return len(STEPS)
        schema_migrations.create(conn, checkfirst=True)
        done = current_version(conn)
        for number, step in enumerate(STEPS[done:], start=done + 1):
            step(conn)
            conn.execute(insert(schema_migrations).values(version=number, applied_at=now_iso()))
        return max(done, len(STEPS))
