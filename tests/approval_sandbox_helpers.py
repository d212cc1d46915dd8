"""Helpers for the tests of approval on the sandbox page: a hold that waits for approval, as
the form's "Needs approval" sends it, the card's buttons pressed from the page, and the modal
the page shows sent with the person's inputs."""

from __future__ import annotations

from typing import Any

from sandbox.server import CHANNEL
from tests.sandbox_page import ALEX, Page, hold_body

RILEY = "U0RILEY"
LEADS = "S0LEADS"  # the sandbox's user group @social-leads: sam and riley


def approval_hold_body(
    approvers=(ALEX, LEADS), needed: int = 1, submitted_by: str = RILEY, **fields: Any
) -> dict:
    """The form's body with "Needs approval" ticked."""
    approval: dict[str, Any] = {"approvers": list(approvers), "needed": needed}
    return hold_body(approval=approval, submitted_by=submitted_by, **fields)


async def hold_for_approval(page: Page, **fields: Any) -> dict:
    """Hold an upload that waits for approval; the bot's 202 answer (with the page's extras)."""
    result = await page.post("/api/hold", approval_hold_body(**fields))
    assert result["status"] == 202, result
    return result


def card_of(state: dict, ts: str) -> dict:
    channel = next(c for c in state["channels"] if c["id"] == CHANNEL)
    return next(m for m in channel["messages"] if m["ts"] == ts)


async def click(page: Page, action_id: str, held: dict, user: str = ALEX) -> dict:
    """`user` presses a button of the approval card on the page; /api/click's answer."""
    body = held["body"]
    return await page.post(
        "/api/click",
        {
            "user": user,
            "action_id": action_id,
            "value": body["upload_key"],
            "channel": CHANNEL,
            "message_ts": body["ts"],
        },
    )


async def open_modal(page: Page, action_id: str, held: dict, user: str = ALEX) -> dict:
    """`user` presses Review and approve (or Reject): the modal the page then shows them."""
    assert await click(page, action_id, held, user) == {"status": 200, "answered": True}
    shown = (await page.state())["modals"][user]
    assert shown is not None
    return shown


async def send_modal(page: Page, view: dict, user: str = ALEX, expect: int = 200, **values):
    """`user` fills in the modal `view` (inputs by block_id) and presses its submit button."""
    return await page.post(
        "/api/view", {"user": user, "view_id": view["id"], "values": values}, expect=expect
    )


def input_block(view: dict, block_id: str) -> dict:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return block
