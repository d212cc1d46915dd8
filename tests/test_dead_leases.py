"""Leases left by a process that died: a start forgets them (on SQLite all of them, on PostgreSQL
only those long expired, since other replicas may hold live ones)."""

from __future__ import annotations

import time

from tests.conftest import db_execute, db_rows


async def test_a_start_forgets_dead_leases_sqlite_all_postgresql_only_long_expired(h):
    """SQLite: one process owns the file, so every lease left before the restart is dead.
    PostgreSQL: other replicas may hold live ones; only those that ran out an hour ago go."""
    now = time.time()
    leases_before = [("long-gone", now - 7200), ("just-expired", now - 60), ("live", now + 600)]
    for name, expires_at in leases_before:
        db_execute(
            h,
            "INSERT INTO leases (name, holder, detail, expires_at) VALUES (?, 'x', '', ?)",
            name,
            expires_at,
        )
    await h.restart()
    left = sorted(r["name"] for r in db_rows(h, "SELECT name FROM leases"))
    if h.bot.parts.store.dialect == "sqlite":
        assert left == []
    else:
        assert left == ["just-expired", "live"]
