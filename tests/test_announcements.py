"""POST /notifications, the Cancel upload button, threads, and following to a final state."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import pytest

from sandbox.fakes.server import Reply
from tests.cli_env import env_for, run_bot_cli
from tests.conftest import NOTIFY, buttons, db_execute, db_rows, notify, text_of

PID = "v_pub_url~v2.777"


@pytest.fixture
async def hn(h):
    await h.restart(notify_token=NOTIFY)
    return h


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


# --- helpers ---------------------------------------------------------------------------------

PID2 = "v_pub_url~v2.888"
PID3 = "v_pub_url~v2.999"
HOSTILE = "<!channel> & <https://x|y>"
CLEAN_VIDEO = {
    "format": "mp4",
    "codec": "h264",
    "fps": 30,
    "width": 1080,
    "height": 1920,
    "duration_s": 42.5,
    "size_bytes": 73400320,
}
WARNING_HEAD = "TikTok will likely reject this upload"


def stored(h, publish_id: str = PID) -> dict | None:
    found = db_rows(h, "SELECT * FROM announcements WHERE publish_id = ?", publish_id)
    return found[0] if found else None


def cancel_rows(h) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] == "cancel"]


def make_due(h, publish_id: str = PID) -> None:
    db_execute(
        h,
        "UPDATE announcements SET next_poll_at = ? WHERE publish_id = ?",
        time.time() - 1,
        publish_id,
    )


def top_posts(h, channel: str = "C1") -> list:
    return [
        c
        for c in h.slack.calls_to("chat.postMessage")
        if c.params.get("channel") == channel and not c.params.get("thread_ts")
    ]


def thread_posts(h, ts: str | None = None) -> list:
    return [
        c
        for c in h.slack.calls_to("chat.postMessage")
        if c.params.get("thread_ts") and (ts is None or c.params["thread_ts"] == ts)
    ]


def updates(h, ts: str) -> list:
    return [c for c in h.slack.calls_to("chat.update") if c.params.get("ts") == ts]


def all_texts(node, skip: tuple[str, ...] = ()) -> list[str]:
    """Every string under a "text" key anywhere in a message (sections, confirms, fallback)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in skip:
                continue
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(all_texts(value, skip))
    elif isinstance(node, list):
        for item in node:
            found.extend(all_texts(item, skip))
    return found


def assert_escaped(message: dict, skip: tuple[str, ...] = ()) -> None:
    for text in all_texts(message, skip):
        assert "<!channel>" not in text, text
        assert "<https://x|y>" not in text, text
        assert "& " not in text.replace("&amp; ", ""), text


def warning_lines(message: dict) -> list[str]:
    for text in all_texts(message.get("blocks", [])):
        if WARNING_HEAD in text:
            return [line for line in text.splitlines() if line.startswith("\u2022")]
    return []


def accessory_buttons(message: dict) -> list[dict]:
    return [
        b["accessory"]
        for b in message.get("blocks", [])
        if isinstance(b.get("accessory"), dict) and b["accessory"].get("type") == "button"
    ]


