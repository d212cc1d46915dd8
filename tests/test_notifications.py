"""POST /notifications: announcing an upload, its answers, warnings and escaping."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot import messages
from sandbox.fakes.server import Reply
from storage.announcements import Announcement
from tests.conftest import NOTIFY, buttons, db_rows, notify, text_of
from tests.upload_helpers import (
    CLEAN_VIDEO,
    HOSTILE,
    PID,
    WARNING_HEAD,
    announce,
    assert_escaped,
    stored,
    thread_posts,
    top_posts,
    updates,
    wait_until,
    warning_lines,
)


async def test_announce_then_click_cancels_updates_and_threads(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    status, body = await notify(h, {"publish_id": PID, "channel": "C1", "title": "Spring teaser"})
    assert status == 201
    (post,) = [c for c in h.slack.calls_to("chat.postMessage") if c.params["channel"] == "C1"]
    assert "Spring teaser" in text_of(post.params)
    assert [b["action_id"] for b in buttons(post.params)] == ["cancel_upload"]
    answer = await h.click("cancel_upload", PID)
    assert "TikTok is stopping \u201cSpring teaser\u201d." in text_of(answer)
    assert len(h.tiktok.calls_to("cancel")) == 1
    update = (await h.slack.wait_for_call("chat.update"))[0]
    assert update.params["ts"] == body["ts"]
    assert buttons(update.params) == []
    assert "*Stopping* \u2014 <@U1> asked TikTok to cancel it" in text_of(update.params)
    replies = [c for c in h.slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert replies and replies[0].params["thread_ts"] == body["ts"]
    again_status, again = await notify(h, {"publish_id": PID, "channel": "C1"})
    assert (again_status, again) == (200, body)


# --- POST /notifications: status codes -------------------------------------------------------


async def test_first_announcement_is_201_with_channel_and_ts_and_stored(hn):
    h = hn
    status, body = await notify(h, {"publish_id": PID, "channel": "C1"})
    assert status == 201
    assert set(body) == {"channel", "ts"}
    (post,) = top_posts(h)
    assert body["channel"] == "C1" and ("C1", body["ts"]) in h.slack.messages
    assert post.params["unfurl_links"] in (False, "false", "0", 0)
    assert post.params["unfurl_media"] in (False, "false", "0", 0)
    (button,) = buttons(post.params)
    assert button["action_id"] == "cancel_upload" and button["value"] == PID
    assert button.get("confirm"), "the Cancel upload button needs a confirm dialog"
    row = stored(h)
    assert row is not None and (row["channel"], row["ts"]) == ("C1", body["ts"])


async def test_full_body_shows_title_account_source_and_status(hn):
    h = hn
    body = {
        "publish_id": PID,
        "channel": "C1",
        "title": "Spring teaser",
        "account": "brand",
        "source_url": "https://cdn.example.com/teaser.mp4",
        "video": CLEAN_VIDEO,
    }
    status, _ = await notify(h, body)
    assert status == 201
    text = text_of(top_posts(h)[0].params)
    assert "Spring teaser" in text
    assert "brand" in text
    assert "https://cdn.example.com/teaser.mp4" in text
    assert "Status" in text
    assert WARNING_HEAD not in text


async def test_same_publish_id_again_is_200_with_the_first_message_and_no_second_post(hn):
    h = hn
    first = await announce(h, title="One")
    status, again = await notify(h, {"publish_id": PID, "channel": "C2", "title": "Two"})
    assert (status, again) == (200, first)
    assert len(h.slack.calls_to("chat.postMessage")) == 1


async def test_concurrent_duplicate_posts_make_exactly_one_slack_post(hn):
    h = hn
    ok = {"ok": True, "channel": "C1", "ts": "1700000000.000999"}
    h.slack.script("chat.postMessage", Reply(delay=0.3, json=ok))
    results = await asyncio.gather(
        *(notify(h, {"publish_id": PID, "channel": "C1"}) for _ in range(5))
    )
    assert sorted(s for s, _ in results) == [200, 200, 200, 200, 201]
    assert {json.dumps(b, sort_keys=True) for _, b in results} == {
        json.dumps({"channel": "C1", "ts": "1700000000.000999"}, sort_keys=True)
    }
    assert len(h.slack.calls_to("chat.postMessage")) == 1
    assert len(db_rows(h, "SELECT * FROM announcements")) == 1


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "json"),
        (b"\xff\xfe garbage", "json"),
        (b"[1, 2]", "object"),
        (json.dumps({"channel": "C1"}), "publish_id"),
        (json.dumps({"publish_id": PID}), "channel"),
        (json.dumps({"publish_id": 123, "channel": "C1"}), "publish_id"),
        (json.dumps({"publish_id": "", "channel": "C1"}), "publish_id"),
        (json.dumps({"publish_id": PID, "channel": ["C1"]}), "channel"),
        (json.dumps({"publish_id": PID, "channel": "C1", "title": "t" * 201}), "title"),
        (json.dumps({"publish_id": PID, "channel": "C1", "title": 5}), "title"),
        (json.dumps({"publish_id": "v" * 257, "channel": "C1"}), "publish_id"),
        (json.dumps({"publish_id": "has spaces in it", "channel": "C1"}), "publish_id"),
        (json.dumps({"publish_id": "<!channel>", "channel": "C1"}), "publish_id"),
        (json.dumps({"publish_id": PID, "channel": "C1", "account": HOSTILE}), "account"),
        (json.dumps({"publish_id": PID, "channel": "C 1"}), "channel"),
        (json.dumps({"publish_id": PID, "channel": "C1", "video": {"fps": "30"}}), "video.fps"),
        (json.dumps({"publish_id": PID, "channel": "C1", "video": {"width": True}}), "video.width"),
        (json.dumps({"publish_id": PID, "channel": "C1", "video": [1]}), "video"),
        (
            json.dumps({"publish_id": PID, "channel": "C1", "video": {"size_bytes": -1}}),
            "video.size_bytes",
        ),
        (
            json.dumps({"publish_id": PID, "channel": "C1", "source_url": "ftp://x/a.mp4"}),
            "source_url",
        ),
        (
            json.dumps({"publish_id": PID, "channel": "C1", "source_url": "javascript:alert(1)"}),
            "source_url",
        ),
    ],
)
async def test_bad_body_is_400_naming_the_problem_and_posts_nothing(hn, raw, field):
    h = hn
    status, body = await notify(h, None, raw=raw)
    assert status == 400
    assert set(body) == {"error"}
    assert field in body["error"].lower()
    assert h.slack.calls_to("chat.postMessage") == []
    assert db_rows(h, "SELECT * FROM announcements") == []


async def test_title_of_exactly_200_and_publish_id_of_256_are_accepted(hn):
    h = hn
    long_id = "v" * 256
    status, _ = await notify(h, {"publish_id": long_id, "channel": "C1", "title": "t" * 200})
    assert status == 201


@pytest.mark.parametrize("token", ["wrong-token", "", NOTIFY + "x", "notify-secret-toke"])
async def test_wrong_or_missing_token_is_401_and_posts_nothing(hn, token):
    h = hn
    status, body = await notify(h, {"publish_id": PID, "channel": "C1"}, token=token)
    assert status == 401
    assert "error" in body
    assert h.slack.calls_to("chat.postMessage") == []


async def test_token_without_bearer_prefix_is_401(hn):
    h = hn
    async with h.session.post(
        h.url + "/notifications",
        data=json.dumps({"publish_id": PID, "channel": "C1"}),
        headers={"Authorization": NOTIFY},
    ) as resp:
        assert resp.status == 401


async def test_route_answers_404_when_notify_token_is_unset(h):
    status, body = await notify(h, {"publish_id": PID, "channel": "C1"})
    assert status == 404
    assert h.slack.calls_to("chat.postMessage") == []


async def test_body_over_64kb_is_413_and_posts_nothing(hn):
    h = hn
    raw = json.dumps({"publish_id": PID, "channel": "C1", "pad": "x" * (65 * 1024)})
    status, body = await notify(h, None, raw=raw)
    assert status == 413
    assert "error" in body
    assert h.slack.calls_to("chat.postMessage") == []


async def _slow_chunks(data: bytes, size: int = 8 * 1024, pause: float = 0.02):
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(pause)


async def _post_chunked(h, data: bytes) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {NOTIFY}", "Content-Type": "application/json"}
    async with h.session.post(
        h.url + "/notifications", data=_slow_chunks(data), headers=headers
    ) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_a_valid_body_under_64kb_arriving_in_pieces_is_accepted(hn):
    # A pipeline's HTTP client may stream the body (chunked); the route must read all of it.
    h = hn
    data = json.dumps({"publish_id": PID, "channel": "C1", "pad": "x" * (40 * 1024)}).encode()
    status, body = await _post_chunked(h, data)
    assert status == 201, body


async def test_a_body_over_64kb_arriving_in_pieces_is_413(hn):
    h = hn
    data = json.dumps({"publish_id": PID, "channel": "C1", "pad": "x" * (80 * 1024)}).encode()
    status, body = await _post_chunked(h, data)
    assert status == 413, body
    assert h.slack.calls_to("chat.postMessage") == []


async def test_channel_not_found_is_404_with_invite_advice_and_nothing_stored(hn):
    h = hn
    h.slack.fail("chat.postMessage", error="channel_not_found")
    status, body = await notify(h, {"publish_id": PID, "channel": "C404"})
    assert status == 404
    assert "invite" in body["error"].lower() and "C404" in body["error"]
    assert stored(h) is None
    status, again = await notify(h, {"publish_id": PID, "channel": "C404"})
    assert status == 201
    assert stored(h)["ts"] == again["ts"]


async def test_not_in_channel_is_403_with_invite_advice_and_nothing_stored(hn):
    h = hn
    h.slack.fail("chat.postMessage", error="not_in_channel")
    status, body = await notify(h, {"publish_id": PID, "channel": "C2"})
    assert status == 403
    assert "invite" in body["error"].lower()
    assert stored(h) is None


async def test_slack_server_errors_are_502_and_a_later_retry_posts(hn):
    h = hn
    h.slack.fail_http("chat.postMessage", status=500, times=3)
    status, body = await notify(h, {"publish_id": PID, "channel": "C1"})
    assert status == 502
    assert "error" in body
    assert stored(h) is None
    status, _ = await notify(h, {"publish_id": PID, "channel": "C1"})
    assert status == 201


async def test_slack_unreachable_at_start_and_at_announce_is_502_json(h):
    h.slack.fail_http("auth.test", status=502)  # a proxy's bad gateway: not retried
    await h.restart(notify_token=NOTIFY)
    h.slack.fail_http("auth.test", status=502)
    async with h.session.post(
        h.url + "/notifications",
        data=json.dumps({"publish_id": PID, "channel": "C1"}),
        headers={"Authorization": f"Bearer {NOTIFY}"},
    ) as resp:
        assert resp.status == 502
        assert "error" in await resp.json(content_type=None)
    assert stored(h) is None


async def test_no_per_upload_lock_is_left_after_a_failed_or_a_good_announcement(h):
    await h.restart(notify_token=NOTIFY)
    announcements = h.bot.parts.announcements
    h.slack.fail("chat.postMessage", error="channel_not_found")
    status, _ = await notify(h, {"publish_id": PID, "channel": "C404"})
    assert status == 404
    assert len(announcements.locks) == 0  # was one entry per failed publish_id, forever
    results = await asyncio.gather(
        *[notify(h, {"publish_id": PID, "channel": "C1"}) for _ in range(5)]
    )
    assert sorted(s for s, _ in results) == [200, 200, 200, 200, 201]
    assert len(h.slack.calls_to("chat.postMessage")) == 2  # the refused one and one post
    assert len(announcements.locks) == 0


# --- restriction warnings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("video", "words"),
    [
        ({"format": "mkv"}, "Format mkv"),
        ({"format": "avi"}, "Format avi"),
        ({"codec": "prores"}, "Codec prores"),
        ({"fps": 22}, "Frame rate 22"),
        ({"fps": 22.9}, "Frame rate 22.9"),
        ({"fps": 61}, "Frame rate 61"),
        ({"width": 359}, "Width 359"),
        ({"width": 4097}, "Width 4097"),
        ({"height": 200}, "Height 200"),
        ({"height": 5000}, "Height 5000"),
        ({"duration_s": 601}, "Length"),
        ({"size_bytes": 5 * 1024**3}, "Size"),
    ],
)
async def test_each_broken_rule_is_one_warning_line(hn, video, words):
    h = hn
    await announce(h, video={**CLEAN_VIDEO, **video})
    lines = warning_lines(top_posts(h)[0].params)
    assert len(lines) == 1, lines
    assert words in lines[0]
    assert "TikTok" in lines[0]


async def test_clean_video_and_boundary_values_have_no_warning_section(hn):
    h = hn
    edges = [
        CLEAN_VIDEO,
        {"format": "MP4", "codec": "H.264", "fps": 23, "width": 360, "height": 4096},
        {"format": "mov", "codec": "hevc", "fps": 60, "duration_s": 600},
        {"format": "webm", "codec": "vp9", "size_bytes": 4 * 1024**3},
        {"format": "video/mp4", "codec": "vp8"},
        {},
    ]
    for n, video in enumerate(edges):
        await announce(h, publish_id=f"v_pub_url~v2.{n}", video=video)
    for post in top_posts(h):
        assert WARNING_HEAD not in text_of(post.params), post.params["blocks"]


async def test_mime_type_of_mov_is_not_flagged(hn):
    # The checker strips "video/" so it means to accept MIME types; MOV's is video/quicktime.
    h = hn
    await announce(h, video={**CLEAN_VIDEO, "format": "video/quicktime"})
    assert warning_lines(top_posts(h)[0].params) == []


async def test_several_broken_rules_give_one_line_each(hn):
    h = hn
    video = {
        "format": "mkv",
        "codec": "prores",
        "fps": 120,
        "width": 100,
        "height": 8000,
        "duration_s": 900,
        "size_bytes": 6 * 1024**3,
    }
    await announce(h, video=video)
    lines = warning_lines(top_posts(h)[0].params)
    assert len(lines) == 7, lines
    for words in ("Format", "Codec", "Frame rate", "Width", "Height", "Length", "Size"):
        assert sum(words in line for line in lines) == 1, (words, lines)


async def test_warnings_are_escaped(hn):
    h = hn
    await announce(h, video={"format": "<!channel>", "codec": "<https://x|y>"})
    post = top_posts(h)[0].params
    assert len(warning_lines(post)) == 2
    assert_escaped(post)


async def test_a_restriction_warning_heading_agrees_with_its_bullets(hn):
    await announce(hn, title="Teaser", video={"format": "avi", "fps": 120})
    (post,) = hn.slack.calls_to("chat.postMessage")
    lines = warning_lines(post.params)
    assert lines, post.params
    text = text_of(post.params)
    assert "TikTok will likely reject this upload" in text
    assert not [line for line in lines if "will fail" in line], lines


# --- escaping --------------------------------------------------------------------------------


async def test_hostile_title_and_source_url_are_escaped_in_the_message_and_thread(hn):
    # The button's confirm dialog has its own test below.
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    source = "https://cdn.example.com/a.mp4?x=<!channel>&y=<https://x|y>"
    first = await announce(h, title=HOSTILE, source_url=source, account="brand")
    post = top_posts(h)[0].params
    assert_escaped(post, skip=("confirm",))
    assert "&lt;!channel&gt;" in text_of(post)
    await h.click("cancel_upload", PID)
    await wait_until(lambda: thread_posts(h, first["ts"]) and updates(h, first["ts"]))
    assert_escaped(thread_posts(h, first["ts"])[0].params)
    assert_escaped(updates(h, first["ts"])[-1].params)


async def test_confirm_dialog_of_the_button_escapes_the_title(hn):
    h = hn
    await announce(h, title=HOSTILE)
    (button,) = buttons(top_posts(h)[0].params)
    confirm_text = button["confirm"]["text"]
    if confirm_text.get("type") == "mrkdwn":
        assert "<!channel>" not in confirm_text["text"]
        assert "<https://x|y>" not in confirm_text["text"]


# --- what the announcement and its thread say -------------------------------------------------


def test_internal_fail_reason_in_a_thread_points_at_the_upload_id_not_a_missing_log_id():
    a = Announcement(PID, "T1", "C1", "1.2", status="FAILED", fail_reason="internal", final=True)
    text = text_of(messages.final_state_message(messages.AnnouncedView.of(a)))
    assert "log ID below" not in text
    assert f"quoting the upload ID `{PID}`" in text


def test_the_title_is_named_once_in_an_announcement():
    a = Announcement(PID, "T1", "C1", "1.2", title="Spring teaser", status="PROCESSING_DOWNLOAD")
    blocks = messages.announcement_message(messages.AnnouncedView.of(a))["blocks"]
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert text.count("Spring teaser") == 1


def test_a_cancelled_upload_says_failed_is_how_tiktok_reports_a_cancel():
    a = Announcement(
        PID,
        "T1",
        "C1",
        "1.2",
        status="FAILED",
        fail_reason="publish_cancelled",
        final=True,
        cancel_by="U1",
        cancel_at=1_700_000_000,
        final_at=1_700_000_060,
    )
    text = text_of(messages.final_state_message(messages.AnnouncedView.of(a)))
    assert "cancelled, so it won't be posted" in text
    assert "(how TikTok reports a cancelled upload)" in text
