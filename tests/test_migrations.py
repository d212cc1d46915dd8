"""Schema migrations: each step commits with its version, so a crash never reruns a finished step
and a migrated file reopens without running any step again."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


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
    # baseline, leases, held uploads, their open_id, followed cancels, approvals, approvers
    assert reopened.stdout.strip() == "8"


def test_reopening_a_migrated_file_runs_no_step_again(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    for _ in range(2):  # the second run finds nothing to do (a step that re-ran would fail)
        run = subprocess.run(
            [sys.executable, "-c", VERSION, path], cwd=REPO, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == "8"
    conn = sqlite3.connect(path)
    try:
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert [v for (v,) in versions] == [1, 2, 3, 4, 5, 6, 7, 8]
    finally:
        conn.close()
