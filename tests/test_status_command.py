"""`/tiktok-cancel status <publish_id>`: what TikTok says about an upload, in plain words, and
*unknown* when TikTok could not be asked."""

from __future__ import annotations

from tests.conftest import button_urls, buttons, text_of
from tests.explained import assert_explained

PID = "v_pub_url~v2.123456789"


async def status_of(h, state: str, fail_reason: str | None = None) -> dict:
    await h.link()
    h.tiktok.add_upload(PID, open_id="open-1", status=state, fail_reason=fail_reason)
    answer = await h.command(f"status {PID}")
    assert len(h.tiktok.calls_to("status")) == 1
    assert h.tiktok.calls_to("cancel") == []
    assert_explained(text_of(answer))
    assert PID in text_of(answer)
    return answer


async def test_status_processing_download_offers_cancel(h):
    answer = await status_of(h, "PROCESSING_DOWNLOAD")
    text = text_of(answer)
    assert "still downloading" in text
    assert "Still running:* yes" in text
    cancel = [b for b in buttons(answer) if b["action_id"] == "cancel_upload"]
    assert len(cancel) == 1
    assert cancel[0]["value"] == PID
    assert "confirm" in cancel[0]


async def test_status_failed_explains_the_reason(h):
    answer = await status_of(h, "FAILED", fail_reason="frame_rate_check_failed")
    text = text_of(answer)
    # one headline and one explanation: the fail reason's, not FAILED's as well
    assert text.count("failed: the video's frame rate isn't one TikTok accepts.") == 2  # + fallback
    assert "failed at TikTok" not in text and "Why it failed" not in text
    assert "Still running:* no" in text
    assert "TikTok status: `FAILED`, reason `frame_rate_check_failed`" in text
    assert not [b for b in buttons(answer) if b["action_id"] == "cancel_upload"]


async def test_status_publish_complete(h):
    answer = await status_of(h, "PUBLISH_COMPLETE")
    text = text_of(answer)
    assert "has been posted" in text
    assert "Still running:* no" in text
    assert not buttons(answer)


async def test_status_send_to_user_inbox(h):
    answer = await status_of(h, "SEND_TO_USER_INBOX")
    text = text_of(answer)
    assert "inbox" in text
    assert "Still running:* no" in text
    assert not [b for b in buttons(answer) if b["action_id"] == "cancel_upload"]


async def test_status_without_a_link_offers_connect(h):
    h.tiktok.add_upload(PID, open_id="open-1")
    answer = await h.command(f"status {PID}")
    urls = button_urls(answer)
    assert urls and urls[0].startswith(h.settings.tiktok_authorize_url)
    assert h.tiktok.calls_to("status") == []


async def test_a_failed_status_check_knows_nothing_about_the_upload(h):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script_error("status", 429, "rate_limit_exceeded", times=3)
    text = text_of(await h.command(f"status {PID}"))
    assert "Still running:* unknown \u2014 we couldn't find out from TikTok just now" in text
    assert "Still running:* yes" not in text


async def test_a_failed_status_with_a_reason_we_dont_know_names_it_once(h):
    await h.link()
    pid = "v_pub_url~v2.31337"
    h.tiktok.add_upload(pid)
    h.tiktok.set_status(pid, "FAILED", fail_reason="brand_new_reason_2027")
    answer = await h.command(f"status {pid}")
    text = text_of(answer)
    assert "failed at TikTok, so it won't be posted" in text
    assert text.count("brand_new_reason_2027") == 1, text
    assert "didn't say why" not in text
    assert "Still running:* no" in text
