"""Is the bot able to serve: the database answers one query (what `GET /healthz` reports)."""

from __future__ import annotations

from storage.db import Store


async def database_answers(store: Store) -> None:
    """Returns once the database answered `SELECT 1`; raises what the database raised."""
    await store.run(lambda db: db.execute("SELECT 1").fetchone())
