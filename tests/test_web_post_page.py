"""The web post page: the post-page form at a per-person, expiring, single-use link on the
bot's own server (`GET /approve/<token>` and its form's POST), for a video preview and for
people who review outside Slack, with the modal's rules and words.

Each approver's direct message carries their own link ("Open the post page in a browser"),
as does the modal they open. Whoever holds a link acts as the person it was made for; the page
is TikTok's post page (fresh creator_info, no privacy preselected, disabled interactions greyed
out, the disclosure, the consent line), its form is guarded by a per-render form token, and
the link works once.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.interactions import REVIEW_ACTION
from bot.uploads.approval_links import public_base
from tests.conftest import db_bytes, db_rows, text_of
from tests.held_helpers import (
    BOB,
    SOURCE,
    assert_valid_blocks,
    held_harness,
    inits,
    msg,
    row,
    until,
)
from tests.post_page_helpers import (
    ALICE,
    BEN,
    CAROL,
    approval_body,
    browser_links,
    choices,
    dm_link,
    dms_to,
    get_page,
    in_seconds,
    post_form,
    wait_for_upload,
)

PRIVACY = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
BRANDED_PRIVATE = "Branded content can't be private (Only me): choose another audience."
PRIVACY_MISSING = "Choose who can see this post: TikTok asks for it every time."
KIND_MISSING = (
    "You said this post is commercial content: tick Your brand, Branded content, or both."
)


@pytest.fixture
async def hh(h):
    return await held_harness(h)


def approvals_rows(h, key="run-1") -> list[dict]:
    return db_rows(h, "SELECT * FROM approvals WHERE upload_key = ? ORDER BY user_id", key)


def thread_replies(h, key="run-1") -> list[dict]:
    ts = row(h, key)["ts"]
    return [msg(c) for c in h.slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]


# --- the page --------------------------------------------------------------------------------


async def test_the_page_is_the_post_page_with_nothing_chosen_and_duet_greyed_out(hh):
    h = hh
    h.tiktok.creator_for("open-brand").duet_disabled = True
    await wait_for_upload(h, approval_body(title="Spring teaser & <b>co</b>"))
    path = await dm_link(h, ALICE)

    page = await get_page(h, path)

    assert page.status == 200
    assert "Posting to TikTok as Brand Social TT (team account brand)" in page.text
    assert page.one("img")["src"] == "https://p16.tiktokcdn.example/open-brand.jpeg"
    assert page.one("video")["src"] == SOURCE
    # the caption, editable, prefilled with what the pipeline asked, escaped
    caption = page.one("textarea", name="caption")
    assert caption["maxlength"] == "2200"
    assert caption["content"] == "Spring teaser & <b>co</b>"
    assert "<b>co</b>" not in page.html
    # privacy: the fresh options, nothing chosen but the disabled placeholder
    options = page.all("option")
    assert [o["value"] for o in options] == ["", *PRIVACY]
    assert [o["content"] for o in options] == [
        "Choose who can see it",
        "Public",
        "Friends",
        "Only me",
    ]
    assert "selected" in options[0] and "disabled" in options[0]
    assert not any("selected" in o for o in options[1:])
    assert "The upload pipeline asked for: Public. TikTok asks you to choose." in page.text
    # comment and stitch offered, unticked; duet greyed out, as creator_info says
    for name in ("comment", "stitch"):
        box = page.checkbox("interactions", name)
        assert "checked" not in box and "disabled" not in box
    duet = page.checkbox("interactions", "duet")
    assert "disabled" in duet and "checked" not in duet
    assert "Duet: turned off in this account's TikTok settings." in page.text
    # the disclosure and the consent line
    assert "checked" not in page.checkbox("commercial", "on")
    for kind in ("your_brand", "branded"):
        assert "checked" not in page.checkbox("commercial_kind", kind)
    assert "This post promotes a brand, product or service" in page.text
    assert "Your brand" in page.text and "Branded content" in page.text
    assert "By posting, you agree to TikTok's Music Usage Confirmation." in page.text
    assert "you also agree to TikTok's Branded Content Policy." in page.text
    links = {a["content"]: a["href"] for a in page.all("a")}
    assert links["Music Usage Confirmation"].startswith("https://www.tiktok.com/legal/")
    assert links["Branded Content Policy"].startswith("https://www.tiktok.com/legal/")
    assert len(page.form_token) >= 40
    assert "Approve and post" in page.text
    # our pages' headers, with the video's and the avatar's origins let in
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "media-src https://cdn.example.com" in csp
    assert "img-src https://p16.tiktokcdn.example" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.one("form")["method"] == "post" and "action" not in page.one("form")


async def test_approving_on_the_page_starts_the_upload_once_with_the_choices_made(hh):
    h = hh
    h.tiktok.creator_for("open-brand").duet_disabled = True
    await wait_for_upload(h, approval_body())
    path = await dm_link(h, ALICE)
    page = await get_page(h, path)

    done = await post_form(
        h,
        path,
        choices(
            page.form_token,
            privacy="MUTUAL_FOLLOW_FRIENDS",
            caption="Spring teaser, edited\r\nsecond line",
            interactions=["comment", "duet"],  # duet is greyed out: never allowed
        ),
    )

    assert done.status == 200, done.text
    assert "Started: TikTok accepted \u201cSpring teaser, edited" in done.text
    (init,) = inits(h)
    post = init.body["post_info"]
    assert post["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"
    assert post["title"] == "Spring teaser, edited\nsecond line"
    assert post["disable_comment"] is False
    assert post["disable_duet"] is True
    assert post["disable_stitch"] is True
    assert post["brand_content_toggle"] is False and post["brand_organic_toggle"] is False
    (approval,) = approvals_rows(h)
    assert approval["user_id"] == ALICE and approval["via"] == "web"
    await until(lambda: any("on the web post page" in text_of(m) for m in thread_replies(h)))
    for call in h.slack.calls_to("chat.postMessage") + h.slack.calls_to("chat.update"):
        assert_valid_blocks(msg(call))


# --- the form token (CSRF) and single use ----------------------------------------------------


async def test_a_form_without_the_newest_form_token_approves_nothing(hh):
    h = hh
    await wait_for_upload(h, approval_body())
    path = await dm_link(h, ALICE)
    first = await get_page(h, path)
    newest = await get_page(h, path)  # opened again (another tab): only this one can approve
    assert first.form_token != newest.form_token

    for token in ("", "forged-token", first.form_token, newest.form_token + "x"):
        refused = await post_form(h, path, choices(token))
        assert refused.status == 403, refused.text
        assert "This form is out of date" in refused.text
        assert "Nothing was approved. Reload this page for a fresh form." in refused.text
    no_token = await post_form(h, path, [("privacy", "PUBLIC_TO_EVERYONE")])
    assert no_token.status == 403
    assert approvals_rows(h) == [] and inits(h) == []

    done = await post_form(h, path, choices(newest.form_token))  # the link still works
    assert done.status == 200, done.text
    assert len(inits(h)) == 1


async def test_a_link_works_once(hh):
    h = hh
    await wait_for_upload(h, approval_body(approvers=[ALICE, BEN], needed=2))
    path = await dm_link(h, ALICE)
    page = await get_page(h, path)
    done = await post_form(h, path, choices(page.form_token))
    assert done.status == 200, done.text
    assert (
        "Your approval of \u201cSpring teaser\u201d is in (1 of 2 needed (@UALICE))." in done.text
    )

    again = await post_form(h, path, choices(page.form_token))
    assert again.status == 410
    assert "This link was already used" in again.text
    reopened = await get_page(h, path)
    assert reopened.status == 410 and "This link was already used" in reopened.text
    assert [r["user_id"] for r in approvals_rows(h)] == [ALICE]
    assert inits(h) == []


async def test_two_posts_of_one_form_at_once_make_one_approval_and_one_start(hh):
    h = hh
    await wait_for_upload(h, approval_body())
    path = await dm_link(h, ALICE)
    page = await get_page(h, path)
    hold = h.tiktok.hold("creator_info")  # both posts reach their fresh creator_info
    posts = [asyncio.create_task(post_form(h, path, choices(page.form_token))) for _ in range(2)]
    await until(lambda: hold.held == 2)
    hold.release()

    answers = sorted([await p for p in posts], key=lambda p: p.status)

    assert [a.status for a in answers] == [200, 410]
    assert "Started: TikTok accepted" in answers[0].text
    assert "This link was already used" in answers[1].text
    assert len(approvals_rows(h)) == 1
    assert len(inits(h)) == 1


# --- who acts ----------------------------------------------------------------------------------


async def test_a_link_acts_only_as_the_person_it_was_made_for(hh):
    h = hh
    await wait_for_upload(h, approval_body(approvers=[ALICE, BEN], needed=2))
    alice_path, ben_path = await dm_link(h, ALICE), await dm_link(h, BEN)
    assert alice_path != ben_path
    assert dms_to(h, BOB) == []  # the sender is no approver of their own upload
    page = await get_page(h, alice_path)

    # names typed into the form count for nothing: the link is Alice's
    sent = choices(page.form_token, user_id=BEN, user=BEN, approver=BEN)
    done = await post_form(h, alice_path, sent)

    assert done.status == 200, done.text
    assert [r["user_id"] for r in approvals_rows(h)] == [ALICE]
    ben_page = await get_page(h, ben_path)
    assert ben_page.status == 200
    assert "Approvals: 1 of 2 needed (@UALICE)" in ben_page.text
    assert "Approve and post" in ben_page.text  # Ben's is the last one needed
    done = await post_form(h, ben_path, choices(ben_page.form_token, privacy="SELF_ONLY"))
    assert done.status == 200, done.text
    assert [r["user_id"] for r in approvals_rows(h)] == [ALICE, BEN]
    (init,) = inits(h)
    assert init.body["post_info"]["privacy_level"] == "SELF_ONLY"


async def test_the_modal_carries_a_link_for_the_person_who_opened_it(hh):
    h = hh
    await wait_for_upload(h, approval_body(approvers=[ALICE, BEN], needed=2))
    await h.driver.send_click(REVIEW_ACTION, "run-1", user_id=BEN)
    (view,) = await h.slack.wait_for_view(BEN)
    urls = [
        e["url"]
        for b in view.view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("text", {}).get("text") == "Open this page in a browser"
    ]
    (url,) = urls
    path = url.removeprefix("https://bot.example.com")
    page = await get_page(h, path)
    done = await post_form(h, path, choices(page.form_token))
    assert done.status == 200, done.text
    assert [r["user_id"] for r in approvals_rows(h)] == [BEN]


async def test_a_link_of_someone_no_longer_an_approver_is_refused(hh):
    h = hh
    h.slack.set_usergroup("SLEADS", handle="social-leads", users=[ALICE, CAROL])
    await wait_for_upload(h, approval_body(approvers=["SLEADS"]))
    path = await dm_link(h, CAROL)
    h.slack.set_usergroup("SLEADS", handle="social-leads", users=[ALICE])  # Carol left

    page = await get_page(h, path)

    assert page.status == 403
    assert "Nothing was approved" in page.text
    assert "Only the people named as its approvers (or members of the named groups) may " in (
        page.text
    )
    assert page.all("form") == []
    refused = await post_form(h, path, choices("any"))
    assert refused.status == 403
    assert approvals_rows(h) == [] and inits(h) == []


async def test_the_page_says_so_when_its_person_approved_already_in_slack(hh):
    h = hh
    await wait_for_upload(h, approval_body(approvers=[ALICE, BEN], needed=2))
    path = await dm_link(h, ALICE)
    await h.driver.send_click(REVIEW_ACTION, "run-1", user_id=ALICE)
    await h.slack.wait_for_view(ALICE)
    status, ack = await h.driver.submit_view(ALICE, privacy="PUBLIC_TO_EVERYONE")
    assert status == 200 and ack is None
    await until(lambda: len(approvals_rows(h)) == 1)

    page = await get_page(h, path)

    assert page.status == 403
    assert "You approved \u201cSpring teaser\u201d already; each approver counts once." in page.text


# --- the rules, as on the modal ---------------------------------------------------------------


async def test_branded_content_cant_be_only_me_and_the_form_comes_back_with_a_new_token(hh):
    h = hh
    await wait_for_upload(h, approval_body())
    path = await dm_link(h, ALICE)
    page = await get_page(h, path)
    sent = choices(
        page.form_token,
        privacy="SELF_ONLY",
        caption="Paid & <i>",
        commercial=True,
        kinds=["branded"],
    )

    again = await post_form(h, path, sent)

    assert again.status == 400
    assert BRANDED_PRIVATE in again.text
    assert again.one("option", value="SELF_ONLY").get("selected") == ""  # kept as chosen
    assert "checked" in again.checkbox("commercial", "on")
    assert "checked" in again.checkbox("commercial_kind", "branded")
    assert again.one("textarea", name="caption")["content"] == "Paid & <i>"
    assert again.form_token != page.form_token
    assert approvals_rows(h) == [] and inits(h) == []
    stale = await post_form(h, path, choices(page.form_token, privacy="PUBLIC_TO_EVERYONE"))
    assert stale.status == 403

    fixed = choices(
        again.form_token, privacy="PUBLIC_TO_EVERYONE", commercial=True, kinds=["branded"]
    )
    done = await post_form(h, path, fixed)
    assert done.status == 200, done.text
    (init,) = inits(h)
    assert init.body["post_info"]["brand_content_toggle"] is True
    assert init.body["post_info"]["brand_organic_toggle"] is False


async def test_no_privacy_and_no_kind_are_refused_next_to_their_fields(hh):
    h = hh
    await wait_for_upload(h, approval_body())
    path = await dm_link(h, ALICE)
    page = await get_page(h, path)

    again = await post_form(h, path, choices(page.form_token, privacy="", commercial=True))

    assert again.status == 400
    assert PRIVACY_MISSING in again.text
    assert KIND_MISSING in again.text
    assert "id=privacy-error" in again.html and "id=commercial_kind-error" in again.html
    assert "selected" in again.all("option")[0]  # still nothing chosen
    offered = await post_form(h, path, choices(again.form_token, privacy="PUBLIC_TO_EVERYONE!"))
    assert offered.status == 400
    assert "This account can't post with that audience now: choose another one." in offered.text
    assert approvals_rows(h) == [] and inits(h) == []


async def test_a_private_account_is_offered_only_me_and_a_long_video_is_refused(hh):
    h = hh
    await wait_for_upload(h, approval_body())
    creator = h.tiktok.creator_for("open-brand")
    creator.privacy_level_options = ["SELF_ONLY"]  # the account went private since
    creator.max_video_post_duration_sec = 30  # and may post 30 s now
    path = await dm_link(h, ALICE)

    page = await get_page(h, path)

    assert [o["value"] for o in page.all("option")] == ["", "SELF_ONLY"]
    too_long = (
        "This video is 42.5 s long; this account may post at most 30 s now. Reject it, or "
        "cancel it and send a shorter cut."
    )
    assert too_long in page.text
    again = await post_form(h, path, choices(page.form_token, privacy="SELF_ONLY"))
    assert again.status == 400
    assert "id=caption-error" in again.html and too_long in again.text
    assert approvals_rows(h) == [] and inits(h) == []


async def test_a_full_caption_of_wide_characters_fits_and_is_kept_whole(hh):
    h = hh
    await wait_for_upload(h, approval_body())
    path = await dm_link(h, ALICE)
    page = await get_page(h, path)
    caption = "\u6625" * 2100 + "&<>\U0001f389" * 20  # 2,200 characters, 3-4 bytes each

    done = await post_form(h, path, choices(page.form_token, caption=caption))

    assert done.status == 200, done.text
    (init,) = inits(h)
    assert init.body["post_info"]["title"] == caption


# --- links that don't work -----------------------------------------------------------------------


async def test_an_unknown_link_gets_a_plain_page(hh):
    h = hh
    for path in ("/approve/nonsense", "/approve/" + "A" * 43, "/approve/" + "x" * 300):
        page = await get_page(h, path)
        assert page.status == 404
        assert "This link isn't one we made" in page.text
        assert page.headers["X-Frame-Options"] == "DENY"
        posted = await post_form(h, path, choices("x"))
        assert posted.status == 404


async def test_an_expired_link_gets_a_plain_page(hh):
    h = hh
    await wait_for_upload(h, approval_body(approve_by=in_seconds(3)))
    path = await dm_link(h, ALICE)
    page = await get_page(h, path)
    assert page.status == 200
    await until(lambda: row(h)["state"] == "expired", timeout=10)

    again = await get_page(h, path)
    posted = await post_form(h, path, choices(page.form_token))

    assert again.status == 410 and posted.status == 410
    assert "This link has expired" in again.text
    assert "never past the upload's deadline. Nothing was approved." in again.text
    assert approvals_rows(h) == [] and inits(h) == []


async def test_a_link_lasts_a_day_at_most(hh):
    h = hh
    await wait_for_upload(h, approval_body(approve_by=in_seconds(48 * 3600)))
    await dm_link(h, ALICE)
    (link,) = db_rows(h, "SELECT * FROM approval_links WHERE user_id = ?", ALICE)
    assert link["expires_at"] - link["created_at"] == pytest.approx(24 * 3600, abs=1)
    assert link["upload_key"] == "run-1" and link["used_at"] is None


async def test_no_link_is_stored_whole_and_none_is_offered_without_a_public_url(hh):
    h = hh
    await wait_for_upload(h, approval_body())
    path = await dm_link(h, ALICE)
    token = path.rsplit("/", 1)[1]
    await get_page(h, path)
    assert token.encode() not in db_bytes(h)

    await h.restart(tiktok_redirect_uri=None)
    await wait_for_upload(h, approval_body(key="run-2"))
    await until(lambda: len(dms_to(h, ALICE)) == 2)
    assert browser_links(dms_to(h, ALICE)[1]) == []
    assert "Review and approve" in text_of(dms_to(h, ALICE)[1])


def test_the_public_base_is_where_the_oauth_callback_is():
    assert public_base("https://bot.example.com/tiktok/oauth/callback") == "https://bot.example.com"
    assert public_base("https://x.example:8443/tiktok/oauth/callback") == "https://x.example:8443"
    assert public_base("https://x.example/bot/tiktok/oauth/callback") == "https://x.example/bot"
    assert public_base("https://x.example/elsewhere/cb") == "https://x.example"
    assert public_base("") == "" and public_base(None) == ""
    assert public_base("ftp://x.example/tiktok/oauth/callback") == ""
