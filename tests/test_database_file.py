"""The SQLite database file: created 0600 in a folder made 0700, an existing folder keeping its
mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest


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
