"""Fuzzing `/metrics` on both of its doors: the bot's port (behind METRICS_TOKEN) and
METRICS_PORT (no token, nothing else served). Whatever the path, method and Authorization
header: never a 5xx, never the token echoed back, a 200 page only for `/metrics` (and on the
bot's port only with the right bearer)."""

from __future__ import annotations

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from sandbox.fakes import FakeSlack, FakeTikTok
from tests.conftest import Harness
from tests.fuzz.conftest import LiveBot, examples
from tests.fuzz.counting import count_case
from tests.pg import database_url_for_test

TOKEN = "fuzz-metrics-token-5f1c"
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
PATHS = st.one_of(
    st.sampled_from(
        [
            "/metrics",
            "/metrics/",
            "/METRICS",
            "/metrics?name[]=x",
            "/metrics%00",
            "//metrics",
            "/metrics/../healthz",
            "/healthz",
            "/slack/events",
            "/",
        ]
    ),
    st.text(
        alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789/_-.%?=&"), max_size=40
    ).map(lambda s: "/" + s),
)
METHODS = st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
AUTHORIZATIONS = st.one_of(
    st.none(),
    st.just(f"Bearer {TOKEN}"),
    st.just(f"bearer   {TOKEN}  "),
    st.just(f"Basic {TOKEN}"),
    st.text(PRINTABLE, max_size=60).map(lambda s: "Bearer " + s),
    st.text(PRINTABLE, max_size=60),
    st.just(f"Bearer {TOKEN[:-1]}"),
)


@pytest.fixture(scope="module")
def metrics_live(request, tmp_path_factory):
    """A bot with METRICS_TOKEN and METRICS_PORT, on its own loop (no seeded data needed)."""
    bot = LiveBot(tmp_path_factory.mktemp("fuzz-metrics"), database_url_for_test(request))
    bot.thread.start()

    async def start() -> Harness:
        slack, tiktok = FakeSlack(), FakeTikTok()
        await slack.start()
        await tiktok.start()
        overrides = {"metrics_token": TOKEN, "metrics_port": 0}
        h = Harness(
            slack, tiktok, bot.settings_for(slack, tiktok, **overrides), aiohttp.ClientSession()
        )
        await h.start()
        return h

    bot.h = bot.call(start())
    yield bot
    bot.stop()


async def _request(h, base: str, method: str, path: str, authorization: str | None):
    headers = {} if authorization is None else {"Authorization": authorization}
    url = URL(base + path, encoded=True)
    async with h.session.request(method, url, headers=headers) as resp:
        body = await resp.read()
        return resp.status, resp.headers, body, resp.url.path


@settings(max_examples=examples(40))
@given(
    door=st.sampled_from(["bot", "metrics_port"]),
    method=METHODS,
    path=PATHS,
    authorization=AUTHORIZATIONS,
)
def test_no_request_to_metrics_gets_a_5xx_or_the_token_back(
    metrics_live, door, method, path, authorization
):
    count_case()
    h = metrics_live.h
    port = h.bot.port if door == "bot" else h.bot.metrics_port
    status, headers, body, sent_path = metrics_live.call(
        _request(h, f"http://127.0.0.1:{port}", method, path, authorization)
    )
    assert status < 500, (status, body[:300])
    assert TOKEN.encode() not in body
    assert all(TOKEN not in v for v in headers.values())
    assert b"Traceback" not in body
    if status == 200 and method in ("GET", "HEAD"):
        assert sent_path == "/metrics", sent_path
        if door == "bot":
            assert authorization is not None and authorization.split()[-1:] == [TOKEN]
    if door == "metrics_port" and sent_path != "/metrics":
        assert status == 404, (sent_path, status)
