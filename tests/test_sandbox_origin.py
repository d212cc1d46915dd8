"""The sandbox page answers only itself: a request whose Host or Origin is another site (a
cross-site POST from another tab, a DNS-rebinding name) gets 403 and changes nothing."""

from __future__ import annotations

import json

import aiohttp
import pytest

from sandbox.server import Sandbox

ANNOUNCE = {"publish_id": "v_pub_url~v2.7700001", "channel": "C0LAUNCH", "title": "x"}


@pytest.fixture
async def sb(tmp_path):
    sandbox = Sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite3"))
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


async def send(sb, method: str, path: str, headers: dict[str, str], body=None):
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            f"http://127.0.0.1:{sb.port}{path}",
            data=None if body is None else json.dumps(body),
            headers={"Content-Type": "application/json", **headers},
        ) as resp,
    ):
        return resp.status, await resp.text()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},  # a cross-site POST from another tab
        {"Origin": "null"},  # a sandboxed iframe or a file:// page
        {"Host": "rebind.evil.example:{port}"},  # DNS rebinding: evil name → 127.0.0.1
        {"Host": "rebind.evil.example:{port}", "Origin": "http://rebind.evil.example:{port}"},
        {"Origin": "http://127.0.0.1:1"},  # another local port is another site
    ],
)
async def test_a_foreign_host_or_origin_is_refused_and_nothing_is_announced(sb, headers):
    headers = {k: v.format(port=sb.port) for k, v in headers.items()}
    status, text = await send(sb, "POST", "/api/announce", headers, ANNOUNCE)
    assert status == 403
    assert "Host or Origin is another site" in text
    assert sb.slack.calls_to("chat.postMessage") == []
    status, _ = await send(sb, "GET", "/api/state", headers)
    assert status == 403  # nor can it read the state (and the notify token in it)


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Origin: a GET navigation, curl
        {"Origin": "http://127.0.0.1:{port}"},
        {"Host": "localhost:{port}", "Origin": "http://localhost:{port}"},
    ],
)
async def test_the_page_itself_is_answered(sb, headers):
    headers = {k: v.format(port=sb.port) for k, v in headers.items()}
    status, text = await send(sb, "POST", "/api/announce", headers, ANNOUNCE)
    assert status == 200, text
    assert json.loads(text)["status"] == 201


async def test_the_notify_token_is_made_per_run(tmp_path):
    tokens = {Sandbox(port=0, db_path=str(tmp_path / f"{i}.db")).notify_token for i in (1, 2)}
    assert len(tokens) == 2
