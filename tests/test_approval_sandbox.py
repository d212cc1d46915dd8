"""Approval before posting on the sandbox page: the Upload pipeline form's "Needs approval"
(approvers among the sandbox's people and its user group @social-leads, who submits it), the
card's Review and approve / Reject / Cancel pressed from the page, and the modal the bot opened
(views.open, as the Slack stand-in recorded it) shown and sent from the page: errors next to
their fields, a plain ack closing it, the one start at TikTok."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.approval_sandbox_helpers import (
    LEADS,
    RILEY,
    approval_hold_body,
    card_of,
    click,
    hold_for_approval,
    input_block,
    open_modal,
    send_modal,
)
from tests.sandbox_page import (
    ALEX,
    SAM,
    assert_valid_blocks,
    audit_of,
    blocks_text,
    buttons,
    held_row,
)


async def until_row(page, key: str, state: str) -> dict:
    """The held upload's row once it is in `state` (polled, as the page polls)."""
    deadline = asyncio.get_running_loop().time() + 10
    while held_row(page.sb, key)["state"] != state:
        assert asyncio.get_running_loop().time() < deadline, held_row(page.sb, key)
        await asyncio.sleep(0.05)
    return held_row(page.sb, key)


async def test_the_form_holds_an_upload_that_waits_for_the_approvers(page, sb):
    held = await hold_for_approval(page)
    body = held["body"]
    assert set(body) == {"upload_key", "channel", "ts", "approve_by"}
    state = await page.state()
    card = card_of(state, body["ts"])
    assert_valid_blocks(card)
    text = blocks_text(card)
    assert "waits for approval" in text and f"<!subteam^{LEADS}>" in text and "<@U0ALEX>" in text
    assert [b["action_id"] for b in buttons(card)] == [
        "review_upload",
        "reject_upload",
        "cancel_held",
    ]
    # The approvers are told: alex, and sam of @social-leads; riley sent it.
    assert state["dms"][ALEX] and state["dms"][SAM]
    assert [g["handle"] for g in state["usergroups"]] == ["social-leads"]
    row = held_row(sb, body["upload_key"])
    assert row["state"] == "awaiting_approval" and row["submitted_by"] == RILEY
    assert row["needed"] == 1
    assert state["modals"] == {ALEX: None, SAM: None, RILEY: None}
    assert state["inits"] == 0


async def test_the_modal_shown_is_the_bots_views_open_and_sending_it_starts_the_upload(page, sb):
    held = await hold_for_approval(page, title="Spring <b>teaser</b> & more")
    shown = await open_modal(page, "review_upload", held)
    view = shown["view"]
    (opened,) = [c for c in sb.slack.calls_to("views.open")]
    sent_by_bot = opened.params["view"]
    # What the page shows is what the bot sent Slack (plus the id and hash Slack gave it).
    assert {k: view[k] for k in sent_by_bot} == sent_by_bot
    assert view["id"] == sb.slack.last_view(ALEX).id and shown["errors"] == {}
    assert view["callback_id"] == "approve_upload"
    assert "initial_option" not in input_block(view, "privacy")["element"]
    assert input_block(view, "caption")["element"]["initial_value"] == "Spring <b>teaser</b> & more"
    assert (await page.state())["modals"][SAM] is None  # only the person who opened it

    sent = await send_modal(
        page, view, caption="Edited <caption>", privacy="SELF_ONLY", interactions=["comment"]
    )
    assert sent == {"sent": True, "status": 200, "errors": {}, "closed": True}
    assert (await page.state())["modals"][ALEX] is None
    row = await until_row(page, held["body"]["upload_key"], "started")
    (init,) = sb.tiktok.calls_to("init")
    info = init.body["post_info"]
    assert info["privacy_level"] == "SELF_ONLY" and info["title"] == "Edited <caption>"
    assert info["disable_comment"] is False
    assert row["publish_id"] == init.response["data"]["publish_id"]
    (entry,) = audit_of(sb, "approve_upload")
    assert entry["user_id"] == ALEX


