"""Storage on SQLite or PostgreSQL through SQLAlchemy: one schema, encrypted TikTok links,
OAuth states, announcements, leases, audit.

Knows nothing of Slack. Every call goes through `Store.run`, which executes on one worker
thread, so the event loop never waits on the disk.
"""

from storage.db import Store

__all__ = ["Store"]
