"""Held uploads from the sandbox page's Hold form: the first hold links the team account, Cancel in
the window sends nothing to TikTok, Start now makes it an announced upload, and the TikTok
panel's scripted answers to a start."""

from __future__ import annotations

import time

import pytest

from sandbox.server import CHANNEL
from tests.sandbox_page import (
    ALEX,
    SAM,
    SOURCE,
    assert_valid_blocks,
    audit_of,
    blocks_text,
    button,
    buttons,
    held_row,
    hold,
    hold_body,
    press,
    upload,
)

RILEY = "U0RILEY"


def held_message(state: dict, ts: str) -> dict:
    channel = next(c for c in state["channels"] if c["id"] == CHANNEL)
    return next(m for m in channel["messages"] if m["ts"] == ts)


async def test_the_first_hold_links_brand_then_the_bot_holds_it(page, sb):
    answer = await hold(page)
    assert answer["linked"] == "brand"
    body = answer["body"]
    assert body["channel"] == CHANNEL and body["upload_key"].startswith("sandbox-")
    assert body["starts_at"] == pytest.approx(time.time() + 30, abs=5)
    state = await page.state()
    message = held_message(state, body["ts"])
    assert_valid_blocks(message)
    text = blocks_text(message)
    assert "\u201cHeld teaser\u201d goes to TikTok as Brand Social <!date^" in text
    assert "nothing has been sent to TikTok yet" in text
    cancel, start = button(message, "cancel_held"), button(message, "start_held")
    assert cancel["confirm"]["title"]["text"] == "Cancel this upload?"
    assert start["confirm"]["title"]["text"] == "Start it now?"
    assert cancel["value"] == start["value"] == body["upload_key"]
    # Linked as an admin would, through the bot: its DM says so; the commands' own answers
    # went to no one on the page.
    assert [m["text"] for m in state["dms"][ALEX]] == ["The team account brand is linked"]
    assert all(e == [] for e in state["ephemeral"].values())
    assert len(sb.tiktok.calls_to("token")) == 1  # one code exchange
    assert state["inits"] == 0 and len(sb.tiktok.calls_to("creator_info")) == 1

    second = await hold(page, title="Second teaser")
    assert second["linked"] == ""  # linked once
    assert len(sb.tiktok.calls_to("token")) == 1
    assert second["body"]["upload_key"] != body["upload_key"]


async def test_cancel_in_the_window_sends_nothing_to_tiktok(page, sb):
    answer = await hold(page)
    said = await press(page, "cancel_held", answer)
    assert said["text"] == "Cancelled: \u201cHeld teaser\u201d was never sent to TikTok."
    state = await page.until(lambda s: held_message(s, answer["body"]["ts"])["replies"] and s)
    message = held_message(state, answer["body"]["ts"])
    assert_valid_blocks(message)
    assert "\u201cHeld teaser\u201d was held back and never sent to TikTok." in blocks_text(message)
    assert "<@U0ALEX> cancelled it" in blocks_text(message)
    assert buttons(message) == []
    assert "never sent to TikTok" in blocks_text(message["replies"][0])
    assert state["inits"] == 0 and sb.tiktok.calls_to("init") == []
    row = held_row(sb, answer["body"]["upload_key"])
    assert row["state"] == "cancelled" and row["by_user"] == ALEX and not row["publish_id"]
    (entry,) = audit_of(sb, "cancel_held")
    assert entry["user_id"] == ALEX and entry["outcome"] == "held_back"
    # Pressed again (a second tab): nothing changes.
    again = await press(page, "start_held", answer)
    assert "was already cancelled; nothing was sent to TikTok" in again["text"]
    assert sb.tiktok.calls_to("init") == []


async def test_start_now_makes_it_an_announced_upload_followed_by_webhook(page, sb):
    sb.settle_after_s = 0.3  # TikTok's word on a cancel it accepted
    answer = await hold(page, title="Start me")
    said = await press(page, "start_held", answer, user=SAM)  # sam was granted brand
    (init,) = sb.tiktok.calls_to("init")
    publish_id = init.response["data"]["publish_id"]
    named = f"\u201cStart me\u201d as upload `{publish_id}`"
    assert said["text"] == f"Started: TikTok accepted {named}."
    assert init.body["post_info"]["title"] == "Start me"
    assert init.body["source_info"] == {"source": "PULL_FROM_URL", "video_url": SOURCE}
    state = await page.until(lambda s: held_message(s, answer["body"]["ts"])["replies"] and s)
    message = held_message(state, answer["body"]["ts"])
    assert_valid_blocks(message)
    assert message["text"] == "TikTok upload Start me"
    assert f"Upload `{publish_id}`" in blocks_text(message)
    assert button(message, "cancel_upload")["value"] == publish_id
    said_in_thread = blocks_text(message["replies"][0])
    assert f"<@U0SAM> started it; TikTok accepted {named}" in said_in_thread
    assert state["inits"] == 1
    row = held_row(sb, answer["body"]["upload_key"])
    assert row["state"] == "started" and row["publish_id"] == publish_id
    (entry,) = audit_of(sb, "start_held")
    assert entry["user_id"] == SAM and entry["outcome"] == "ok"
    assert entry["publish_id"] == publish_id
    assert upload(state, publish_id) == {
        "publish_id": publish_id,
        "status": "PROCESSING_DOWNLOAD",
        "fail_reason": "",
        "account": "Brand Social",
        "next_answer": "",
        "stopping": False,
    }
    # From now on it is an announced upload: a best-effort Cancel with brand's token, and
    # TikTok's word by webhook.
    stopping = await page.cancel_answer(publish_id, user=SAM)
    assert "TikTok is stopping" in stopping["text"]
    (cancel,) = sb.tiktok.calls_to("cancel")
    assert sb.tiktok.grant_for(cancel.token).open_id == "open-brand"
    state = await page.until(
        lambda s: (
            "*Cancelled, won't be posted*" in blocks_text(held_message(s, answer["body"]["ts"]))
            and s
        )
    )
    assert upload(state, publish_id)["status"] == "FAILED"
    assert len(sb.tiktok.calls_to("init")) == 1