async def test_a_required_field_left_empty_is_refused_by_slack_and_the_bots_errors_are_shown(
    page, sb
):
    held = await hold_for_approval(page)
    view = (await open_modal(page, "review_upload", held))["view"]
    # No privacy chosen: Slack's client refuses it; the bot hears nothing.
    refused = await send_modal(page, view, caption="x", privacy=None)
    assert refused == {
        "sent": False,
        "status": 0,
        "errors": {"privacy": "This field is required."},
        "closed": False,
    }
    assert (await page.state())["modals"][ALEX]["errors"] == refused["errors"]
    # Commercial content without saying which: the bot's own error, next to its field.
    answered = await send_modal(page, view, privacy="PUBLIC_TO_EVERYONE", commercial=["on"])
    assert answered["sent"] is True and answered["closed"] is False
    assert list(answered["errors"]) == ["commercial_kind"]
    assert "tick Your brand" in answered["errors"]["commercial_kind"]
    shown = (await page.state())["modals"][ALEX]
    assert shown["view"]["id"] == view["id"] and shown["errors"] == answered["errors"]
    assert sb.tiktok.calls_to("init") == []
    assert held_row(sb, held["body"]["upload_key"])["state"] == "awaiting_approval"
    # Sent right, it closes and the upload starts.
    done = await send_modal(page, view, privacy="MUTUAL_FOLLOW_FRIENDS")
    assert done["closed"] is True and done["errors"] == {}
    await until_row(page, held["body"]["upload_key"], "started")
    assert len(sb.tiktok.calls_to("init")) == 1


async def test_reject_asks_a_reason_in_a_modal_and_it_is_never_posted(page, sb):
    held = await hold_for_approval(page)
    shown = await open_modal(page, "reject_upload", held, user=SAM)  # of @social-leads
    view = shown["view"]
    assert view["callback_id"] == "reject_upload_reason"
    assert (await send_modal(page, view, user=SAM, reason=""))["errors"] == {
        "reason": "This field is required."
    }
    sent = await send_modal(page, view, user=SAM, reason="Wrong <music> & logo")
    assert sent == {"sent": True, "status": 200, "errors": {}, "closed": True}
    row = await until_row(page, held["body"]["upload_key"], "rejected")
    assert row["reason"] == "Wrong <music> & logo"
    ts = held["body"]["ts"]
    card = await page.until(lambda s: "rejected" in blocks_text(card_of(s, ts)) and card_of(s, ts))
    assert_valid_blocks(card)
    assert "Wrong &lt;music&gt; &amp; logo" in blocks_text(card) and buttons(card) == []
    assert sb.tiktok.calls_to("init") == []


async def test_closing_the_modal_sends_nothing_and_review_opens_it_again(page, sb):
    held = await hold_for_approval(page)
    view = (await open_modal(page, "review_upload", held))["view"]
    assert await page.post("/api/view/close", {"user": ALEX, "view_id": view["id"]}) == {
        "closed": True
    }
    assert (await page.state())["modals"][ALEX] is None
    # Sending a closed modal is refused.
    await send_modal(page, view, privacy="SELF_ONLY", expect=409)
    again = (await open_modal(page, "review_upload", held))["view"]
    assert again["id"] != view["id"] and len(sb.slack.calls_to("views.open")) == 2
    assert sb.tiktok.calls_to("init") == []


async def test_the_submitter_and_people_not_named_get_an_answer_and_no_modal(page, sb):
    # riley sent it: a member of @social-leads, but nobody approves their own upload.
    held = await hold_for_approval(page, approvers=(ALEX, LEADS))
    assert await click(page, "review_upload", held, user=RILEY) == {
        "status": 200,
        "answered": True,
    }
    assert "You sent" in blocks_text((await page.state())["ephemeral"][RILEY][-1])
    only_alex = await hold_for_approval(page, approvers=(ALEX,), title="Second")
    assert (await click(page, "review_upload", only_alex, user=SAM))["answered"] is True
    assert "Only the people named" in blocks_text((await page.state())["ephemeral"][SAM][-1])
    state = await page.state()
    assert sb.slack.views == [] and state["modals"][RILEY] is state["modals"][SAM] is None


