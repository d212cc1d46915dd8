"""Fuzzing the bot's own HTTP routes: `POST /notifications` and `POST /uploads` (the upload
pipeline),
`POST /tiktok/webhook` (TikTok, signed with the client secret or not) and
`GET /tiktok/oauth/callback` (a browser coming back from TikTok's consent page).

Whatever the input: no 5xx, no traceback in the answer, and every message the bot then sent
to the Slack stand-in (announcements, thread posts, updates, DMs) valid by slack_sdk's models.
What it found is pinned with its concrete input in `test_found_by_fuzzing.py`.
"""

from __future__ import annotations

import itertools
import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from tests.conftest import NOTIFY, UPLOAD, state_of
from tests.fuzz.conftest import SEEDED, examples
from tests.fuzz.counting import count_case
from tests.fuzz.strategies import (
    RAW_BODIES,
    hostile_text,
    json_bytes,
    json_values,
    maybe,
    notification_bodies,
    notification_number_bodies,
    publish_ids,
    upload_bodies,
    upload_number_bodies,
    with_number_literal,
)

FRESH = itertools.count(1)


def assert_clean(status: int, text: str) -> None:
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text


async def _post(h, path: str, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with h.session.post(h.url + path, data=data, headers=headers) as resp:
        return resp.status, (await resp.read()).decode(errors="replace")


# --- POST /notifications ---------------------------------------------------------------------


@settings(max_examples=examples(150))
@given(
    body=notification_bodies(),
    raw=st.one_of(st.none(), st.none(), RAW_BODIES, notification_number_bodies()),
    fresh=st.sampled_from([True, True, True, False]),  # False: maybe a repeat
)
def test_any_notification_gets_a_4xx_or_a_valid_announcement(live, body, raw, fresh):
    _pipeline_case(live, "/notifications", body, raw, ("publish_id", 256) if fresh else None)


def _pipeline_case(live, path: str, body, raw, fresh_key: tuple[str, int] | None) -> int:
    """One generated pipeline request: `fresh_key` (field, limit) gets a unique suffix, so
    most bodies are new and some repeat. No 5xx, a JSON object back, valid Slack messages."""
    count_case()
    if fresh_key and isinstance(body, dict) and isinstance(body.get(fresh_key[0]), str):
        name, limit = fresh_key
        body = {**body, name: f"{body[name]}.{next(FRESH)}"[-limit:]}
    data = raw if raw is not None else json_bytes(body)
    token = UPLOAD if path == "/uploads" else NOTIFY  # each pipeline credential, its route
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, text = live.call(_post(live.h, path, data, headers))
    assert_clean(status, text)
    assert isinstance(json.loads(text), dict)
    live.settle()
    assert live.new_problems() == []
    return status


# --- POST /uploads (held uploads) -------------------------------------------------------------


@settings(max_examples=examples(120))
@given(
    body=upload_bodies(),
    raw=st.one_of(st.none(), st.none(), RAW_BODIES, upload_number_bodies()),
    fresh=st.sampled_from([True, True, True, False]),  # False: maybe a repeat
)
def test_any_upload_gets_a_4xx_or_a_valid_held_announcement(live, body, raw, fresh):
    status = _pipeline_case(live, "/uploads", body, raw, ("upload_key", 128) if fresh else None)
    assert status in (200, 202, 400, 413, 415), status


# --- POST /tiktok/webhook --------------------------------------------------------------------

EVENTS = [
    "post.publish.failed",
    "post.publish.complete",
    "post.publish.inbox_delivered",
    "post.publish.publicly_available",
    "post.publish.no_longer_publicaly_available",
    "authorization.removed",
    "video.upload.failed",
]


def webhook_bodies() -> st.SearchStrategy[bytes]:
    content = st.fixed_dictionaries(
        {"publish_id": maybe(st.sampled_from(SEEDED) | publish_ids())},
        optional={
            "publish_type": maybe(st.sampled_from(["DIRECT_PUBLISH", "INBOX_SHARE"])),
            "reason": maybe(st.sampled_from(["publish_cancelled", "file_format_check_failed"])),
            "fail_reason": maybe(hostile_text(300)),
            "post_id": maybe(hostile_text(30)),
            "junk": json_values(),
        },
    )
    event = st.fixed_dictionaries(
        {
            "client_key": maybe(st.just("ck_test")),
            "event": maybe(st.sampled_from(EVENTS) | hostile_text(30)),
            "create_time": maybe(st.integers(0, 2**40)),
            "user_openid": maybe(st.sampled_from(["open-1", "open-brand", "open-x"])),
            "content": st.one_of(content.map(json.dumps), content, json_values()),
        }
    )
    numbers = with_number_literal(event, ["create_time", "content.reason", "content.post_id"])
    return st.one_of(event.map(json_bytes), event.map(json_bytes), numbers, RAW_BODIES)


SIGNATURE_HEADERS = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120),
    st.sampled_from(["t=,s=", "t=abc,s=00", "s=00,t=1", "t=1,s=" + "0" * 64, "t=99999999999999"]),
)