async def test_someone_not_granted_brand_is_told_and_nothing_starts(page, sb):
    answer = await hold(page)
    said = await press(page, "start_held", answer, user=RILEY)
    assert said["text"] == (
        "Only people granted the team account brand (or admins) may start or cancel this "
        "upload. Nothing changed."
    )
    message = held_message(await page.state(), answer["body"]["ts"])
    assert [b["action_id"] for b in buttons(message)] == ["cancel_held", "start_held"]
    assert sb.tiktok.calls_to("init") == []


@pytest.mark.parametrize(
    ("answer", "headline", "state", "code"),
    [
        (
            "spam_risk_too_many_posts",
            "this account has posted too many times through apps today",
            "refused",
            "spam_risk_too_many_posts",
        ),
        (
            "privacy_level_option_mismatch",
            "the privacy setting asked for isn't one this account offers",
            "refused",
            "privacy_level_option_mismatch",
        ),
        (
            "5xx",
            "TikTok may have started \u201cHeld teaser\u201d: we don't know.",
            "unknown",
            "internal_error",
        ),
    ],
)
async def test_a_scripted_start_answer_is_explained_and_never_retried(
    page, sb, answer, headline, state, code
):
    held = await hold(page)
    result = await page.post("/api/tiktok/init", {"answer": answer})
    assert result == {"ok": True, "answer": answer}
    assert (await page.state())["next_init"] == answer
    await press(page, "start_held", held)
    shown = await page.until(lambda s: held_message(s, held["body"]["ts"])["replies"] and s)
    message = held_message(shown, held["body"]["ts"])
    assert_valid_blocks(message)
    assert headline in blocks_text(message)
    assert buttons(message) == []
    assert shown["next_init"] == "" and shown["inits"] == 1  # spent; one init, no retry
    assert shown["uploads"] == []  # TikTok made no upload
    row = held_row(sb, held["body"]["upload_key"])
    assert row["state"] == state and row["code"] == code and not row["publish_id"]
    (entry,) = audit_of(sb, "start_held")
    assert entry["outcome"] == code and entry["user_id"] == ALEX
    await sb.bot.parts.held_scheduler.next_pass()  # it looked again since: no retry
    assert len(sb.tiktok.calls_to("init")) == 1


async def test_scripting_normal_drops_a_scripted_start_answer(page, sb):
    await page.post("/api/tiktok/init", {"answer": "spam_risk_too_many_posts"})
    await page.post("/api/tiktok/init", {"answer": "5xx"})  # replaces it: one answer waits
    assert sb.tiktok.pending_scripts("init") == 1
    await page.post("/api/tiktok/init", {"answer": "normal"})
    state = await page.state()
    assert state["next_init"] == "" and sb.tiktok.pending_scripts("init") == 0
    values = [a["value"] for a in state["init_answers"]]
    assert values[0] == "normal"
    assert {"spam_risk_too_many_posts", "privacy_level_option_mismatch", "5xx", "hang"} <= set(
        values
    )
    answer = await hold(page)
    said = await press(page, "start_held", answer)
    assert said["text"].startswith("Started: TikTok accepted")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"hold_s": "soon"}, "hold_s must be a number of seconds from 0 to 86400"),
        ({"hold_s": -1}, "hold_s must be a number of seconds from 0 to 86400"),
        ({"account": "nobody"}, "unknown account nobody: no linked team account has that name"),
        ({"source_url": "http://cdn.example.com/t.mp4"}, "source_url must start with https://"),
        (
            {"post": {"title": "x", "privacy_level": "FOLLOWER_OF_CREATOR"}},
            "privacy_level FOLLOWER_OF_CREATOR is not offered by account brand now",
        ),
        ({"video": {"duration_s": 900}}, "may post at most 600 s"),
        ({"post": "x"}, "post is required"),
    ],
)
async def test_a_hold_the_bot_refuses_is_passed_on(page, sb, fields, error):
    result = await page.post("/api/hold", hold_body(**fields))
    assert result["status"] == 400 and error in result["body"]["error"], result
    state = await page.state()
    assert state["channels"][0]["messages"] == [] and state["inits"] == 0
    # Only a hold with brand links it; one naming another account links nothing.
    assert result["linked"] == ("" if "account" in fields else "brand")


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/hold", "nope", 400),
        ("/api/hold", "[1, 2]", 400),
        ("/api/hold", "[" * 5000, 400),
        ("/api/command", "[" * 5000, 400),
        ("/api/tiktok/init", {}, 400),
        ("/api/tiktok/init", {"answer": "ok_posted"}, 400),
        ("/api/tiktok/init", {"answer": ["5xx"]}, 400),
    ],
)
async def test_bad_hold_and_init_requests_are_400(page, sb, path, body, status):
    answer = await page.post(path, body, expect=status)
    assert answer["error"]
    assert sb.tiktok.pending_scripts("init") == 0
