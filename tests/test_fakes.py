"""Self-tests for the loopback fakes: each one is exercised over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.fakes import FakeSlack, FakeTikTok, Reply
from sandbox.fakes.server import LoopbackServer
from sandbox.fakes.slack_requests import (
    block_actions_body,
    post_signed,
    slash_command_body,
    slash_command_payload,
)


@pytest.fixture
async def tiktok() -> AsyncIterator[FakeTikTok]:
    async with FakeTikTok() as fake:
        fake.add_user("open-1")
        fake.add_user("open-2", display_name="Other")
        yield fake


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def token_form(tiktok: FakeTikTok, **fields: str) -> dict[str, str]:
    return {"client_key": tiktok.client_key, "client_secret": tiktok.client_secret, **fields}


async def post_form(
    http: aiohttp.ClientSession, url: str, form: dict[str, str]
) -> tuple[int, dict]:
    async with http.post(url, data=form) as resp:
        return resp.status, await resp.json()


async def api(
    http: aiohttp.ClientSession, tiktok: FakeTikTok, name: str, token: str, publish_id: str
) -> tuple[int, dict]:
    path = {"cancel": "/v2/post/publish/cancel/", "status": "/v2/post/publish/status/fetch/"}
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(
        tiktok.url + path[name], json={"publish_id": publish_id}, headers=headers
    ) as resp:
        return resp.status, await resp.json()


# -- TikTok ----------------------------------------------------------------------------


async def test_token_exchange_and_refresh_rotation(tiktok: FakeTikTok, http: aiohttp.ClientSession):
    token_url = tiktok.url + "/v2/oauth/token/"
    code = tiktok.issue_code("open-1")
    form = token_form(
        tiktok, code=code, grant_type="authorization_code", redirect_uri="https://bot/cb"
    )
    status, first = await post_form(http, token_url, form)
    assert status == 200
    assert first["open_id"] == "open-1" and first["token_type"] == "Bearer"
    assert first["access_token"].startswith("act.") and first["refresh_token"].startswith("rft.")
    assert first["expires_in"] == 86400 and first["refresh_expires_in"] == 31536000

    status, reused = await post_form(http, token_url, form)
    assert (status, reused["error"]) == (400, "invalid_grant")

    refresh = token_form(tiktok, grant_type="refresh_token", refresh_token=first["refresh_token"])
    status, second = await post_form(http, token_url, refresh)
    assert status == 200 and tiktok.refresh_count == 1
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]

    status, again = await post_form(http, token_url, refresh)
    assert (status, again["error"]) == (400, "invalid_grant")
    assert not tiktok.is_access_valid(first["access_token"])
    assert tiktok.is_access_valid(second["access_token"])

    status, bad = await post_form(http, token_url, {**refresh, "client_secret": "nope"})
    assert (status, bad["error"]) == (401, "invalid_client")
    assert {c.name for c in tiktok.calls} == {"token"}
    assert first["access_token"] in tiktok.all_secrets()


async def test_user_info_and_revoke(tiktok: FakeTikTok, http: aiohttp.ClientSession):
    grant = tiktok.issue_token("open-1")
    headers = {"Authorization": f"Bearer {grant.access_token}"}
    url = tiktok.url + "/v2/user/info/?fields=open_id,display_name"
    async with http.get(url, headers=headers) as resp:
        body = await resp.json()
    assert body["data"]["user"] == {"open_id": "open-1", "display_name": "Brand Social"}
    assert body["error"]["code"] == "ok"

    revoke = token_form(tiktok, token=grant.access_token)
    assert await post_form(http, tiktok.url + "/v2/oauth/revoke/", revoke) == (200, {})
    assert tiktok.revoked == [grant.access_token]
    async with http.get(url, headers=headers) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "access_token_invalid"


async def test_cancel_default_paths(tiktok: FakeTikTok, http: aiohttp.ClientSession):
    token = tiktok.issue_token("open-1").access_token
    tiktok.add_upload("v_inbox_url~v2.1", open_id="open-1")
    tiktok.add_upload("v_inbox_url~v2.2", open_id="open-2")
    tiktok.add_upload("v_inbox_url~v2.3", open_id="open-1", status="PUBLISH_COMPLETE")

    status, body = await api(http, tiktok, "cancel", token, "v_inbox_url~v2.1")
    assert status == 200 and body["error"]["code"] == "ok" and "data" not in body
    assert tiktok.uploads["v_inbox_url~v2.1"].fail_reason == "publish_cancelled"

    status, body = await api(http, tiktok, "status", token, "v_inbox_url~v2.1")
    assert status == 200
    assert body["data"]["status"] == "FAILED"
    assert body["data"]["fail_reason"] == "publish_cancelled"

    expected = {
        "nope": (400, "invalid_publish_id"),
        "v_inbox_url~v2.2": (400, "token_not_authorized_for_specified_publish_id"),
        "v_inbox_url~v2.3": (400, "publish_not_cancellable"),
    }
    for publish_id, (want_status, want_code) in expected.items():
        status, body = await api(http, tiktok, "cancel", token, publish_id)
        assert (status, body["error"]["code"]) == (want_status, want_code), publish_id

    tiktok.expire_access_token(token)
    status, body = await api(http, tiktok, "cancel", token, "v_inbox_url~v2.3")
    assert (status, body["error"]["code"]) == (401, "access_token_invalid")

    log_ids = [c.response["error"]["log_id"] for c in tiktok.calls_to("cancel")]  # type: ignore[index]
    assert len(set(log_ids)) == len(log_ids) == 5
    assert tiktok.calls_to("cancel")[0].token == token


async def test_an_accepted_cancel_can_wait_for_tiktoks_word(
    tiktok: FakeTikTok, http: aiohttp.ClientSession
):
    token = tiktok.issue_token("open-1").access_token
    tiktok.add_upload("v_pub_url~v2.1", open_id="open-1")
    tiktok.settle_cancels = False
    heard: list[str] = []
    tiktok.on_cancel.append(lambda upload: heard.append(upload.publish_id))

    status, body = await api(http, tiktok, "cancel", token, "v_pub_url~v2.1")
    assert (status, body["error"]["code"]) == (200, "ok")
    assert heard == ["v_pub_url~v2.1"]
    upload = tiktok.uploads["v_pub_url~v2.1"]
    assert (upload.status, upload.cancel_requested) == ("PROCESSING_DOWNLOAD", True)
    _, body = await api(http, tiktok, "status", token, "v_pub_url~v2.1")
    assert body["data"]["status"] == "PROCESSING_DOWNLOAD"

    tiktok.cancel_outcome("v_pub_url~v2.1", "PUBLISH_COMPLETE", post_ids=[7])
    _, body = await api(http, tiktok, "status", token, "v_pub_url~v2.1")
    assert body["data"]["status"] == "PUBLISH_COMPLETE"
    assert body["data"]["publicaly_available_post_id"] == [7]


async def test_cancel_answer_hook_answers_first_and_ok_counts_as_accepted(
    tiktok: FakeTikTok, http: aiohttp.ClientSession
):
    token = tiktok.issue_token("open-1").access_token
    tiktok.add_upload("v_pub_url~v2.1", open_id="open-1", status="PUBLISH_COMPLETE")
    heard: list[str] = []
    tiktok.on_cancel.append(lambda upload: heard.append(upload.publish_id))
    answers = {"v_pub_url~v2.1": Reply(status=200, json={"error": {"code": "ok"}})}
    tiktok.cancel_answer = answers.get
    status, _ = await api(http, tiktok, "cancel", token, "v_pub_url~v2.1")
    assert status == 200 and heard == ["v_pub_url~v2.1"]
    assert tiktok.uploads["v_pub_url~v2.1"].fail_reason == "publish_cancelled"
    tiktok.cancel_answer = lambda publish_id: None  # back to the default
    tiktok.add_upload("v_pub_url~v2.2", open_id="open-1", status="PUBLISH_COMPLETE")
    status, body = await api(http, tiktok, "cancel", token, "v_pub_url~v2.2")
    assert (status, body["error"]["code"]) == (400, "publish_not_cancellable")
    assert heard == ["v_pub_url~v2.1"]


async def test_scripted_replies(tiktok: FakeTikTok, http: aiohttp.ClientSession):
    tiktok.script_error("cancel", 429, "rate_limit_exceeded")
    tiktok.script(
        "cancel", Reply(status=502, body="<html>bad gateway</html>", content_type="text/html")
    )
    status, body = await api(http, tiktok, "cancel", "whatever", "p1")
    assert (status, body["error"]["code"]) == (429, "rate_limit_exceeded")
    async with http.post(tiktok.url + "/v2/post/publish/cancel/", json={}) as resp:
        assert resp.status == 502 and "bad gateway" in await resp.text()
    assert len(tiktok.calls_to("/publish/cancel/")) == 2


async def test_scripted_hang_is_cut_by_client_timeout(
    tiktok: FakeTikTok, http: aiohttp.ClientSession
):
    tiktok.script("cancel", Reply(hang=True))
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        async with http.post(
            tiktok.url + "/v2/post/publish/cancel/",
            json={"publish_id": "p"},
            timeout=aiohttp.ClientTimeout(total=0.2),
        ):
            pass
    assert time.monotonic() - started < 1.0
    assert len(tiktok.calls_to("cancel")) == 1


async def test_scripted_reset_mid_body(tiktok: FakeTikTok, http: aiohttp.ClientSession):
    tiktok.script("status", Reply(json={"data": {"status": "PROCESSING_DOWNLOAD"}}, reset=True))
    url = tiktok.url + "/v2/post/publish/status/fetch/"
    with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ClientConnectionError)):
        async with http.post(url, json={"publish_id": "p"}) as resp:
            assert resp.status == 200  # headers arrived; the body did not
            await resp.read()


async def test_webhook_signature(tiktok: FakeTikTok):
    body = tiktok.webhook_body("post.publish.failed", {"publish_id": "p", "reason": "internal"})
    header = tiktok.sign_webhook(body, t=1700000000)
    parts = dict(item.split("=", 1) for item in header.split(","))
    assert parts["t"] == "1700000000" and len(parts["s"]) == 64
    assert json.loads(json.loads(body)["content"])["publish_id"] == "p"


# -- Slack -----------------------------------------------------------------------------


async def test_slack_web_api_recording_and_failures(slack: FakeSlack):
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    auth = await client.auth_test()
    assert auth["user_id"] == "UBOT"
    first = await client.chat_postMessage(channel="C1", text="hi", blocks=[{"type": "divider"}])
    second = await client.chat_postMessage(channel="C1", text="again")
    assert first["ts"] < second["ts"]
    slack.set_user("UADMIN", is_admin=True)
    assert (await client.users_info(user="UADMIN"))["user"]["is_admin"] is True
    assert (await client.conversations_open(users="U1"))["channel"]["id"] == "DU1"

    call = slack.calls_to("chat.postMessage")[0]
    assert call.params["blocks"] == [{"type": "divider"}]
    assert call.token == slack.bot_token

    slack.fail("chat.update", "message_not_found")
    slack.ratelimit("chat.postMessage", retry_after=3)
    with pytest.raises(Exception, match="message_not_found"):
        await client.chat_update(channel="C1", ts=first["ts"], text="x")
    with pytest.raises(Exception, match="ratelimited") as info:
        await client.chat_postMessage(channel="C1", text="x")
    assert info.value.response.headers["Retry-After"] == "3"  # type: ignore[attr-defined]

    bad = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    with pytest.raises(Exception, match="invalid_auth"):
        await bad.auth_test()


async def test_slack_hold_keeps_matching_calls_back_until_released(slack: FakeSlack):
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    posted = await client.chat_postMessage(channel="C1", text="first")
    slow = slack.hold("chat.update", channel="C1")
    held = asyncio.ensure_future(client.chat_update(channel="C1", ts=posted["ts"], text="new"))
    await slow.wait_arrived()
    assert len(slack.calls_to("chat.update")) == 1  # recorded on arrival
    # another channel, and other methods, answer at once; the held call is still waiting
    await client.chat_update(channel="C2", ts="1.000001", text="elsewhere")
    await client.chat_postMessage(channel="C1", text="a thread reply", thread_ts=posted["ts"])
    assert not held.done()
    assert slack.messages[("C1", posted["ts"])]["text"] == "first"
    slow.release()
    assert (await held)["ok"] is True
    assert slack.messages[("C1", posted["ts"])]["text"] == "new"
    # `count`: only the first matching call is held
    once = slack.hold("chat.postMessage", count=1)
    first = asyncio.ensure_future(client.chat_postMessage(channel="C1", text="held"))
    await once.wait_arrived()
    await client.chat_postMessage(channel="C1", text="not held")
    assert not first.done() and once.held == 1
    once.release()
    assert (await first)["ok"] is True


async def test_response_url_wait(slack: FakeSlack, http: aiohttp.ClientSession):
    url = slack.new_response_url()
    slack.fail_response(status=500)
    async with http.post(url, json={"text": "lost"}) as resp:
        assert resp.status == 500

    async def later() -> None:
        await asyncio.sleep(0.05)
        async with http.post(url, json={"text": "done", "replace_original": True}) as resp:
            assert resp.status == 200

    task = asyncio.create_task(later())
    bodies = await slack.wait_for_responses(url, timeout=2)
    await task
    assert bodies == [{"text": "done", "replace_original": True}]
    with pytest.raises(AssertionError, match="expected 2"):
        await slack.wait_for_responses(url, count=2, timeout=0.05)


async def test_socket_mode_round_trip(slack: FakeSlack, http: aiohttp.ClientSession):
    headers = {"Authorization": f"Bearer {slack.app_token}"}
    async with http.post(slack.api_url + "apps.connections.open", headers=headers) as resp:
        opened = await resp.json()
    assert opened["ok"] is True

    async with http.ws_connect(opened["url"]) as ws:
        hello = await ws.receive_json(timeout=2)
        assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == "A1"
        await slack.wait_for_socket(timeout=1)

        payload = slash_command_payload("cancel p1", response_url=slack.new_response_url())
        envelope_id = await slack.send_envelope("slash_commands", payload)
        envelope = await ws.receive_json(timeout=2)
        assert envelope["envelope_id"] == envelope_id
        assert envelope["type"] == "slash_commands" and envelope["payload"]["text"] == "cancel p1"

        await ws.send_json({"envelope_id": envelope_id, "payload": {"text": "on it"}})
        ack = await slack.wait_for_ack(envelope_id, timeout=2)
        assert ack["payload"] == {"text": "on it"}

    wrong = {"Authorization": f"Bearer {slack.bot_token}"}
    async with http.post(slack.api_url + "apps.connections.open", headers=wrong) as resp:
        assert (await resp.json())["error"] == "invalid_auth"


async def test_signed_requests_verify(http: aiohttp.ClientSession):
    secret = "test-signing-secret"
    seen: list[tuple[dict[str, str], str]] = []

    async def capture(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.text()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/slack/events", capture)
    server = LoopbackServer(app)
    await server.start()
    try:
        slash = slash_command_body("status p1", response_url="http://127.0.0.1/r/1")
        action = block_actions_body("cancel", "p1", response_url="http://127.0.0.1/r/2")
        for body in (slash, action):
            assert await post_signed(http, server.url + "/slack/events", body, secret) == (
                200,
                "ok",
            )
    finally:
        await server.stop()

    verifier = SignatureVerifier(secret)
    for headers, body in seen:
        ts, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
        assert verifier.is_valid(body, ts, signature)
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(seen[0][1])["command"] == ["/tiktok-cancel"]
    action_payload = json.loads(parse_qs(seen[1][1])["payload"][0])
    assert action_payload["type"] == "block_actions"
    assert action_payload["actions"][0]["value"] == "p1"
    assert not verifier.is_valid(seen[0][1], "1", seen[0][0]["X-Slack-Signature"])
