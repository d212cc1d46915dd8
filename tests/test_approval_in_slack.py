"""Approval before posting, in Slack: the card, the post-page modal TikTok asks for, who may
approve, the one start after the last approval, rejection, expiry and cancel."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.approval_helpers import (
    ALICE,
    CAROL,
    DAN,
    LEADS,
    SUBMITTER,
    approval_body,
    assert_valid_view,
    open_post_page,
)
from tests.conftest import UPLOAD, buttons, db_execute, db_rows, text_of
from tests.held_helpers import (
    ADMIN,
    EVE,
    assert_valid_blocks,
    body,
    held_harness,
    inits,
    msg,
    next_scheduler_pass,
    row,
    submit,
    until,
)
from tests.upload_helpers import thread_posts, top_posts, updates


@pytest.fixture
async def ha(h):
    await held_harness(h)
    h.slack.set_usergroup(LEADS, handle="social-leads", users=[DAN])
    return h


async def state_of(h, key="run-1") -> dict:
    headers = {"Authorization": f"Bearer {UPLOAD}"}
    async with h.session.get(f"{h.url}/uploads/{key}", headers=headers) as resp:
        assert resp.status == 200
        return await resp.json()


def card(h) -> dict:
    """The upload's channel message as it stands now."""
    (posted,) = top_posts(h)
    ups = updates(h, posted.params.get("ts") or row(h)["ts"])
    return msg(ups[-1]) if ups else msg(posted)


async def until_state(h, state: str, key="run-1") -> None:
    """Until the row is in `state` and the card (updated in the same step) says so."""
    await until(lambda: row(h, key)["state"] == state)


async def test_waits_for_approval_with_a_card_and_a_dm_to_each_approver(ha):
    status, answer = await submit(ha, approval_body(approvers=(ALICE, LEADS, SUBMITTER)))
    assert status == 202
    assert set(answer) == {"upload_key", "channel", "ts", "approve_by"}
    shown = card(ha)
    assert_valid_blocks(shown)
    words = text_of(shown)
    assert "waits for approval" in words and "Brand Social TT" in words
    assert "*Approvals:* 0 of 1 needed" in words and "<!subteam^SLEADS>" in words
    assert [b["action_id"] for b in buttons(shown)] == [
        "review_upload",
        "reject_upload",
        "cancel_held",
    ]
    dms = {c.params["channel"] for c in ha.slack.calls_to("chat.postMessage")}
    assert ALICE in dms and DAN in dms and SUBMITTER not in dms
    assert (await state_of(ha))["state"] == "awaiting_approval"
    assert row(ha)["state"] == "awaiting_approval"
    assert inits(ha) == []


async def test_the_post_page_has_no_privacy_chosen_and_leaves_out_what_the_creator_turned_off(
    ha,
):
    creator = ha.tiktok.creator_for("open-brand")
    creator.duet_disabled = True
    creator.privacy_level_options = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    await submit(ha, approval_body(title="Spring & <teaser> \U0001f680" * 100))
    view = await open_post_page(ha)
    assert_valid_view(view)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    privacy = blocks["privacy"]["element"]
    assert "initial_option" not in privacy
    assert [o["value"] for o in privacy["options"]] == ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    assert "Public" in blocks["privacy"]["hint"]["text"]  # requested, not chosen
    offered = [o["value"] for o in blocks["interactions"]["element"]["options"]]
    assert offered == ["comment", "stitch"]
    assert "initial_options" not in blocks["interactions"]["element"]
    everything = json.dumps(view)
    assert "Duet: turned off" in everything
    assert "Music Usage Confirmation" in everything and "Branded Content Policy" in everything
    assert view["submit"]["text"] == "Approve and post"


