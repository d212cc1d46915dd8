"""Fuzzing the web post page: `GET /approve/<anything>` and its form's `POST` with any fields,
any values and any body, on links that are real (approvers' own, with the form token of the
page just rendered, or a stale one), half real, used, or made up.

Whatever the input: no 5xx, no traceback in the answer, an HTML page back (or the guard's
413), and every message the bot then sent to the Slack stand-in (approvals in the thread, the
card's update, the start) valid by slack_sdk's models.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from tests.conftest import UPLOAD
from tests.fuzz.conftest import examples
from tests.fuzz.counting import count_case
from tests.fuzz.strategies import RAW_BODIES, hostile_text, long_runs
from tests.held_helpers import until

APPROVERS = [f"UFZ{n:03d}" for n in range(40)]
FIELD_NAMES = ["form_token", "caption", "privacy", "interactions", "commercial", "commercial_kind"]
FIELD_VALUES = {
    "privacy": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY", "FOLLOWER_OF_CREATOR"],
    "interactions": ["comment", "duet", "stitch"],
    "commercial": ["on", "off"],
    "commercial_kind": ["your_brand", "branded"],
}
FORM_TOKEN = re.compile(r'name=form_token value="([^"]*)"')


async def _links(h) -> list[str]:
    """An upload waiting for all of APPROVERS, and each one's link (path) from their DM."""
    body = {
        "upload_key": "fuzz-approval",
        "channel": "C1",
        "account": "brand",
        "source_url": "https://cdn.example.com/approve & <me>.mp4",
        "post": {"title": "Fuzz & <b>approve</b> \U0001f680"},
        "video": {"duration_s": 12.5},
        "approval": {"approvers": APPROVERS, "needed": len(APPROVERS)},
    }
    async with h.session.post(
        h.url + "/uploads", json=body, headers={"Authorization": f"Bearer {UPLOAD}"}
    ) as resp:
        assert resp.status == 202, await resp.text()
    await until(lambda: set(APPROVERS) <= set(_dm_channels(h)), timeout=20)
    paths = []
    for call in h.slack.calls_to("chat.postMessage"):
        if call.params.get("channel") in APPROVERS:
            found = re.search(
                r"https://bot\.example\.com(/approve/[A-Za-z0-9_-]+)", str(call.params)
            )
            assert found, call.params
            paths.append(found.group(1))
    return paths


def _dm_channels(h) -> list[str]:
    return [str(c.params.get("channel")) for c in h.slack.calls_to("chat.postMessage")]


@pytest.fixture(scope="module")
def links(live) -> list[str]:
    paths = live.call(_links(live.h))
    assert len(paths) == len(APPROVERS)
    assert live.new_problems() == []
    return paths


def tokens(links: list[str]) -> st.SearchStrategy[str]:
    real = st.sampled_from([p.rsplit("/", 1)[1] for p in links])
    made_up = st.one_of(
        real.map(lambda t: t[:-1]),
        st.builds(lambda t, junk: t + junk, real, hostile_text(10)),
        hostile_text(60),
        st.from_regex(r"[A-Za-z0-9_-]{0,300}", fullmatch=True),
        st.sampled_from(["", "%00", "%2F", "..", "%ff%fe", "%", "a%zz", "+", "%E2%82", "a/b"]),
    )
    return st.sampled_from(["real"] * 4 + ["made up"]).flatmap(
        lambda kind: real if kind == "real" else made_up
    )


def fields() -> st.SearchStrategy[list[tuple[str, str]]]:
    """Any fields, or a form a person could send (the first privacy offered, perhaps the
    disclosure) with any caption and any extra fields."""

    def value_for(name: str) -> st.SearchStrategy[str]:
        known = FIELD_VALUES.get(name)
        text = st.one_of(hostile_text(60), long_runs(2300))
        return st.one_of(st.sampled_from(known), text) if known else text

    named = st.sampled_from(FIELD_NAMES).flatmap(lambda n: st.tuples(st.just(n), value_for(n)))
    odd = st.tuples(hostile_text(20), hostile_text(40))
    anything = st.lists(st.one_of(named, named, named, odd), max_size=12)
    sendable = st.builds(
        lambda privacy, caption, ticks, kinds, extra: [
            ("privacy", privacy),
            ("caption", caption),
            *[("interactions", t) for t in ticks],
            *([("commercial", "on")] if kinds else []),
            *[("commercial_kind", k) for k in kinds],
            *extra,
        ],
        st.sampled_from(FIELD_VALUES["privacy"]),
        st.one_of(hostile_text(200), long_runs(2300)),
        st.lists(st.sampled_from(FIELD_VALUES["interactions"]), max_size=3),
        st.lists(st.sampled_from(FIELD_VALUES["commercial_kind"]), max_size=2),
        st.lists(odd, max_size=3),
    )
    return st.one_of(anything, sendable)


async def _call(h, method: str, token: str, data) -> tuple[int, str, str]:
    url = URL(h.url + "/approve/" + quote(token, safe="%"), encoded=True)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if data is not None else {}
    async with h.session.request(
        method, url, data=data, headers=headers, allow_redirects=False
    ) as resp:
        text = (await resp.read()).decode(errors="replace")
        return resp.status, resp.headers.get("Content-Type", ""), text


async def _form_token(h, token: str) -> str:
    status, _, text = await _call(h, "GET", token, None)
    found = FORM_TOKEN.search(text) if status == 200 else None
    return found.group(1) if found else ""


@settings(max_examples=examples(120))
@given(data=st.data())
def test_any_visit_or_form_gets_a_page_and_valid_messages(live, links, data):
    count_case()
    h = live.h
    token = data.draw(tokens(links), label="token")
    method = data.draw(st.sampled_from(["GET", "POST", "POST", "POST"]), label="method")
    body = None
    if method == "POST":
        kind = data.draw(st.sampled_from(["fresh", "fresh", "stale", "none", "raw"]))
        sent = data.draw(fields(), label="fields")
        if kind in ("fresh", "stale"):
            form_token = live.call(_form_token(h, token))
            if kind == "stale":
                live.call(_form_token(h, token))  # rendered again: the first is stale now
            sent = [("form_token", form_token), *sent]
        body = data.draw(RAW_BODIES, label="raw") if kind == "raw" else urlencode(sent).encode()
    status, content_type, text = live.call(_call(h, method, token, body))
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text
    too_long = len(quote(token, safe="%")) > 8000  # aiohttp refuses such a request line itself
    assert status == 413 or too_long or content_type.startswith("text/html"), (status, content_type)
    live.settle(0.05)
    assert live.new_problems() == []


def test_a_made_up_link_is_a_plain_404(live):
    status, _, text = live.call(_call(live.h, "GET", "made-up", None))
    assert status == 404 and "This link isn&#x27;t one we made" in text
