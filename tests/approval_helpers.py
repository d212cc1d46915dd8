"""Helpers for the tests of approval before posting: an upload body that waits for approval,
the approvers, opening the post page as one of them and submitting it."""

from __future__ import annotations

from slack_sdk.models.views import View

from tests.held_helpers import body

ALICE = "UALICE"  # a named approver
CAROL = "UCAROL"  # a second named approver
DAN = "UDAN"  # in the user group LEADS
LEADS = "SLEADS"
SUBMITTER = "USUBMIT"


def approval_body(key="run-1", approvers=(ALICE, CAROL), needed=1, **post):
    payload = body(key, **post)
    payload["approval"] = {"approvers": list(approvers), "needed": needed}
    payload["submitted_by"] = SUBMITTER
    return payload


def assert_valid_view(view: dict) -> None:
    """The modal as slack_sdk's models read it, deeply (every block and element)."""
    parsed = View(**{k: v for k, v in view.items() if k not in ("id", "hash", "state")})
    parsed.validate_json()
    for block in parsed.blocks:
        block.validate_json()


async def open_post_page(h, user_id=ALICE, key="run-1") -> dict:
    """`user_id` presses Review and approve; the modal the bot opened for them."""
    sent = await h.driver.send_click("review_upload", key, user_id=user_id, channel_id="C1")
    assert sent.status == 200
    (shown, *_) = await h.slack.wait_for_view(user_id=user_id, callback_id="approve_upload")
    return shown.view
