"""What `GET /metrics` answers: the state the database holds read just now (held uploads by
state, approvals still needed, over every workspace: one short query each), set on their
gauges, then everything this process counted (`bot.metrics`) as Prometheus exposition text. When the
database does not answer within `DATABASE_TIMEOUT_S`, the page still answers with what this
process counted, and `tiktok_cancel_database_answered` says 0."""

from __future__ import annotations

import asyncio
import logging

from bot import metrics
from storage import approvals, held
from storage.db import Store

DATABASE_TIMEOUT_S = 2.0
log = logging.getLogger(__name__)


async def page(store: Store) -> bytes:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_S):
            by_state = await store.run(held.count_by_state)
            still_needed = await store.run(approvals.still_needed)
    except Exception as exc:
        log.warning("metrics.database_unanswered", extra={"error": type(exc).__name__})
        metrics.set_database_answered(False)
    else:
        metrics.set_held_uploads(by_state, held.STATES)
        metrics.set_approvals_waiting(still_needed)
        metrics.set_database_answered(True)
    return metrics.render()
