"""POST /notifications, the Cancel upload button, threads, and following to a final state."""

from __future__ import annotations

import json

import pytest

from tests.conftest import buttons, text_of

PID = "v_pub_url~v2.777"
NOTIFY = "notify-secret-token"


@pytest.fixture
async def hn(h):
    await h.restart(notify_token=NOTIFY)
    return h


async def notify(h, body, token=NOTIFY, raw=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body)
    async with h.session.post(h.url + "/notifications", data=data, headers=headers) as resp:
        return resp.status, await resp.json()


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
    assert "Cancelled" in text_of(answer)
    assert len(h.tiktok.calls_to("cancel")) == 1
    update = (await h.slack.wait_for_call("chat.update"))[0]
    assert update.params["ts"] == body["ts"]
    assert buttons(update.params) == []
    assert "Cancelled by <@U1>" in text_of(update.params)
    replies = [c for c in h.slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert replies and replies[0].params["thread_ts"] == body["ts"]
    again_status, again = await notify(h, {"publish_id": PID, "channel": "C1"})
    assert (again_status, again) == (200, body)
