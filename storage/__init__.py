"""SQLite storage through sqlite-utils: schema, encrypted TikTok links, OAuth states, audit.

Knows nothing of Slack. Every call goes through `Store.run`, which executes on one worker
thread, so the event loop never waits on the disk.
"""

from storage.db import Store

__all__ = ["Store"]
