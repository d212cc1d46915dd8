"""The sandbox page answers only itself: a request whose Host or Origin is another site (a
cross-site POST from another tab, a DNS-rebinding name) gets 403 and changes nothing. The
bot's own port checks the same, and the secrets that let a request act are made per run."""

from __future__ import annotations

import json

import aiohttp
import pytest

from sandbox.fakes.slack_requests import post_signed, slash_command_body
from sandbox.server import Sandbox

ANNOUNCE = {"publish_id": "v_pub_url~v2.7700001", "channel": "C0LAUNCH", "title": "x"}


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
    assert status == 403  # nor can it read the state (and the pipeline token in it)


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


async def test_the_pipeline_token_is_made_per_run(sb, tmp_path):
    other = Sandbox(port=0, db_path=str(tmp_path / "other.sqlite3"))
    await other.start()
    try:
        tokens = {other.pipeline_token(), sb.pipeline_token()}
    finally:
        await other.stop()
    assert len(tokens) == 2
    assert all(t.startswith("tcp_") for t in tokens)  # the bot's own pipeline tokens


# --- the bot's own port -----------------------------------------------------------------------


async def to_bot(sb, method: str, path: str, headers: dict[str, str], body=None):
    port = sb.bot.port
    headers = {k: v.format(port=port) for k, v in headers.items()}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            data=None if body is None else json.dumps(body),
            headers={"Content-Type": "application/json", **headers},
        ) as resp,
    ):
        return resp.status, await resp.text()


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "rebind.evil.example:{port}"},  # DNS rebinding: evil name → 127.0.0.1
        {"Host": "rebind.evil.example:{port}", "Origin": "http://rebind.evil.example:{port}"},
        {"Origin": "https://evil.example"},  # a cross-site POST from another tab
        {"Origin": "http://127.0.0.1:1"},  # another local port is another site
    ],
)
async def test_the_bots_port_refuses_a_foreign_host_or_origin(sb, headers):
    auth = {"Authorization": f"Bearer {sb.pipeline_token()}"}
    status, text = await to_bot(sb, "POST", "/notifications", {**auth, **headers}, ANNOUNCE)
    assert status == 403
    assert "Host or Origin is another site" in text
    assert sb.slack.calls_to("chat.postMessage") == []
    status, _ = await to_bot(sb, "GET", "/healthz", headers)
    assert status == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Host": "localhost:{port}"},
        {"Origin": "http://127.0.0.1:{port}"},
        {"Origin": "null"},  # the bot's confirm page sends no referrer: its form POST says so
    ],
)
async def test_the_bots_port_answers_its_own_names(sb, headers):
    auth = {"Authorization": f"Bearer {sb.pipeline_token()}"}
    status, text = await to_bot(sb, "POST", "/notifications", {**auth, **headers}, ANNOUNCE)
    assert status == 201, text
    assert len(sb.slack.calls_to("chat.postMessage")) == 1


async def test_each_run_makes_its_own_signing_secret(sb, tmp_path):
    other = Sandbox(port=0, db_path=str(tmp_path / "other.sqlite3"))
    assert other.slack.signing_secret != sb.slack.signing_secret
    assert other.tiktok.client_secret != sb.tiktok.client_secret
    assert "sandbox-signing-secret" not in (other.slack.signing_secret, sb.slack.signing_secret)
    assert other.slack.client_secret != sb.slack.client_secret  # Add to Slack's app secret
    assert "fake-client-secret" not in (other.slack.client_secret, sb.slack.client_secret)
    # A command signed with the secret a published constant would give is refused; the
    # run's own secret is what the bot takes.
    body = slash_command_body("help", response_url=sb.slack.new_response_url(), user_id="U0ALEX")
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{sb.bot.port}/slack/events"
        refused, _ = await post_signed(session, url, body, "sandbox-signing-secret")
        taken, _ = await post_signed(session, url, body, sb.slack.signing_secret)
    assert (refused, taken) == (401, 200)