async def test_approving_starts_it_once_with_the_choices_made(ha):
    await submit(ha, approval_body())
    await open_post_page(ha)
    status, ack = await ha.driver.submit_view(
        ALICE, caption="Edited caption", privacy="SELF_ONLY", interactions=["comment"]
    )
    assert status == 200 and ack is None
    await until_state(ha, "started")
    answer = await state_of(ha)
    assert answer["state"] == "started" and answer["publish_id"]
    (init,) = inits(ha)
    info = init.body["post_info"]
    assert info["privacy_level"] == "SELF_ONLY" and info["title"] == "Edited caption"
    assert info["disable_comment"] is False and info["disable_duet"] is True
    assert info["brand_content_toggle"] is False and info["brand_organic_toggle"] is False
    thread = " ".join(text_of(msg(c)) for c in thread_posts(ha))
    assert "approved" in thread and "edited the caption" in thread
    actions = [r["action"] for r in db_rows(ha, "SELECT action FROM audit ORDER BY id")]
    assert "approve_upload" in actions and "start_held" in actions


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"caption": "x"}, "privacy", "Choose who can see"),
        (
            {"privacy": "PUBLIC_TO_EVERYONE", "commercial": ["on"]},
            "commercial_kind",
            "tick Your brand",
        ),
        (
            {"privacy": "SELF_ONLY", "commercial": ["on"], "commercial_kind": ["branded"]},
            "privacy",
            "can't be private",
        ),
    ],
)
async def test_what_tiktok_would_refuse_is_an_error_in_the_modal(ha, fields, field, words):
    await submit(ha, approval_body())
    view = await open_post_page(ha)
    from sandbox.fakes.view_values import values_for

    values = values_for(view, **fields)
    status, ack = await ha.driver.send_view_submission(
        "approve_upload", view["private_metadata"], values, user_id=ALICE, view_id=view["id"]
    )
    assert status == 200
    assert ack["response_action"] == "errors" and words in ack["errors"][field]
    assert db_rows(ha, "SELECT * FROM approvals") == []
    assert inits(ha) == []


async def test_a_video_longer_than_the_account_may_post_is_refused_in_the_modal(ha):
    await submit(ha, approval_body())
    ha.tiktok.creator_for("open-brand").max_video_post_duration_sec = 30  # changed since
    await open_post_page(ha)
    status, ack = await ha.driver.submit_view(ALICE, privacy="SELF_ONLY")
    assert ack["response_action"] == "errors"
    assert "42.5 s long" in json.dumps(ack["errors"])
    assert inits(ha) == []


async def test_only_named_approvers_and_never_the_submitter(ha):
    await submit(ha, approval_body(approvers=(ALICE, SUBMITTER, LEADS)))
    for who, words in ((EVE, "Only the people named"), (SUBMITTER, "You sent")):
        answer = await ha.click("review_upload", "run-1", user_id=who)
        assert words in text_of(answer)
    assert ha.slack.views == []
    # a member of a named group may
    view = await open_post_page(ha, user_id=DAN)
    assert view["callback_id"] == "approve_upload"


async def test_two_needed_each_approver_counts_once(ha):
    await submit(ha, approval_body(needed=2))
    view = await open_post_page(ha)
    assert view["submit"]["text"] == "Approve"
    await ha.driver.submit_view(ALICE, privacy="SELF_ONLY")
    await until(lambda: any("approved" in text_of(msg(c)) for c in thread_posts(ha)))
    assert len(db_rows(ha, "SELECT * FROM approvals")) == 1
    assert inits(ha) == []
    again = await ha.click("review_upload", "run-1", user_id=ALICE)
    assert "You approved" in text_of(again) and "already" in text_of(again)
    await open_post_page(ha, user_id=CAROL)
    await ha.driver.submit_view(CAROL, privacy="SELF_ONLY")
    await until_state(ha, "started")
    assert (await state_of(ha))["state"] == "started"
    assert len(inits(ha)) == 1


async def test_two_approvers_at_once_start_it_once(ha):
    await submit(ha, approval_body())
    await open_post_page(ha, ALICE)
    await open_post_page(ha, CAROL)
    held = ha.tiktok.hold("init")
    first = asyncio.create_task(ha.driver.submit_view(ALICE, privacy="SELF_ONLY"))
    second = asyncio.create_task(ha.driver.submit_view(CAROL, privacy="SELF_ONLY"))
    await asyncio.gather(first, second)
    held.release()
    await until_state(ha, "started")
    await next_scheduler_pass(ha)
    assert len(inits(ha)) == 1


