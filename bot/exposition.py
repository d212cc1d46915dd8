"""What `GET /metrics` answers: the state the database holds read just now (held uploads by
state, approvals still needed, over every workspace: one short query each), set on their
gauges, then everything this process counted (`bot.metrics`) as Prometheus exposition text."""

from __future__ import annotations

from bot import metrics
from storage import approvals, held
from storage.db import Store


async def page(store: Store) -> bytes:
    metrics.set_held_uploads(await store.run(held.count_by_state), held.STATES)
    metrics.set_approvals_waiting(await store.run(approvals.still_needed))
    return metrics.render()