@settings(max_examples=examples(120))
@given(
    body=webhook_bodies(),
    signed=st.booleans(),
    header=SIGNATURE_HEADERS,
    t=st.sampled_from([None, None, None, 10**400, 10**13, 0]),  # signed, absurd times
)
def test_any_webhook_delivery_gets_a_4xx_or_a_valid_update(live, body, signed, header, t):
    count_case()
    h = live.h
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["TikTok-Signature"] = h.tiktok.sign_webhook(body, t=t)
    elif header is not None:
        headers["TikTok-Signature"] = header
    status, text = live.call(_post(h, "/tiktok/webhook", body, headers))
    assert_clean(status, text)
    if not signed:  # refused unread: too big (checked first, on every route) or unsigned
        assert status == (413 if len(body) > 64 * 1024 else 401), (status, text)
    live.settle(0.1)  # the update is applied after the answer
    assert live.new_problems() == []


# --- GET /tiktok/oauth/callback --------------------------------------------------------------

QUERY_PIECES = st.one_of(
    hostile_text(40),
    st.sampled_from(["%ff%fe", "%00", "%", "%zz", "&&&", "==", "a=b=c", "%E2%82", "+"]),
)


async def _callback(h, query: str) -> tuple[int, str]:
    url = URL(h.url + "/tiktok/oauth/callback?" + query, encoded=True)
    async with h.session.get(url) as resp:
        return resp.status, (await resp.read()).decode(errors="replace")


async def _fresh_state(h, user_id: str, command: str) -> str:
    """A real state: the Connect button's URL from a command an unlinked person typed."""
    answer = await h.command(command, user_id=user_id)
    urls = [
        element["url"]
        for block in answer.get("blocks", [])
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if isinstance(element, dict) and element.get("url")
    ]
    return state_of(urls[0]) if urls else ""


@settings(max_examples=examples(60))
@given(
    kind=st.sampled_from(["junk", "state", "state+code", "state+error"]),
    reason=hostile_text(200),
    display_name=hostile_text(80),
    extra=st.lists(st.tuples(QUERY_PIECES, QUERY_PIECES), max_size=4),
)
def test_any_oauth_callback_gets_a_page_and_valid_messages(live, kind, reason, display_name, extra):
    count_case()
    h = live.h
    params: list[tuple[str, str]] = []
    if kind != "junk":
        user = f"UF{next(FRESH)}"  # unlinked, so the cancel leaves a retry for after linking
        state = live.call(_fresh_state(h, user, f"{SEEDED[0]} {reason}".strip()))
        params.append(("state", state))
        if kind == "state+code":
            open_id = f"open-f{next(FRESH)}"
            h.tiktok.add_user(open_id=open_id, display_name=display_name)
            params.append(("code", h.tiktok.issue_code(open_id)))
        elif kind == "state+error":
            params.append(("error", reason[:100]))
    query = "&".join(  # extras keep their raw %-sequences (%ff, %00, a lone %)
        [URL.build(query={k: v}).raw_query_string for k, v in params]
        + [f"{quote(k, safe='%+=&')}={quote(v, safe='%+=&')}" for k, v in extra]
    )
    status, text = live.call(_callback(h, query))
    assert_clean(status, text)
    live.settle(0.1)  # the "you're linked" DM is sent after the page
    assert live.new_problems() == []