async def test_reject_asks_a_reason_and_ends_it_never_posted(ha):
    await submit(ha, approval_body())
    sent = await ha.driver.send_click("reject_upload", "run-1", user_id=CAROL, channel_id="C1")
    assert sent.status == 200
    (shown,) = await ha.slack.wait_for_view(user_id=CAROL, callback_id="reject_upload_reason")
    assert_valid_view(shown.view)
    status, ack = await ha.driver.submit_view(CAROL, reason="Wrong <music> & logo")
    assert status == 200 and ack is None
    await until_state(ha, "rejected")
    await until(lambda: "was rejected" in text_of(card(ha)))  # the card is redrawn after the row
    answer = await state_of(ha)
    assert answer["state"] == "rejected" and answer["reason"] == "Wrong <music> & logo"
    words = text_of(card(ha))
    assert "rejected" in words and "Wrong &lt;music&gt; &amp; logo" in words
    assert buttons(card(ha)) == []
    refused = await ha.click("review_upload", "run-1", user_id=ALICE)
    assert "already rejected" in text_of(refused)
    assert inits(ha) == []
    (audit,) = db_rows(ha, "SELECT * FROM audit WHERE action = 'reject_upload'")
    assert audit["user_id"] == CAROL and "Wrong <music>" in audit["reason"]


async def test_past_its_deadline_it_expires_and_an_approval_is_refused(ha):
    await submit(ha, approval_body())
    await open_post_page(ha)
    db_execute(ha, "UPDATE held_uploads SET approve_by = 1 WHERE upload_key = ?", "run-1")
    await next_scheduler_pass(ha)
    assert (await state_of(ha))["state"] == "expired"
    assert "expired" in text_of(card(ha))
    assert any("expired" in text_of(msg(c)) for c in thread_posts(ha))
    await ha.driver.submit_view(ALICE, privacy="SELF_ONLY")
    # the refusal reaches ALICE by DM: after it, nothing else can follow from her approval
    await until(
        lambda: any(
            "expired" in text_of(msg(c))
            for c in ha.slack.calls_to("chat.postMessage")
            if c.params.get("channel") == ALICE and "can't be approved" in text_of(msg(c))
        )
    )
    assert db_rows(ha, "SELECT * FROM approvals") == []
    assert inits(ha) == []


async def test_cancel_while_it_waits_sends_nothing(ha):
    await submit(ha, approval_body())
    answer = await ha.click("cancel_held", "run-1", user_id=ALICE)
    assert "Cancelled" in text_of(answer)
    assert (await state_of(ha))["state"] == "cancelled"
    refused = await ha.click("review_upload", "run-1", user_id=CAROL)
    assert "cancelled" in text_of(refused)
    assert inits(ha) == []


async def test_a_team_approvers_rule_makes_every_upload_for_the_account_wait(ha):
    answer = await ha.command(
        f"team approvers brand <@{ALICE}> <!subteam^{LEADS}|@social-leads> needed 2",
        user_id=ADMIN,
    )
    assert "brand" in text_of(answer)
    status, answer = await submit(ha, body())  # the pipeline asked for no approval
    assert status == 202 and "approve_by" in answer
    stored = row(ha)
    assert stored["state"] == "awaiting_approval" and stored["needed"] == 2
    assert json.loads(stored["approvers"]) == [ALICE, LEADS]
    await next_scheduler_pass(ha)
    assert inits(ha) == []
    cleared = await ha.command("team approvers brand none", user_id=ADMIN)
    assert "brand" in text_of(cleared)
    status, answer = await submit(ha, body("run-2", hold_s=600))
    assert status == 202 and "starts_at" in answer
    assert row(ha, "run-2")["state"] == "held"


async def test_an_approved_upload_whose_starter_died_is_started_once_by_the_scheduler(ha):
    await submit(ha, approval_body())
    # as a process leaves it that took the last approval and died before claiming the start
    db_execute(
        ha,
        "UPDATE held_uploads SET state = 'approved', by_user = ?, updated_at = 1, post = ? "
        "WHERE upload_key = ?",
        ALICE,
        json.dumps({"privacy_level": "SELF_ONLY", "title": "Spring teaser"}),
        "run-1",
    )
    await next_scheduler_pass(ha)
    await until_state(ha, "started")
    await next_scheduler_pass(ha)
    (init,) = inits(ha)
    assert init.body["post_info"]["privacy_level"] == "SELF_ONLY"
