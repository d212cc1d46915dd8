"""Every sentence true, round 3: TikTok's facts as its docs state them, and the small things a
careful reader caught (a placeholder instead of a real account, "just now", a heading that
agrees with its bullets, a cancel's FAILED explained, attempts that never reached TikTok kept
out of the channel, what the Connect button's 10 minutes are about, no jargon in headlines).
"""

from __future__ import annotations

import html

import pytest

from bot import messages
from bot.tiktok.catalog import CATALOG, FALLBACK
from sandbox.fakes.server import Reply
from storage.announcements import Announcement
from tests.conftest import button_urls, text_of
from tests.upload_helpers import PID, announce, settle, thread_posts, warning_lines

OWN_ACCOUNT_IF = "If your own linked TikTok account started this upload"


async def test_an_unaudited_app_posts_only_to_private_accounts_as_only_me(h):
    text = text_of(await h.command("explain unaudited_client_can_only_post_to_private_accounts"))
    assert 'may only post to private accounts, as "Only me"' in text
    assert 'visible to that account only ("Only me")' in text
    assert 'with the privacy "Only me"' in text


@pytest.mark.parametrize("code", ["team_link_expired", "not_granted", "no_such_account"])
async def test_your_own_account_is_offered_only_for_uploads_it_started(h, code):
    text = text_of(await h.command(f"explain {code}"))
    assert OWN_ACCOUNT_IF in text
    assert "or cancel with your own" not in text
    assert "or use your own linked account" not in text


async def test_a_ban_claims_nothing_about_notices_tiktok_does_not_document(h):
    for code in ("spam_risk_user_banned_from_posting", "spam_risk"):
        text = text_of(await h.command(f"explain {code}"))
        assert "notice" not in text, code
    banned = text_of(await h.command("explain spam_risk_user_banned_from_posting"))
    assert "TikTok didn't say why or for how long" in banned


async def test_invalid_grant_on_a_first_link_says_the_code_could_not_be_exchanged(h):
    text = text_of(await h.command("explain invalid_grant"))
    assert "TikTok couldn't complete the sign-in, so your account wasn't linked." in text
    assert "couldn't exchange the sign-in code" in text
    assert "had already been used" in text and "return address doesn't match" in text
    assert "no longer accepts this link" not in text


async def test_invalid_grant_on_the_callback_page_says_the_same(h):
    url = await h.connect_url()
    state = url.split("state=")[1].split("&")[0]
    h.tiktok.script_error("token", 400, "invalid_grant")
    status, page = await h.consent({"code": "spent-code", "state": state})
    page = html.unescape(page)
    assert "couldn't exchange the sign-in code" in page
    assert "no longer accepts this link" not in page


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


def test_a_cancelled_upload_says_failed_is_how_tiktok_reports_a_cancel():
    a = Announcement(
        PID,
        "T1",
        "C1",
        "1.2",
        status="FAILED",
        fail_reason="publish_cancelled",
        final=True,
        cancel_by="U1",
        cancel_at=1_700_000_000,
        final_at=1_700_000_060,
    )
    text = text_of(messages.final_state_message(messages.AnnouncedView.of(a)))
    assert "cancelled, so it won't be posted" in text
    assert "(how TikTok reports a cancelled upload)" in text


async def test_a_restriction_warning_heading_agrees_with_its_bullets(hn):
    await announce(hn, title="Teaser", video={"format": "avi", "fps": 120})
    (post,) = hn.slack.calls_to("chat.postMessage")
    lines = warning_lines(post.params)
    assert lines, post.params
    text = text_of(post.params)
    assert "TikTok will likely reject this upload" in text
    assert not [line for line in lines if "will fail" in line], lines


async def test_an_attempt_that_never_reached_tiktok_stays_out_of_the_channel(hn):
    h = hn
    await h.link("U1", "open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    body = await announce(h, title="Teaser")
    # U2 has no link: answered, audited, and nothing is posted in the thread
    answer = await h.click("cancel_upload", PID, user_id="U2")
    assert "you haven't linked a TikTok account yet" in text_of(answer)
    audit = [r for r in h.audit_rows() if r["user_id"] == "U2"]
    assert [(r["action"], r["outcome"]) for r in audit] == [("cancel", "not_linked")]
    # a later attempt that reached TikTok: its entry is the thread's first and only one
    await h.click("cancel_upload", PID, user_id="U1")
    await settle(h)
    posts = thread_posts(h, body["ts"])
    assert len(posts) == 1, [p.params for p in posts]
    assert "<@U1>" in text_of(posts[0].params)
    assert "<@U2>" not in text_of(posts[0].params)


async def test_a_list_of_a_new_upload_says_just_now(hn):
    await announce(hn, title="Fresh")
    text = text_of(await hn.command("list"))
    assert "announced just now" in text
    assert "0 min ago" not in text


async def test_connect_says_the_button_lasts_10_minutes_not_the_link(h):
    text = text_of(await h.command("connect"))
    assert "The button works once, for 10 minutes" in text
    assert "lasts until you disconnect it or TikTok stops renewing it" in text
    assert "and works for 10 minutes" not in text
    assert button_urls(await h.command("connect"))


def test_no_headline_speaks_of_an_app_key():
    for entry in [*CATALOG.values(), FALLBACK]:
        for headline in (entry.headline, entry.headline_on_cancel):
            assert "app key" not in headline, entry.code


async def test_a_start_code_answering_a_cancel_does_not_read_refused_to_start(h):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script("cancel", Reply(403, json={"error": {"code": "reached_active_user_cap"}}))
    text = text_of(await h.command(PID))
    assert "refused to start" not in text
    assert "TikTok answered with `reached_active_user_cap`" in text


async def test_a_refusal_after_a_try_that_may_have_acted_says_unknown(h):
    """TikTok's own error on the first try, then "too many requests": the first try may have
    cancelled it, so the answer is TikTok's error (unknown), never "we didn't stop it"."""
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script(
        "cancel",
        Reply(500, json={"error": {"code": "internal_error", "log_id": "L-first"}}),
        Reply(429, json={"error": {"code": "rate_limit_exceeded", "log_id": "L-second"}}),
        Reply(429, json={"error": {"code": "rate_limit_exceeded", "log_id": "L-third"}}),
    )
    text = text_of(await h.command(PID))
    assert "TikTok reported an error on its side" in text, text
    assert "Still running:* unknown" in text
    assert "too many requests" not in text
    assert len(h.tiktok.calls_to("cancel")) == 3
    assert h.last_audit()["outcome"] == "internal_error"
