"""Storage on SQLite or PostgreSQL through SQLAlchemy: one schema, encrypted TikTok links,
OAuth states, announcements, leases, audit.

Knows nothing of Slack. Every call goes through `Store.run`, which executes on one worker
thread, so the event loop never waits on the disk (`storage.db.Store`). This `__init__`
imports nothing, so a module here importing a sibling (`from storage import polls`) never
loops back through it. Imports nothing from `bot`, `handlers` or `sandbox`.
"""
