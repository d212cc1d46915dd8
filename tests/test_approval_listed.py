"""Uploads waiting for approval in `list` and the App Home: with their deadline and count, the
ones waiting for you first, with Review and approve / Reject / Cancel. Over HTTP."""

from __future__ import annotations

import pytest

from tests.approval_helpers import ALICE, CAROL, approval_body
from tests.conftest import buttons, text_of
from tests.held_helpers import assert_valid_blocks, body, held_harness, submit
from tests.test_app_home import open_home, view_text


@pytest.fixture
async def ha(h):
    return await held_harness(h)


async def test_list_shows_what_waits_for_you_first_with_its_deadline(ha):
    await submit(ha, approval_body("for-carol", approvers=(CAROL,)))
    await submit(ha, approval_body("for-alice", approvers=(ALICE,)))
    await submit(ha, body("plain", hold_s=600))
    shown = await ha.command("list", user_id=ALICE)
    assert_valid_blocks(shown)
    text = text_of(shown)
    assert "*Waiting for approval* (2):" in text and "*Held, not sent to TikTok yet* (1):" in text
    keys = [b["value"] for b in buttons(shown) if b["action_id"] == "review_upload"]
    assert keys == ["for-alice", "for-carol"]
    assert text.count("Waiting for you") == 1
    assert "Approvals: 0 of 1 needed, by <!date^" in text
    assert shown["text"] == "2 waiting for approval, 1 held"
    for_carol = await ha.command("list", user_id=CAROL)
    keys = [b["value"] for b in buttons(for_carol) if b["action_id"] == "review_upload"]
    assert keys == ["for-carol", "for-alice"]


async def test_the_home_shows_uploads_waiting_for_approval(ha):
    await submit(ha, approval_body(approvers=(ALICE,)))
    published = await open_home(ha, ALICE)
    text = view_text(published)
    assert "Waiting for approval" in text and "Waiting for you" in text
