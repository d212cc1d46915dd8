"""The SQLite file and the bot's memory over time: a private file and folder, webhook
deliveries, per-upload locks and dead leases pruned, and a schema step that commits with its
version."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import NOTIFY, db_execute, db_rows, notify

PID = "v_pub_url~v2.9900001"
DAY = 24 * 3600.0
REPO = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


SQLITE_ONLY = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="about the SQLite file; this run is on PostgreSQL",
)


@SQLITE_ONLY
async def test_the_database_file_is_0600_and_its_folder_0700(h):
    db = Path(h.settings.database_path)
    assert db.parent.name == "data"  # a folder the bot created, inside pytest's tmp_path
    assert mode(db.parent) == 0o700
    assert mode(db) == 0o600
    for suffix in ("-wal", "-shm"):
        side = db.with_name(db.name + suffix)
        if side.exists():
            assert mode(side) == 0o600, side


@SQLITE_ONLY
async def test_an_existing_folder_keeps_its_mode_and_the_new_file_is_0600(h, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    await h.restart(database_path=str(folder / "bot.sqlite3"))
    assert mode(folder) == 0o750
    assert mode(folder / "bot.sqlite3") == 0o600


async def test_webhook_deliveries_older_than_7_days_are_forgotten(h):
    now = time.time()
    old = ("old-key", "post.publish.complete", now - 8 * DAY)
    recent = ("recent-key", "post.publish.complete", now - 1 * DAY)
    for row in (old, recent):
        db_execute(h, "INSERT INTO webhook_events VALUES (?, ?, ?)", *row)
    body = h.tiktok.webhook_body("post.publish.failed", {"publish_id": PID})
    headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        assert resp.status == 200

    def keys() -> set[str]:
        return {r["event_key"] for r in db_rows(h, "SELECT event_key FROM webhook_events")}

    deadline = time.monotonic() + 5
    while not keys() - {"old-key", "recent-key"} and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # until this delivery is remembered
    remembered = keys()
    assert "old-key" not in remembered
    assert "recent-key" in remembered and len(remembered) == 2


async def test_no_per_upload_lock_is_left_after_a_failed_or_a_good_announcement(h):
    await h.restart(notify_token=NOTIFY)
    announcements = h.bot.parts.announcements
    h.slack.fail("chat.postMessage", error="channel_not_found")
    status, _ = await notify(h, {"publish_id": PID, "channel": "C404"})
    assert status == 404
    assert len(announcements.locks) == 0  # was one entry per failed publish_id, forever
    results = await asyncio.gather(
        *[notify(h, {"publish_id": PID, "channel": "C1"}) for _ in range(5)]
    )
    assert sorted(s for s, _ in results) == [200, 200, 200, 200, 201]
    assert len(h.slack.calls_to("chat.postMessage")) == 2  # the refused one and one post
    assert len(announcements.locks) == 0


CRASH_AT_VERSION_WRITE = textwrap.dedent(
    """
    import os, sys
    from sqlalchemy import event
    from storage.db import create
    from storage.migrations import migrate

    engine = create("sqlite:///" + sys.argv[1])

    @event.listens_for(engine, "before_cursor_execute")
    def crash(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO schema_migrations"):
            os._exit(9)  # the process dies as the version of a finished step is written

    migrate(engine)
    """
)

VERSION = (
    "import sys; from storage.db import Store, database_url; "
    "s = Store(database_url(path=sys.argv[1])); "
    "print(s.call(lambda db: db.execute('SELECT MAX(version) FROM schema_migrations').scalar()))"
)


def test_a_crash_while_writing_the_schema_version_never_reruns_a_finished_step(tmp_path):
    path = tmp_path / "bot.sqlite3"
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AT_VERSION_WRITE, str(path)], cwd=REPO, timeout=60
    )
    assert crashed.returncode == 9
    # the step and its version were one transaction: both or neither
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    finally:
        conn.close()
    reopened = subprocess.run(
        [sys.executable, "-c", VERSION, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert reopened.returncode == 0, reopened.stderr
    # baseline, leases, held uploads, their open_id, followed cancels
    assert reopened.stdout.strip() == "5"


def test_reopening_a_migrated_file_runs_no_step_again(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    for _ in range(2):  # the second run finds nothing to do (a step that re-ran would fail)
        run = subprocess.run(
            [sys.executable, "-c", VERSION, path], cwd=REPO, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == "5"
    conn = sqlite3.connect(path)
    try:
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert [v for (v,) in versions] == [1, 2, 3, 4, 5]
    finally:
        conn.close()


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
