"""Approval deadlines are the database's: an approval (and the post page) past `approve_by`
is refused as expired as soon as the deadline passed by the database's clock, before the held
scheduler has expired the upload, and never written."""

from __future__ import annotations

import time

import pytest

from tests.approval_helpers import ALICE, CAROL, approval_body, open_post_page
from tests.conftest import db_execute, db_rows, text_of
from tests.held_helpers import held_harness, inits, msg, next_scheduler_pass, row, submit, until
from tests.upload_helpers import thread_posts


@pytest.fixture
async def ha(h):
    await held_harness(h)
    return h


def dms(h, user_id: str) -> list[str]:
    return [
        text_of(msg(c))
        for c in h.slack.calls_to("chat.postMessage")
        if c.params.get("channel") == user_id
    ]


async def test_past_the_deadline_by_the_database_clock_it_is_refused_before_any_expiry(ha):
    status, _ = await submit(ha, approval_body())
    assert status == 202
    await open_post_page(ha, ALICE)
    # the scheduler is not running: nothing expires the upload, only the deadline has passed
    await ha.bot.parts.held_scheduler.stop()
    db_execute(
        ha, "UPDATE held_uploads SET approve_by = ? WHERE upload_key = ?", time.time() - 1, "run-1"
    )
    before = len(dms(ha, ALICE))
    status, ack = await ha.driver.submit_view(ALICE, privacy="SELF_ONLY")
    assert status == 200 and ack is None
    await until(lambda: len(dms(ha, ALICE)) > before)
    said = dms(ha, ALICE)[before]
    assert "expired: its deadline passed" in said and "Nothing changed" in said, said
    # the post page is refused the same way
    refused = await ha.click("review_upload", "run-1", user_id=CAROL)
    assert "expired: its deadline passed" in text_of(refused)
    assert ha.slack.last_view(CAROL) is None
    assert row(ha)["state"] == "awaiting_approval"  # refused by the deadline, not the state
    assert db_rows(ha, "SELECT * FROM approvals") == []
    assert not any("approved" in text_of(msg(c)) for c in thread_posts(ha))
    # once the scheduler runs, the upload expires, never posted
    ha.bot.parts.held_scheduler.start()
    await next_scheduler_pass(ha)
    assert row(ha)["state"] == "expired"
    assert inits(ha) == []
