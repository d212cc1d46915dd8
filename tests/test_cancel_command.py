"""`/tiktok-cancel <publish_id> [reason]`: what the person sees and what the audit keeps."""

from __future__ import annotations

from tests.conftest import button_urls, text_of

PID = "v_pub_url~v2.123456789"


async def test_cancel_with_linked_account(h):
    await h.link()
    h.tiktok.add_upload(PID, open_id="open-1")
    answer = await h.command(f"{PID} wrong video")
    text = text_of(answer)
    assert "Cancelled" in text
    assert "Still running:* no" in text
    cancel_calls = h.tiktok.calls_to("cancel")
    assert len(cancel_calls) == 1
    assert cancel_calls[0].body == {"publish_id": PID}
    log_id = cancel_calls[0].response["error"]["log_id"]
    assert log_id in text
    assert PID in text
    row = h.last_audit()
    assert row["state"] == "finished"
    assert row["outcome"] == "ok"
    assert row["publish_id"] == PID
    assert row["reason"] == "wrong video"
    assert row["source"] == "command"
    assert row["http_status"] == 200
    assert row["log_id"] == log_id
    assert row["account"] == "Brand Social"
    assert row["user_id"] == "U1"
    assert row["latency_ms"] is not None


async def test_cancel_without_link_offers_connect_and_makes_no_call(h):
    answer = await h.command(PID)
    assert h.tiktok.calls_to("cancel") == []
    urls = button_urls(answer)
    assert urls and urls[0].startswith(h.settings.tiktok_authorize_url)
    assert h.last_audit()["outcome"] == "not_linked"
