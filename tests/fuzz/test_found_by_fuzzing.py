"""What the fuzz suite found, each pinned with its concrete input: a title whose escaping
overflowed the confirm dialog, a reason that overflowed the retry button, numbers out of range,
an echoed URL made a link, a number too big for a float."""

from __future__ import annotations

import json

import pytest

from tests.conftest import button_urls, db_rows, notify, state_of
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
        b'{"publish_id": "v_pub_url~v2.880003", "channel": "C1", "video": {"fps": -1e400}}',
        b'{"publish_id": "v_pub_url~v2.880004", "channel": "C1", "video": {"width": 1'
        + b"0" * 400
        + b"}}",
    ],
    ids=["1e400", "-1e400", "10**400"],
)
async def test_out_of_range_video_numbers_get_400(hn, raw):
    status, body = await notify(hn, None, raw=raw)

    assert status == 400, body
    assert body["error"].startswith("video.")


async def test_an_int_too_big_for_a_float_in_video_is_never_a_500(hn):
    """Regression (bot/tiktok/restrictions.py): 10**400 as a height or a length raised OverflowError
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


# --- numbers no validator had bounded (issue 18, point 4) --------------------------------------


@pytest.fixture
async def hb(h):
    from tests.held_helpers import held_harness

    return await held_harness(h)


def held_raw(number: str, where: str = "hold_s", key: str = "num-1") -> bytes:
    """A `POST /uploads` body with `number` written as it is (a literal json.dumps never
    makes) at `where`: hold_s, video.<field> or post.<field>."""
    post = '{"privacy_level": "SELF_ONLY"}'
    video = "{}"
    top = ""
    if where.startswith("post."):
        post = f'{{"privacy_level": "SELF_ONLY", "{where[5:]}": {number}}}'
    elif where.startswith("video."):
        video = f'{{"{where[6:]}": {number}}}'
    else:
        top = f', "{where}": {number}'
    return (
        f'{{"upload_key": "{key}", "channel": "C1", "account": "brand", '
        f'"source_url": "https://cdn.example.com/v.mp4", "post": {post}, "video": {video}{top}}}'
    ).encode()


async def post_upload(h, raw: bytes) -> tuple[int, dict]:
    from tests.conftest import UPLOAD

    headers = {"Authorization": f"Bearer {UPLOAD}", "Content-Type": "application/json"}
    async with h.session.post(h.url + "/uploads", data=raw, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_a_hold_of_1_followed_by_400_zeros_is_a_400_naming_hold_s(hb):
    """Regression (bot/uploads/held.py): isfinite(10**400) raised OverflowError before the bounds
    were compared, and POST /uploads answered 500."""
    status, body = await post_upload(hb, held_raw("1" + "0" * 400))

    assert status == 400, body
    assert body == {"error": "hold_s must be a number of seconds from 0 to 86400"}
    assert db_rows(hb, "SELECT * FROM held_uploads") == []


@pytest.mark.parametrize(
    ("number", "where", "error"),
    [
        ("1e999", "hold_s", "hold_s must be a number of seconds from 0 to 86400"),
        ("-1" + "0" * 400, "hold_s", "hold_s must be a number of seconds from 0 to 86400"),
        ("1" + "0" * 400, "video.width", "video.width must be a number from 0 to 1e+15"),
        ("1e999", "video.duration_s", "video.duration_s must be a number from 0 to 1e+15"),
        (
            "1" + "0" * 400,
            "post.video_cover_timestamp_ms",
            "post.video_cover_timestamp_ms must be a whole number",
        ),
        ("NaN", "hold_s", "the body is not valid JSON: NaN is not a JSON number"),
        ("Infinity", "video.fps", "the body is not valid JSON: Infinity is not a JSON number"),
        ("-Infinity", "hold_s", "the body is not valid JSON: -Infinity is not a JSON number"),
        ("9" * 5000, "hold_s", "the body is not valid JSON (UTF-8)"),  # past int's 4300 digits
    ],
)
async def test_absurd_numbers_in_an_upload_are_a_400_naming_the_field(hb, number, where, error):
    status, body = await post_upload(hb, held_raw(number, where))

    assert status == 400, body
    assert body == {"error": error}
    assert db_rows(hb, "SELECT * FROM held_uploads") == []


async def test_minus_zero_is_zero(hb):
    status, body = await post_upload(hb, held_raw("-0", "post.video_cover_timestamp_ms"))

    assert status == 202, body


@pytest.mark.parametrize("path", ["/uploads", "/notifications"])
async def test_json_nested_deeper_than_python_recurses_is_a_400(hb, path):
    """Regression: json.loads raised RecursionError (not a ValueError) and the route answered
    500."""
    from tests.conftest import NOTIFY, UPLOAD

    await hb.restart(notify_token=NOTIFY)
    token = UPLOAD if path == "/uploads" else NOTIFY
    headers = {"Authorization": f"Bearer {token}"}
    async with hb.session.post(hb.url + path, data=b"[" * 15000, headers=headers) as resp:
        assert resp.status == 400
        assert await resp.json() == {"error": "the body is not valid JSON (UTF-8)"}


async def test_a_signed_webhook_time_of_400_digits_is_refused_not_a_500(hn):
    """Regression (bot/uploads/webhooks.py): `now - int(t)` with t = 10**400 raised
    OverflowError after the signature matched."""
    h = hn
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})

    headers = {"TikTok-Signature": h.tiktok.sign_webhook(body, t=10**400)}
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        assert resp.status == 401