async def test_cancel_on_the_approval_card_sends_nothing(page, sb):
    held = await hold_for_approval(page)
    await click(page, "cancel_held", held)
    await until_row(page, held["body"]["upload_key"], "cancelled")
    refused = await click(page, "review_upload", held, user=SAM)
    assert refused["answered"] is True and sb.slack.views == []
    assert sb.tiktok.calls_to("init") == []


async def test_two_needed_each_approver_from_the_page(page, sb):
    held = await hold_for_approval(page, approvers=(ALEX, SAM), needed=2)
    first = (await open_modal(page, "review_upload", held))["view"]
    assert first["submit"]["text"] == "Approve"
    assert (await send_modal(page, first, privacy="SELF_ONLY"))["closed"] is True
    second = (await open_modal(page, "review_upload", held, user=SAM))["view"]
    assert second["submit"]["text"] == "Approve and post"
    assert (await send_modal(page, second, user=SAM, privacy="SELF_ONLY"))["closed"] is True
    await until_row(page, held["body"]["upload_key"], "started")
    assert len(sb.tiktok.calls_to("init")) == 1


async def test_team_approvers_names_the_user_group_typed_as_at_handle(page, sb):
    await page.post("/api/hold", approval_hold_body())  # links brand
    answer = await page.command("team approvers brand @alex @social-leads")
    assert "brand" in blocks_text(answer)
    plain = {k: v for k, v in approval_hold_body().items() if k != "approval"}
    result = await page.post("/api/hold", plain)  # the pipeline asked for no approval
    assert result["status"] == 202 and "approve_by" in result["body"]
    row = held_row(sb, result["body"]["upload_key"])
    assert json.loads(row["approvers"]) == [ALEX, LEADS]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"user": ALEX, "view_id": "VNOPE", "values": {}}, 409, "no modal"),
        ({"user": "nobody", "view_id": "V1", "values": {}}, 400, "unknown user"),
        ({"user": ALEX, "values": {}}, 400, "view_id is required"),
    ],
)
async def test_sending_a_modal_that_is_not_open_is_refused(page, body, status, words):
    answer = await page.post("/api/view", body, expect=status)
    assert words in answer["error"]


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ([], "values must be an object"),
        ({"nope": "x"}, "no input 'nope'"),
        ({"privacy": "EVERYONE_AND_THEIR_DOG"}, "offers no option"),
        ({"privacy": 3}, "must be a text"),
        ({"interactions": ["comment", 1]}, "must be a text"),
    ],
)
async def test_inputs_the_modal_could_not_hold_are_400(page, sb, values, words):
    held = await hold_for_approval(page)
    view = (await open_modal(page, "review_upload", held))["view"]
    answer = await page.post(
        "/api/view", {"user": ALEX, "view_id": view["id"], "values": values}, expect=400
    )
    assert words in answer["error"]
    assert (await page.state())["modals"][ALEX]["view"]["id"] == view["id"]  # still open


async def test_the_web_post_page_link_in_an_approvers_dm_opens_on_the_sandboxs_bot(page, sb):
    """The approver's DM carries a link button to the bot's web post page (once that page
    exists: skipped before): the page renders it as a link, and the sandbox's bot answers it."""
    await hold_for_approval(page)
    state = await page.until(lambda s: s["dms"][ALEX] and s)
    links = [b for m in state["dms"][ALEX] for b in buttons(m) if b.get("url")]
    if not links:
        pytest.skip("the bot sends no web post page link yet (branch web-post-page)")
    (link,) = links
    assert link["action_id"] == "open_post_page"
    assert link["url"].startswith(sb.bot_url + "/approve/")
    async with page.session.get(link["url"]) as resp:  # as the browser opens it
        assert resp.status == 200
        assert "Post to TikTok" in await resp.text()
