"""What the fuzz suite found, each pinned with its concrete input: a title whose escaping
overflowed the confirm dialog, a reason that overflowed the retry button, numbers out of range,
an echoed URL made a link, a number too big for a float."""

from __future__ import annotations

import json

import pytest

from tests.conftest import button_urls, notify, state_of
from tests.fuzz.blockkit import problems_in

PID = "v_pub_url~v2.880001"


def sent_problems(h) -> list[str]:
    found = [p for c in h.slack.calls for p in problems_in(c.method, c.params)]
    for bodies in h.slack.responses.values():
        found += [p for b in bodies for p in problems_in("response_url", b)]
    return found


async def test_a_title_of_189_ampersands_is_announced_with_a_valid_cancel_button(hn):
    h = hn
    status, body = await notify(h, {"publish_id": PID, "channel": "C1", "title": "&" * 189})

    assert status == 201, body
    assert sent_problems(h) == []


async def test_a_reason_of_200_emoji_survives_linking_and_the_retry_button_is_valid(hn):
    h = hn
    h.tiktok.add_user(open_id="open-9", display_name="Emoji Fan")
    answer = await h.command(f"{PID} {'🚀' * 200}", user_id="U9")  # not linked: Connect
    state = state_of(button_urls(answer)[0])

    params = {"code": h.tiktok.issue_code("open-9"), "state": state}
    status, page = await h.consent(params)

    assert status == 200, page
    await h.slack.wait_for_call("chat.postMessage")  # the "you're linked" DM
    assert sent_problems(h) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"publish_id": "v_pub_url~v2.880002", "channel": "C1", "video": {"fps": 1e400}}',
        b'{"publish_id": "v_pub_url~v2.880003", "channel": "C1", "video": {"fps": NaN}}',
        b'{"publish_id": "v_pub_url~v2.880004", "channel": "C1", "video": {"width": 1'
        + b"0" * 400
        + b"}}",
    ],
    ids=["1e400", "NaN", "10**400"],
)
async def test_out_of_range_video_numbers_get_400(hn, raw):
    status, body = await notify(hn, None, raw=raw)

    assert status == 400, body
    assert body["error"].startswith("video.")


async def test_an_int_too_big_for_a_float_in_video_is_never_a_500(hn):
    """Regression (bot/restrictions.py): 10**400 as a height or a length raised OverflowError
    while the warnings were written, and POST /notifications answered 500."""
    h = hn
    raw = json.dumps(
        {
            "publish_id": "v_pub_url~v2.880005",
            "channel": "C1",
            "video": {"height": 10**400, "duration_s": 10**400, "size_bytes": 10**400},
        }
    ).encode()

    status, body = await notify(h, None, raw=raw)

    assert status in (201, 400), body
    if status == 201:
        (post,) = h.slack.calls_to("chat.postMessage")
        shown = json.dumps(post.params["blocks"], ensure_ascii=False)
        assert "Height 1.00000e+400 px: TikTok needs 360 to 4096 px on each side." in shown
        assert "Length 1.66667e+398 minutes: TikTok takes at most 10 minutes" in shown
        assert "Size 9.31323e+390 GB: TikTok takes at most 4 GB." in shown
    assert sent_problems(h) == []


def mrkdwn_texts(node) -> list[dict]:
    """Every mrkdwn text object in a payload."""
    if isinstance(node, dict):
        found = [node] if node.get("type") == "mrkdwn" else []
        return found + [t for v in node.values() for t in mrkdwn_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in mrkdwn_texts(v)]
    return []


async def test_a_url_as_a_title_is_not_made_a_link_in_the_announcement(hn):
    h = hn
    title = "https://evil.example/login"
    status, body = await notify(h, {"publish_id": PID, "channel": "C1", "title": title})
    assert status == 201, body

    (post,) = h.slack.calls_to("chat.postMessage")
    echoing = [t for t in mrkdwn_texts(post.params["blocks"]) if "evil.example" in t["text"]]
    assert echoing, post.params["blocks"]
    assert all(t.get("verbatim") is True for t in echoing), echoing