async def wait_until(predicate, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def announce(h, publish_id: str = PID, channel: str = "C1", **fields) -> dict:
    status, body = await notify(h, {"publish_id": publish_id, "channel": channel, **fields})
    assert status == 201, body
    return body


async def webhook(h, body: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["TikTok-Signature"] = signature
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        status = resp.status
    await h.bot.services.webhooks.drain()
    return status


async def signed_webhook(h, event: str, content: dict, user_openid: str = "open-1") -> int:
    body = h.tiktok.webhook_body(event, content, user_openid)
    return await webhook(h, body, h.tiktok.sign_webhook(body))


async def settle(h) -> None:
    """Wait for in-flight cancels, their listener posts and webhook work (real shutdown path)."""
    await h.bot.services.cancels.drain()
    await h.bot.services.webhooks.drain()


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


# --- the Cancel upload button ----------------------------------------------------------------


async def test_click_threads_who_when_outcome_and_log_id(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h, title="Spring teaser")
    answer = await h.click("cancel_upload", PID)
    assert answer.get("response_type") == "ephemeral"
    await wait_until(lambda: thread_posts(h, first["ts"]) and updates(h, first["ts"]))
    (reply,) = thread_posts(h, first["ts"])
    assert reply.params["channel"] == "C1"
    text = text_of(reply.params)
    (row,) = cancel_rows(h)
    assert row["source"] == "button" and row["outcome"] == "ok" and row["state"] == "finished"
    assert "<@U1>" in text
    assert "<!date^" in text
    assert "TikTok is stopping \u201cSpring teaser\u201d." in text
    assert "*Still running:* stopping \u2014 we'll confirm here when TikTok does" in text
    assert row["log_id"] and row["log_id"] in text
    update = updates(h, first["ts"])[-1]
    assert buttons(update.params) == []
    assert "*Stopping* \u2014 <@U1> asked TikTok to cancel it <!date^" in text_of(update.params)
    assert "we'll confirm here." in text_of(update.params)
    row = stored(h)
    assert (row["final"], row["cancel_by"]) == (0, "U1"), "TikTok's ok is not its final word"


async def test_failed_click_keeps_the_button_and_tells_the_clicker(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    h.tiktok.script_error("cancel", 500, "internal_error", times=3)
    answer = await h.click("cancel_upload", PID)
    assert answer.get("response_type") == "ephemeral"
    assert "Couldn't cancel" in text_of(answer)
    await wait_until(lambda: updates(h, first["ts"]) and thread_posts(h, first["ts"]))
    update = updates(h, first["ts"])[-1].params
    assert [b["action_id"] for b in buttons(update)] == ["cancel_upload"]
    assert "<@U1>" in text_of(update) and "Couldn't cancel" in text_of(update)
    assert "Couldn't cancel" in text_of(thread_posts(h, first["ts"])[0].params)
    assert h.last_audit()["outcome"] == "internal_error"
    assert stored(h)["final"] == 0


async def test_click_with_an_account_that_did_not_start_it_keeps_the_button(hn):
    h = hn
    await h.link()
    h.tiktok.add_user("open-2", "Other")
    h.tiktok.add_upload(PID, open_id="open-2")
    first = await announce(h)
    answer = await h.click("cancel_upload", PID)
    assert "didn't start this upload" in text_of(answer)
    await wait_until(lambda: updates(h, first["ts"]))
    update = updates(h, first["ts"])[-1].params
    assert [b["action_id"] for b in buttons(update)] == ["cancel_upload"]
    assert h.last_audit()["outcome"] == "token_not_authorized_for_specified_publish_id"


async def test_publish_not_cancellable_removes_the_button(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID, cancellable=False)
    first = await announce(h)
    answer = await h.click("cancel_upload", PID)
    assert "already finished" in text_of(answer)
    await wait_until(lambda: updates(h, first["ts"]))
    assert buttons(updates(h, first["ts"])[0].params) == []
    await settle(h)
    for update in updates(h, first["ts"]):
        assert buttons(update.params) == []


async def test_two_concurrent_clicks_make_one_tiktok_call(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    ok = {"error": {"code": "ok", "message": "", "log_id": "L1"}}
    h.tiktok.script("cancel", Reply(delay=0.5, json=ok))
    answers = await asyncio.gather(
        h.click("cancel_upload", PID), h.click("cancel_upload", PID, user_id="U2")
    )
    assert len(h.tiktok.calls_to("cancel")) == 1
    texts = sorted(text_of(a) for a in answers)
    assert any("under way" in t for t in texts)
    assert any("TikTok is stopping" in t for t in texts)
    await settle(h)
    assert sorted(r["outcome"] for r in cancel_rows(h)) == ["in_flight", "ok"]
    assert len(thread_posts(h, first["ts"])) >= 1
    assert buttons(updates(h, first["ts"])[-1].params) == []


async def test_click_and_command_together_make_one_tiktok_call(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    await announce(h)
    ok = {"error": {"code": "ok", "message": "", "log_id": "L1"}}
    h.tiktok.script("cancel", Reply(delay=0.5, json=ok))
    await asyncio.gather(h.click("cancel_upload", PID), h.command(PID))
    assert len(h.tiktok.calls_to("cancel")) == 1
    await settle(h)
    assert sorted(r["outcome"] for r in cancel_rows(h)) == ["in_flight", "ok"]


async def test_command_on_an_announced_upload_threads_and_updates_too(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    await h.command(f"{PID} wrong video")
    await wait_until(lambda: thread_posts(h, first["ts"]) and updates(h, first["ts"]))
    reply = text_of(thread_posts(h, first["ts"])[0].params)
    assert "wrong video" in reply and "<@U1>" in reply
    assert buttons(updates(h, first["ts"])[-1].params) == []


async def test_slack_failure_on_the_thread_reply_keeps_the_audit_row_finished(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    h.slack.fail("chat.postMessage", error="internal_error")
    answer = await h.click("cancel_upload", PID)
    assert "TikTok is stopping" in text_of(answer)
    await settle(h)
    (row,) = cancel_rows(h)
    assert (row["state"], row["outcome"], row["publish_id"]) == ("finished", "ok", PID)
    assert row["finished_at"]
    assert (stored(h)["final"], stored(h)["cancel_by"]) == (0, "U1")
    await wait_until(lambda: updates(h, first["ts"]), what="the announcement update")


async def test_slack_5xx_on_the_thread_reply_still_updates_the_announcement(hn):
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    h.slack.fail_http("chat.postMessage", status=502)  # non-JSON, as a proxy answers
    answer = await h.click("cancel_upload", PID)
    assert "TikTok is stopping" in text_of(answer)
    await settle(h)
    (row,) = cancel_rows(h)
    assert (row["state"], row["outcome"]) == ("finished", "ok")
    assert updates(h, first["ts"]), "the announcement kept its Cancel button after a cancel"
    assert buttons(updates(h, first["ts"])[-1].params) == []


async def test_unannounced_upload_goes_to_the_audit_channel_not_a_thread(h):
    await h.restart(notify_token=NOTIFY, audit_channel="CAUDIT")
    await h.link()
    h.tiktok.add_upload(PID2)
    await h.command(PID2)
    await wait_until(lambda: top_posts(h, "CAUDIT"), what="audit channel post")
    (post,) = top_posts(h, "CAUDIT")
    assert not post.params.get("thread_ts")
    assert PID2 in text_of(post.params) and "<@U1>" in text_of(post.params)
    assert thread_posts(h) == []
    assert h.slack.calls_to("chat.update") == []


async def test_announced_upload_with_audit_channel_goes_to_the_thread_only(h):
    await h.restart(notify_token=NOTIFY, audit_channel="CAUDIT")
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    await h.click("cancel_upload", PID)
    await settle(h)
    assert len(thread_posts(h, first["ts"])) == 1
    assert top_posts(h, "CAUDIT") == []


# --- webhooks --------------------------------------------------------------------------------


async def test_failed_webhook_updates_the_announcement_and_explains_the_reason(hn):
    h = hn
    first = await announce(h, title="Spring teaser")
    content = {"publish_id": PID, "reason": "frame_rate_check_failed", "publish_type": "DIRECT"}
    assert await signed_webhook(h, "post.publish.failed", content) == 200
    await wait_until(lambda: thread_posts(h, first["ts"]))
    update = updates(h, first["ts"])[-1].params
    assert buttons(update) == []
    assert "failed" in text_of(update).lower()
    (reply,) = thread_posts(h, first["ts"])
    text = text_of(reply.params)
    assert "frame rate" in text.lower() and "23 and 60" in text
    row = stored(h)
    assert (row["status"], row["fail_reason"], row["final"]) == (
        "FAILED",
        "frame_rate_check_failed",
        1,
    )
    assert row["next_poll_at"] is None


@pytest.mark.parametrize(
    ("event", "content", "status", "words"),
    [
        ("post.publish.complete", {}, "PUBLISH_COMPLETE", "posted"),
        (
            "post.publish.inbox_delivered",
            {"publish_type": "INBOX_SHARE"},
            "SEND_TO_USER_INBOX",
            "inbox",
        ),
        (
            "post.publish.publicly_available",
            {"post_id": 7312345678901234567},
            "PUBLISH_COMPLETE",
            "posted",
        ),
    ],
)
async def test_final_webhook_events_remove_the_button_and_say_so(hn, event, content, status, words):
    h = hn
    first = await announce(h)
    assert await signed_webhook(h, event, {"publish_id": PID, **content}) == 200
    await wait_until(lambda: thread_posts(h, first["ts"]))
    assert buttons(updates(h, first["ts"])[-1].params) == []
    assert words in text_of(thread_posts(h, first["ts"])[0].params).lower()
    row = stored(h)
    assert (row["status"], row["final"]) == (status, 1)
    if "post_id" in content:
        assert str(content["post_id"]) in row["post_ids"]


async def test_complete_then_publicly_available_threads_the_final_state_once(hn):
    h = hn
    first = await announce(h)
    await signed_webhook(h, "post.publish.complete", {"publish_id": PID})
    await signed_webhook(h, "post.publish.publicly_available", {"publish_id": PID, "post_id": 5})
    assert len(thread_posts(h, first["ts"])) == 1
    assert json.loads(stored(h)["post_ids"]) == ["5"]


async def test_webhook_with_a_bad_signature_is_401_and_changes_nothing(hn):
    h = hn
    await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    t = int(time.time())
    forged = f"t={t},s=" + hmac.new(b"wrong", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    calls = len(h.slack.calls)
    assert await webhook(h, body, forged) == 401
    assert await webhook(h, body + b" ", h.tiktok.sign_webhook(body)) == 401
    assert await webhook(h, body, "garbage") == 401
    assert len(h.slack.calls) == calls
    assert stored(h)["status"] == ""


async def test_webhook_with_a_non_ascii_signature_is_401(hn):
    h = hn
    await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    header = f"t={int(time.time())},s=\u00e9\u00e9"
    assert await webhook(h, body, header) == 401
    assert stored(h)["final"] == 0


async def test_slack_5xx_on_the_update_still_threads_the_failure_reason(hn):
    h = hn
    first = await announce(h)
    h.slack.fail_http("chat.update", status=502)  # non-JSON, as a proxy answers
    content = {"publish_id": PID, "reason": "picture_size_check_failed"}
    assert await signed_webhook(h, "post.publish.failed", content) == 200
    assert stored(h)["final"] == 1
    posts = thread_posts(h, first["ts"])
    assert posts, "the failure reason was never explained in the thread"
    assert "picture size" in text_of(posts[0].params)


async def test_webhook_without_signature_header_is_401(hn):
    h = hn
    await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    assert await webhook(h, body, None) == 401
    assert stored(h)["final"] == 0


async def test_webhook_with_a_stale_timestamp_is_401(hn):
    h = hn
    await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    stale = h.tiktok.sign_webhook(body, t=int(time.time()) - 360)
    assert await webhook(h, body, stale) == 401
    assert stored(h)["final"] == 0
    fresh = h.tiktok.sign_webhook(body, t=int(time.time()) - 60)
    assert await webhook(h, body, fresh) == 200
    assert stored(h)["final"] == 1


async def test_unknown_webhook_event_is_200_and_makes_no_slack_call(hn):
    h = hn
    await announce(h)
    calls = len(h.slack.calls)
    assert await signed_webhook(h, "video.something.new", {"publish_id": PID}) == 200
    assert len(h.slack.calls) == calls
    assert stored(h)["status"] == ""


async def test_webhook_for_an_upload_we_did_not_announce_is_200_and_quiet(hn):
    h = hn
    calls = len(h.slack.calls)
    assert await signed_webhook(h, "post.publish.complete", {"publish_id": PID2}) == 200
    assert len(h.slack.calls) == calls


async def test_the_same_delivery_twice_posts_once(hn):
    h = hn
    first = await announce(h)
    body = h.tiktok.webhook_body(
        "post.publish.failed", {"publish_id": PID, "reason": "video_pull_failed"}
    )
    assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200
    assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200
    assert len(thread_posts(h, first["ts"])) == 1
    assert len(updates(h, first["ts"])) == 1


async def test_the_same_delivery_twice_at_once_posts_once(hn):
    h = hn
    first = await announce(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    statuses = await asyncio.gather(
        webhook(h, body, h.tiktok.sign_webhook(body)),
        webhook(h, body, h.tiktok.sign_webhook(body)),
    )
    assert statuses == [200, 200]
    await settle(h)
    assert len(thread_posts(h, first["ts"])) == 1
    assert len(updates(h, first["ts"])) == 1


async def test_tiktoks_publish_cancelled_event_confirms_a_cancel_once(hn):
    # TikTok's ok was a promise to try; its publish_cancelled event is the news, said once.
    h = hn
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    await h.click("cancel_upload", PID)
    await settle(h)
    posts = len(thread_posts(h, first["ts"]))
    content = {"publish_id": PID, "reason": "publish_cancelled"}
    assert await signed_webhook(h, "post.publish.failed", content) == 200
    assert len(thread_posts(h, first["ts"])) == posts + 1
    assert await signed_webhook(h, "post.publish.failed", {**content, "publish_type": "X"}) == 200
    assert len(thread_posts(h, first["ts"])) == posts + 1


async def test_authorization_removed_forgets_the_link(hn):
    h = hn
    await h.link()
    assert "Brand Social" in text_of(await h.command("whoami"))
    assert await signed_webhook(h, "authorization.removed", {"reason": 1}, "open-1") == 200
    assert db_rows(h, "SELECT * FROM links WHERE open_id = ?", "open-1") == []
    whoami = text_of(await h.command("whoami"))
    assert "haven't linked" not in whoami
    assert "stopped working" in whoami and "TikTok says access was removed" in whoami


async def test_authorization_removed_for_another_open_id_keeps_the_link(hn):
    h = hn
    await h.link()
    assert await signed_webhook(h, "authorization.removed", {"reason": 1}, "open-9") == 200
    assert len(db_rows(h, "SELECT * FROM links WHERE open_id = ?", "open-1")) == 1


# --- polling ---------------------------------------------------------------------------------


async def _announce_with_a_poll_link(h) -> dict:
    """Announce PID and leave U1 as its last actor (a cancel TikTok failed), so polls can run."""
    await h.link()
    h.tiktok.add_upload(PID)
    first = await announce(h)
    await asyncio.sleep(0.2)  # let the poller take the wake-up first (see the shutdown test)
    await h.bot.services.poller.stop()  # drive polls by hand: no timing races
    h.tiktok.script_error("cancel", 500, "internal_error", times=3)
    await h.command(PID)
    await settle(h)
    return first


async def test_polling_follows_download_then_failure_and_stops(hn):
    h = hn
    first = await _announce_with_a_poll_link(h)
    poller = h.bot.services.poller
    threads_before = len(thread_posts(h, first["ts"]))
    make_due(h)
    assert await poller.poll_due() == 1
    row = stored(h)
    assert row["status"] == "PROCESSING_DOWNLOAD" and row["final"] == 0
    assert row["next_poll_at"] > time.time() and row["poll_count"] == 1
    assert "downloading" in text_of(updates(h, first["ts"])[-1].params)
    assert len(thread_posts(h, first["ts"])) == threads_before

    h.tiktok.set_status(PID, "FAILED", "frame_rate_check_failed")
    make_due(h)
    assert await poller.poll_due() == 1
    row = stored(h)
    assert (row["status"], row["fail_reason"], row["final"]) == (
        "FAILED",
        "frame_rate_check_failed",
        1,
    )
    assert row["next_poll_at"] is None
    reply = thread_posts(h, first["ts"])[-1]
    assert "frame rate" in text_of(reply.params).lower()
    assert buttons(updates(h, first["ts"])[-1].params) == []

    fetches = len(h.tiktok.calls_to("status"))
    db_execute(h, "UPDATE announcements SET next_poll_at = ?", time.time() - 1)
    assert await poller.poll_due() == 0
    assert len(h.tiktok.calls_to("status")) == fetches


async def test_polling_uses_the_announcements_team_account(hn):
    h = hn
    h.slack.set_user("UADMIN", is_admin=True)
    await h.link_team("brand", admin="UADMIN", open_id="open-brand")
    h.tiktok.add_upload(PID, open_id="open-brand", status="SEND_TO_USER_INBOX")
    first = await announce(h, account="brand")
    await asyncio.sleep(0.2)  # let the poller take the wake-up first
    await h.bot.services.poller.stop()
    make_due(h)
    assert await h.bot.services.poller.poll_due() == 1
    (call,) = h.tiktok.calls_to("status")
    assert h.tiktok.grant_for(call.token).open_id == "open-brand"
    row = stored(h)
    assert (row["status"], row["final"]) == ("SEND_TO_USER_INBOX", 1)
    assert "inbox" in text_of(thread_posts(h, first["ts"])[-1].params)


async def test_not_cancellable_click_makes_the_poller_find_where_it_ended(hn):
    # The real background poller, woken by the publish_not_cancellable answer.
    h = hn
    await h.link()
    h.tiktok.add_upload(PID, status="PUBLISH_COMPLETE")
    first = await announce(h)
    await h.click("cancel_upload", PID)
    await wait_until(
        lambda: stored(h)["final"] == 1 and len(thread_posts(h, first["ts"])) >= 2,
        what="the poller to reach the final state",
    )
    assert stored(h)["status"] == "PUBLISH_COMPLETE"
    assert "posted" in text_of(thread_posts(h, first["ts"])[-1].params)
    assert buttons(updates(h, first["ts"])[-1].params) == []


async def test_polling_backs_off_between_polls(hn):
    h = hn
    await _announce_with_a_poll_link(h)
    poller = h.bot.services.poller
    gaps = []
    for _ in range(3):
        make_due(h)
        await poller.poll_due()
        gaps.append(stored(h)["next_poll_at"] - time.time())
    assert gaps[0] < gaps[1] < gaps[2]
    assert all(g <= 300 + 1 for g in gaps)


async def test_polling_without_any_link_makes_no_call_and_reschedules(hn):
    h = hn
    await announce(h)
    await asyncio.sleep(0.2)  # let the poller take the wake-up first (see the shutdown test)
    await h.bot.services.poller.stop()
    make_due(h)
    assert await h.bot.services.poller.poll_due() == 1
    assert h.tiktok.calls_to("status") == []
    assert stored(h)["next_poll_at"] > time.time()


async def test_polling_keeps_within_20_status_fetches_a_minute_per_account(hn):
    h = hn
    await h.link()
    ids = [f"v_pub_url~v2.5{n:02d}" for n in range(25)]
    for pid in ids:
        h.tiktok.add_upload(pid)
        await announce(h, publish_id=pid)
    await asyncio.sleep(0.2)  # let the poller take the wake-ups first
    await h.bot.services.poller.stop()
    # U1 tried (and failed) to cancel each, so U1's link is the one that follows them.
    db_execute(h, "UPDATE announcements SET last_user_id = 'U1', next_poll_at = ?", 0)
    poller = h.bot.services.poller
    await poller.poll_due()
    await poller.poll_due()
    assert len(h.tiktok.calls_to("status")) == 20
    waiting = db_rows(h, "SELECT * FROM announcements WHERE status = ''")
    assert len(waiting) == 5
    assert all(r["next_poll_at"] > time.time() for r in waiting)


async def test_polling_gives_up_two_hours_after_the_announcement(hn):
    h = hn
    await _announce_with_a_poll_link(h)
    db_execute(h, "UPDATE announcements SET created_at = ?", time.time() - 3 * 3600)
    make_due(h)
    await h.bot.services.poller.poll_due()
    row = stored(h)
    assert row["final"] == 0 and row["next_poll_at"] is None


async def test_poller_stops_promptly_when_woken_just_before_shutdown(hn):
    # An announcement (or a publish_not_cancellable answer) wakes the poller; shutdown
    # (SIGTERM -> Bot.stop -> poller.stop) in the same instant must still finish.
    h = hn
    await announce(h)
    await asyncio.sleep(0.2)  # the poller is idle, waiting for the next due time
    poller = h.bot.services.poller
    poller.wake()  # what AnnouncementService.announce does through on_new
    try:
        await asyncio.wait_for(poller.stop(), timeout=3)
    except TimeoutError:
        pytest.fail("StatusPoller.stop() hung: the wake-up swallowed the cancel")


async def test_polling_state_survives_a_restart(hn):
    h = hn
    first = await _announce_with_a_poll_link(h)
    make_due(h)
    await h.bot.services.poller.poll_due()
    assert stored(h)["poll_count"] == 1
    await h.stop()
    h.tiktok.set_status(PID, "PUBLISH_COMPLETE")
    make_due(h)
    await h.start()  # the new bot's own background poller picks it up
    await wait_until(
        lambda: len(thread_posts(h, first["ts"])) >= 2, timeout=10, what="final state post"
    )
    row = stored(h)
    assert (row["status"], row["final"], row["next_poll_at"]) == ("PUBLISH_COMPLETE", 1, None)
    assert row["poll_count"] >= 1
    assert "posted" in text_of(thread_posts(h, first["ts"])[-1].params)


# --- /tiktok-cancel list ---------------------------------------------------------------------


async def test_list_shows_only_unfinished_announced_uploads_with_a_cancel_button(hn):
    h = hn
    await h.link()
    for pid in (PID, PID2, PID3):
        h.tiktok.add_upload(pid)
    await announce(h, publish_id=PID, title="Still going")
    await announce(h, publish_id=PID2, title="Went live")
    await announce(h, publish_id=PID3, title="Cancelled one")
    await signed_webhook(h, "post.publish.complete", {"publish_id": PID2})
    await h.click("cancel_upload", PID3)
    await settle(h)
    cancelled = {"publish_id": PID3, "reason": "publish_cancelled"}
    await signed_webhook(h, "post.publish.failed", cancelled)
    answer = await h.command("list")
    text = text_of(answer)
    assert "Still going" in text
    assert "Went live" not in text and "Cancelled one" not in text
    assert "min ago" in text
    assert "Waiting for TikTok" in text
    (button,) = accessory_buttons(answer) + buttons(answer)
    assert (button["action_id"], button["value"]) == ("cancel_upload", PID)


async def test_list_with_nothing_running_says_so(hn):
    h = hn
    answer = await h.command("list")
    assert "No announced uploads are still running" in text_of(answer)
    assert accessory_buttons(answer) + buttons(answer) == []


async def test_list_shows_the_current_state_of_each_upload(hn):
    h = hn
    await announce(h, publish_id=PID, title="Downloading one")
    db_execute(
        h,
        "UPDATE announcements SET status = 'PROCESSING_DOWNLOAD', created_at = ?",
        time.time() - 600,
    )
    text = text_of(await h.command("list"))
    assert "still downloading" in text
    assert "10 min ago" in text


# --- python -m bot announce ------------------------------------------------------------------


async def run_announce(h, cwd, *args: str) -> tuple[int, str, str]:
    return await run_bot_cli("announce", *args, env=env_for(h.settings), cwd=cwd, timeout=20)


async def test_cli_announce_posts_and_prints_channel_and_ts_then_is_idempotent(hn, tmp_path):
    h = hn
    code, out, err = await run_announce(
        h, tmp_path, "--channel", "C1", PID, "--title", "CLI teaser", "--account", "brand"
    )
    assert code == 0, err
    printed = json.loads(out)
    (post,) = top_posts(h)
    assert printed["channel"] == "C1" and ("C1", printed["ts"]) in h.slack.messages
    assert printed["status"] == "posted"
    assert "CLI teaser" in text_of(post.params) and "brand" in text_of(post.params)
    assert [b["action_id"] for b in buttons(post.params)] == ["cancel_upload"]
    row = stored(h)
    assert (row["channel"], row["ts"]) == ("C1", printed["ts"])

    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", PID)
    assert code == 0, err
    again = json.loads(out)
    assert (again["channel"], again["ts"]) == (printed["channel"], printed["ts"])
    assert "already announced" in out
    assert len(top_posts(h)) == 1
    status, body = await notify(h, {"publish_id": PID, "channel": "C1"})
    assert (status, body) == (200, {"channel": "C1", "ts": printed["ts"]})


async def test_cli_announce_after_the_route_says_already_announced(hn, tmp_path):
    h = hn
    first = await announce(h)
    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", PID)
    assert code == 0, err
    assert "already announced" in out and first["ts"] in out
    assert len(top_posts(h)) == 1


async def test_cli_announce_channel_not_found_exits_non_zero_with_invite_advice(hn, tmp_path):
    h = hn
    h.slack.fail("chat.postMessage", error="channel_not_found")
    code, out, err = await run_announce(h, tmp_path, "--channel", "C404", PID)
    assert code != 0
    assert "invite" in err.lower()
    assert "Traceback" not in err
    assert stored(h) is None


async def test_cli_announce_bad_publish_id_exits_non_zero_and_names_it(hn, tmp_path):
    h = hn
    calls = len(h.slack.calls_to("chat.postMessage"))
    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", "bad id")
    assert code != 0
    assert "publish_id" in err
    assert len(h.slack.calls_to("chat.postMessage")) == calls


async def test_cli_announce_with_slack_5xx_exits_non_zero_without_a_traceback(hn, tmp_path):
    h = hn
    h.slack.fail_http("chat.postMessage", status=502)
    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", PID)
    assert code != 0
    assert "Traceback" not in err, err
    assert "slack" in err.lower()
    assert stored(h) is None


async def test_cli_announce_with_slack_auth_down_exits_non_zero_without_a_traceback(hn, tmp_path):
    h = hn
    h.slack.fail_http("auth.test", status=502)
    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", PID)
    assert code != 0
    assert "Traceback" not in err, err
    assert "slack" in err.lower()
    assert stored(h) is None


async def test_a_click_by_someone_without_a_link_stays_off_the_public_announcement(hn):
    h = hn
    status, body = await notify(h, {"publish_id": PID, "channel": "C1", "title": "Teaser"})
    assert status == 201
    answer = await h.click("cancel_upload", PID, user_id="U9")
    assert "haven't linked" in text_of(answer)
    await h.bot.services.cancels.drain()
    assert updates(h, body["ts"]) == [], "a personal problem does not rewrite the announcement"
    (reply,) = thread_posts(h, body["ts"])
    text = text_of(reply.params)
    assert "nothing was sent to TikTok: they have no linked TikTok account yet" in text
    assert "you" not in text.lower().split("nothing was sent")[1]
    assert h.tiktok.calls_to("cancel") == []
