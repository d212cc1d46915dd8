"""Socket Mode end to end: the bot connects out to the fake's websocket, acks envelopes and
answers through response_url, while its own HTTP server keeps serving everything but Slack."""

from __future__ import annotations

from sandbox.fakes.server import Reply
from sandbox.fakes.slack_requests import block_actions_payload, slash_command_payload
from tests.conftest import text_of

PID = "v_pub_url~v2.123456789"


async def socket_bot(h) -> None:
    await h.restart(slack_app_token=h.slack.app_token)
    await h.slack.wait_for_socket()


async def test_slash_command_over_the_socket(h):
    await socket_bot(h)
    assert h.slack.calls_to("apps.connections.open")
    url = h.slack.new_response_url()
    envelope_id = await h.slack.send_envelope(
        "slash_commands", slash_command_payload("help", response_url=url)
    )
    ack = await h.slack.wait_for_ack(envelope_id)
    assert ack["envelope_id"] == envelope_id
    (answer,) = await h.slack.wait_for_responses(url, 1)
    assert answer["response_type"] == "ephemeral"
    assert "/tiktok-cancel status" in text_of(answer)


async def test_cancel_click_over_the_socket(h):
    await h.link()  # over HTTP, before switching modes: the link lives in SQLite
    h.tiktok.add_upload(PID, open_id="open-1")
    await socket_bot(h)
    url = h.slack.new_response_url()
    envelope_id = await h.slack.send_envelope(
        "interactive", block_actions_payload("cancel_upload", PID, response_url=url)
    )
    await h.slack.wait_for_ack(envelope_id)
    (answer,) = await h.slack.wait_for_responses(url, 1, timeout=10)
    assert "TikTok is stopping" in text_of(answer)
    assert len(h.tiktok.calls_to("cancel")) == 1
    row = h.last_audit()
    assert row["source"] == "button"
    assert row["outcome"] == "ok"


async def test_unsigned_commands_over_the_socket_need_no_signature(h):
    """Socket Mode trusts the authenticated socket: no signature headers exist there."""
    await socket_bot(h)
    url = h.slack.new_response_url()
    envelope_id = await h.slack.send_envelope(
        "slash_commands", slash_command_payload("stauts", response_url=url)
    )
    await h.slack.wait_for_ack(envelope_id)
    (answer,) = await h.slack.wait_for_responses(url, 1)
    assert "Did you mean `/tiktok-cancel status`" in text_of(answer)


async def test_http_routes_in_socket_mode(h):
    await socket_bot(h)
    async with h.session.post(h.url + "/slack/events", data=b"x") as resp:
        assert resp.status == 404
    async with h.session.get(h.url + "/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["mode"] == "socket"
    async with h.session.get(h.url + "/tiktok/oauth/callback", params={"state": "x"}) as resp:
        assert resp.status == 400  # served (a state we never made), not 404


async def test_envelope_is_acked_before_tiktok_answers(h):
    await h.link()
    h.tiktok.add_upload(PID, open_id="open-1")
    h.tiktok.script("cancel", Reply(hang=True))
    await socket_bot(h)
    url = h.slack.new_response_url()
    envelope_id = await h.slack.send_envelope(
        "slash_commands", slash_command_payload(PID, response_url=url)
    )
    await h.slack.wait_for_ack(envelope_id, timeout=3)
    assert h.slack.responses.get(url, []) == []  # TikTok is still hanging
    (answer,) = await h.slack.wait_for_responses(url, 1, timeout=15)
    assert "Still running:* unknown" in text_of(answer)
