"""The sandbox page (`python -m bot sandbox`): its JSON endpoints over HTTP, the consent page,
the TikTok stand-in's scripted answers and status moves, and /healthz. (Its command line is in
test_cli_sandbox.py, its Hold form in test_held_uploads_sandbox.py.)

An in-process `Sandbox` on port 0 with a temporary database runs the real bot against the
stand-ins; the tests talk to it as the page does.
"""

from __future__ import annotations

import asyncio
import html
import re

import aiohttp
import pytest

from sandbox.fakes.browser import Browser
from sandbox.server import CHANNEL, PEOPLE, answer_choices, cancel_codes
from tests.sandbox_page import (
    ALEX,
    SAM,
    allow_link,
    announcement,
    blocks_text,
    button,
    buttons,
    confirm_on_page,
    hold,
    press,
    upload,
)

# --- a sandbox in this process ------------------------------------------------------------


# --- the page and its JSON endpoints ---------------------------------------------------------


async def test_page_and_assets_are_served(page):
    for path, kind in (
        ("/", "text/html"),
        ("/static/sandbox.js", "javascript"),
        ("/static/sandbox.css", "text/css"),
    ):
        async with page.session.get(path) as resp:
            assert resp.status == 200
            assert kind in resp.headers["Content-Type"]
    state = await page.state()
    assert [p["user_id"] for p in state["people"]] == [p.user_id for p in PEOPLE]
    assert [c["id"] for c in state["channels"]] == [CHANNEL, "C0AUDIT"]
    assert state["uploads"] == [] and state["homes"] == {}


async def test_a_command_is_answered_only_to_whoever_typed_it(page):
    answer = await page.command("help")
    assert "stops a TikTok upload" in blocks_text(answer)
    assert answer["channel"] == CHANNEL
    state = await page.state()
    assert state["ephemeral"][SAM] == []
    assert all(c["messages"] == [] for c in state["channels"])  # nothing public


async def test_the_leading_slash_command_is_optional(page):
    answer = await page.command("/tiktok-cancel explain publish_not_cancellable")
    assert "already finished" in blocks_text(answer)


async def test_connect_consent_callback_links_and_dms(page, sb):
    answer = await page.command("connect")
    url = button(answer, "connect_tiktok")["url"]
    assert url.startswith(f"{sb.url}/tiktok/consent?")
    async with page.session.get(url) as resp:
        assert resp.status == 200
        consent = await resp.text()
    for person in PEOPLE:
        assert f"Allow as {person.tiktok_name}" in consent
    async with page.session.get(allow_link(consent, "Alex Rivera"), allow_redirects=False) as resp:
        assert resp.status == 302
        callback = resp.headers["Location"]
    assert callback.startswith(f"{sb.bot_url}/tiktok/oauth/callback?code=")
    browser = Browser(page.session)
    confirm = await browser.follow(callback)
    assert confirm.status == 200
    assert (await page.state())["dms"][ALEX] == []  # nothing linked before the confirm
    status, done = await confirm_on_page(browser, confirm)
    assert status == 200 and "Linked as Alex Rivera" in done
    dm = await page.until(lambda s: s["dms"][ALEX] and s["dms"][ALEX][-1])
    assert "Alex Rivera" in dm["text"]
    whoami = await page.command("whoami")
    assert "open-alex" in blocks_text(whoami)


async def test_dont_allow_links_nothing(page):
    answer = await page.command("connect")
    async with page.session.get(button(answer, "connect_tiktok")["url"]) as resp:
        consent = await resp.text()
    deny = html.unescape(re.search(r'<a class="deny" href="([^"]+)"', consent).group(1))
    async with page.session.get(deny) as resp:
        assert resp.status == 400  # the bot's own "didn't complete the link" page
        assert "nothing was linked" in (await resp.text()).lower()
    assert (await page.state())["dms"][ALEX] == []


async def test_consent_page_refuses_a_foreign_redirect(page, sb):
    async with page.session.get(
        "/tiktok/consent/answer",
        params={
            "client_key": sb.tiktok.client_key,
            "redirect_uri": "https://evil.example/cb",
            "state": "x",
            "open_id": "open-alex",
        },
        allow_redirects=False,
    ) as resp:
        assert resp.status == 400
        assert "redirect_uri" in await resp.text()


async def test_announce_then_click_cancel(page, sb):
    sb.settle_after_s = 0.5  # TikTok's word on the cancel (5 s on the page)
    await page.link()
    message = await page.announce(
        "v_pub_url~v2.1001", video={"format": "mp4", "fps": 30, "width": 1080, "height": 1920}
    )
    cancel = button(message, "cancel_upload")
    assert cancel["value"] == "v_pub_url~v2.1001"
    assert cancel["confirm"]["title"]["text"] == "Cancel this upload?"
    assert upload(await page.state(), "v_pub_url~v2.1001")["account"] == "Alex Rivera"

    result = await page.post(
        "/api/click",
        {
            "user": ALEX,
            "action_id": "cancel_upload",
            "value": cancel["value"],
            "channel": CHANNEL,
            "message_ts": message["ts"],
        },
    )
    assert result == {"status": 200, "answered": True}
    state = await page.until(
        lambda s: (
            "*Stopping* \u2014 <@U0ALEX> asked TikTok to cancel it"
            in blocks_text(announcement(s, "v_pub_url~v2.1001"))
            and announcement(s, "v_pub_url~v2.1001")["replies"]
            and s
        )
    )
    updated = announcement(state, "v_pub_url~v2.1001")
    assert not [b for b in buttons(updated) if b["action_id"] == "cancel_upload"]
    assert "asked to cancel" in blocks_text(updated["replies"][0])
    assert "TikTok is stopping" in state["ephemeral"][ALEX][-1]["text"]
    # TikTok's word comes later, by webhook: then the announcement says it is cancelled.
    state = await page.until(
        lambda s: (
            "*Cancelled, won't be posted* \u2014 <@U0ALEX> asked TikTok to cancel it"
            in blocks_text(announcement(s, "v_pub_url~v2.1001"))
            and s
        ),
        timeout=15,
    )
    replies = announcement(state, "v_pub_url~v2.1001")["replies"]
    assert "was cancelled, so it won't be posted." in blocks_text(replies[-1])
    assert upload(state, "v_pub_url~v2.1001")["status"] == "FAILED"
    assert sb.tiktok.uploads["v_pub_url~v2.1001"].fail_reason == "publish_cancelled"


async def test_the_warning_of_a_video_tiktok_will_refuse(page):
    message = await page.announce("v_pub_url~v2.1002", video={"format": "avi", "fps": 120})
    text = blocks_text(message)
    assert "TikTok will likely reject this upload" in text and "120 FPS" in text


async def test_an_upload_can_start_past_the_point_of_cancelling(page, sb):
    await page.link()
    await page.announce("v_pub_url~v2.1012", tiktok_status="PROCESSING_UPLOAD")
    assert sb.tiktok.uploads["v_pub_url~v2.1012"].status == "PROCESSING_UPLOAD"
    answer = await page.cancel_answer("v_pub_url~v2.1012")
    assert "TikTok had already finished with it" in blocks_text(answer)


async def test_a_title_with_html_is_escaped_by_the_bot(page):
    message = await page.announce("v_pub_url~v2.1003", title="<img src=x onerror=alert(1)>")
    text = blocks_text(message)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


async def test_scripted_publish_not_cancellable_is_explained_once(page, sb):
    await page.link()
    await page.announce("v_pub_url~v2.1004")
    await page.post(
        "/api/tiktok/next",
        {"answer": "publish_not_cancellable", "publish_id": "v_pub_url~v2.1004"},
    )
    assert upload(await page.state(), "v_pub_url~v2.1004")["next_answer"] == (
        "publish_not_cancellable"
    )
    answer = await page.cancel_answer("v_pub_url~v2.1004")
    assert "TikTok had already finished with it" in blocks_text(answer)
    state = await page.until(lambda s: not upload(s, "v_pub_url~v2.1004")["next_answer"] and s)
    assert upload(state, "v_pub_url~v2.1004")["status"] == "PROCESSING_DOWNLOAD"
    # The script is spent: the next cancel is answered as TikTok would.
    assert "TikTok is stopping" in (await page.cancel_answer("v_pub_url~v2.1004"))["text"]


async def test_scripted_429_holds_for_every_retry_of_that_cancel(page, sb):
    await page.link()
    await page.announce("v_pub_url~v2.1005")
    await page.post("/api/tiktok/next", {"answer": "429", "publish_id": "v_pub_url~v2.1005"})
    answer = await page.cancel_answer("v_pub_url~v2.1005")
    assert "too many requests" in blocks_text(answer)
    calls = sb.tiktok.calls_to("cancel")
    assert len(calls) >= 2 and {c.status for c in calls} == {429}


async def test_scripting_any_upload_and_back_to_normal(page, sb):
    await page.link()
    await page.announce("v_pub_url~v2.1006")
    await page.post("/api/tiktok/next", {"answer": "invalid_publish_id"})
    assert (await page.state())["next_answer_any"] == "invalid_publish_id"
    await page.post("/api/tiktok/next", {"answer": "normal"})
    assert (await page.state())["next_answer_any"] == ""
    assert "TikTok is stopping" in (await page.cancel_answer("v_pub_url~v2.1006"))["text"]


async def test_every_answer_can_be_scripted(page):
    await page.announce("v_pub_url~v2.1007")
    values = [a["value"] for a in (await page.state())["answers"]]
    assert {"normal", "ok", "429", "5xx", "html", "hang"} <= set(values)
    assert set(cancel_codes()) <= set(values)
    assert "publish_not_cancellable" in values and "url_ownership_unverified" in values
    assert values == [a["value"] for a in answer_choices()]
    for value in values:
        result = await page.post(
            "/api/tiktok/next", {"answer": value, "publish_id": "v_pub_url~v2.1007"}
        )
        assert result["ok"] is True


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("5xx", "reported an error on its side"), ("html", "servers kept failing")],
)
async def test_scripted_server_faults_are_explained(page, answer, expected):
    await page.link()
    await page.announce("v_pub_url~v2.1008")
    await page.post("/api/tiktok/next", {"answer": answer, "publish_id": "v_pub_url~v2.1008"})
    assert expected in blocks_text(await page.cancel_answer("v_pub_url~v2.1008"))


async def test_status_failed_with_a_reason_is_explained_in_the_thread(page, sb):
    message = await page.announce("v_pub_url~v2.1009")
    result = await page.post(
        "/api/tiktok/status",
        {
            "publish_id": "v_pub_url~v2.1009",
            "status": "FAILED",
            "fail_reason": "file_format_check_failed",
        },
    )
    assert result == {"status": 200, "updated": True}
    state = await page.until(lambda s: announcement(s, "v_pub_url~v2.1009")["replies"] and s)
    updated = announcement(state, "v_pub_url~v2.1009")
    assert updated["ts"] == message["ts"]
    assert "file format" in blocks_text(updated["replies"][-1])
    assert not [b for b in buttons(updated) if b["action_id"] == "cancel_upload"]
    assert upload(state, "v_pub_url~v2.1009")["fail_reason"] == "file_format_check_failed"


async def test_status_complete_is_told_in_the_thread(page):
    await page.announce("v_pub_url~v2.1010")
    result = await page.post(
        "/api/tiktok/status", {"publish_id": "v_pub_url~v2.1010", "status": "complete"}
    )
    assert result["status"] == 200
    state = await page.until(lambda s: announcement(s, "v_pub_url~v2.1010")["replies"] and s)
    assert "posted on TikTok" in blocks_text(
        announcement(state, "v_pub_url~v2.1010")["replies"][-1]
    )


async def test_the_app_home_renders_and_its_buttons_work(page):
    await page.link()
    await page.announce("v_pub_url~v2.1011")
    result = await page.post("/api/home", {"user": ALEX})
    assert result == {"status": 200, "answered": True}
    home = (await page.state())["homes"][ALEX]
    assert home["type"] == "home"
    text = blocks_text(home)
    assert "Alex Rivera" in text and "Spring teaser" in text
    disconnect = button(home, "disconnect_tiktok")
    assert disconnect["confirm"]["confirm"]["text"] == "Disconnect"
    result = await page.post(
        "/api/click",
        {"user": ALEX, "action_id": "disconnect_tiktok", "value": "me", "where": "home"},
    )
    assert result["answered"] is True
    home = (await page.state())["homes"][ALEX]
    assert button(home, "connect_tiktok")  # unlinked: Connect again


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/command", "{not json", 400),
        ("/api/command", "[1, 2]", 400),
        ("/api/command", {"text": "help"}, 400),
        ("/api/command", {"user": "U0NOBODY", "text": "help"}, 400),
        ("/api/click", {"user": ALEX}, 400),
        ("/api/home", "", 400),
        ("/api/announce", "nope", 400),
        ("/api/announce", {"publish_id": "v_pub_url~v2.1", "tiktok_status": "DONE"}, 400),
        ("/api/tiktok/next", {"answer": "no_such_code"}, 400),
        ("/api/tiktok/next", {"answer": "ok", "publish_id": "v_pub_url~v2.404"}, 404),
        ("/api/tiktok/status", {"publish_id": "v_pub_url~v2.404", "status": "FAILED"}, 404),
        ("/api/tiktok/status", {"publish_id": "x", "status": "EXPLODED"}, 400),
    ],
)
async def test_bad_requests_are_400_with_a_reason(page, path, body, status):
    answer = await page.post(path, body, expect=status)
    assert answer["error"]


async def test_an_announcement_the_bot_refuses_is_passed_on(page):
    result = await page.post("/api/announce", {"publish_id": "", "title": "x"})
    assert result["status"] == 400 and result["body"]["error"]


# --- a cancel TikTok accepts, followed on the page -----------------------------------------------


async def test_an_accepted_cancel_that_gets_posted_anyway_tells_the_asker(page, sb):
    sb.settle_after_s = 0.3
    await page.link()
    await page.announce("v_pub_url~v2.1020")
    await page.post("/api/tiktok/next", {"answer": "ok_posted", "publish_id": "v_pub_url~v2.1020"})
    answer = await page.cancel_answer("v_pub_url~v2.1020")
    assert "TikTok is stopping" in blocks_text(answer)
    state = await page.until(
        lambda s: (
            "*Posted despite the cancel request* \u2014 <@U0ALEX>"
            in blocks_text(announcement(s, "v_pub_url~v2.1020"))
            and s
        )
    )
    replies = announcement(state, "v_pub_url~v2.1020")["replies"]
    said = blocks_text(replies[-1])
    assert "was posted on TikTok even though <@U0ALEX> asked to cancel it." in said
    assert "delete the post in the TikTok app" in said
    assert upload(state, "v_pub_url~v2.1020")["status"] == "PUBLISH_COMPLETE"


async def test_an_accepted_cancel_shows_stopping_until_tiktok_has_its_word(page, sb):
    sb.settle_after_s = 60  # the page's TikTok panel decides instead
    await page.link()
    await page.announce("v_pub_url~v2.1021")
    await page.cancel_answer("v_pub_url~v2.1021")
    state = await page.until(lambda s: upload(s, "v_pub_url~v2.1021")["stopping"] and s)
    assert upload(state, "v_pub_url~v2.1021")["status"] == "PROCESSING_DOWNLOAD"
    result = await page.post(
        "/api/tiktok/status", {"publish_id": "v_pub_url~v2.1021", "status": "complete"}
    )
    assert result["status"] == 200
    state = await page.until(
        lambda s: (
            "*Posted despite the cancel request*"
            in blocks_text(announcement(s, "v_pub_url~v2.1021"))
            and s
        )
    )
    assert not upload(state, "v_pub_url~v2.1021")["stopping"]


# --- /healthz ------------------------------------------------------------------------------------


async def test_healthz_says_the_sandbox_and_the_bot_are_up(page, sb):
    async with page.session.get("/healthz") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        assert await resp.json() == {"ok": True, "sandbox": "up", "bot": "up"}
    # The bot not answering (its address now points at a closed port): said, as a 503.
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    port, sb.bot.port = sb.bot.port, closed
    try:
        async with page.session.get("/healthz") as resp:
            assert resp.status == 503
            assert await resp.json() == {"ok": False, "sandbox": "up", "bot": "down"}
    finally:
        sb.bot.port = port


async def test_healthz_answers_only_its_own_page(sb):
    async with (
        aiohttp.ClientSession() as session,
        session.get(sb.url + "/healthz", headers={"Host": "rebind.evil.example"}) as resp,
    ):
        assert resp.status == 403


# --- what the TikTok panel says is armed --------------------------------------------------


async def test_the_state_says_what_is_armed_until_each_answer_is_used(page, sb):
    await page.link()
    await page.announce("v_pub_url~v2.1101")
    assert (await page.state())["armed"] == []
    scripted = {"answer": "invalid_params", "publish_id": "v_pub_url~v2.1101"}
    await page.post("/api/tiktok/next", scripted)
    await page.post("/api/tiktok/next", {"answer": "5xx"})
    await page.post("/api/tiktok/init", {"answer": "spam_risk_too_many_posts"})
    assert (await page.state())["armed"] == [
        {
            "call": "cancel",
            "publish_id": "",
            "answer": "5xx",
            "label": "HTTP 500, TikTok's server failed",
            "in_use": False,
        },
        {
            "call": "cancel",
            "publish_id": "v_pub_url~v2.1101",
            "answer": "invalid_params",
            "label": "invalid_params (HTTP 400)",
            "in_use": False,
        },
        {
            "call": "start",
            "publish_id": "",
            "answer": "spam_risk_too_many_posts",
            "label": "spam_risk_too_many_posts (HTTP 403)",
            "in_use": False,
        },
    ]
    # The upload's own answer is used by its cancel, and gone once that cancel is answered;
    # the one for any upload still waits.
    answer = await page.cancel_answer("v_pub_url~v2.1101")
    assert "malformed" in blocks_text(answer)
    armed = await page.until(lambda s: len(s["armed"]) == 2 and s["armed"])
    assert [(a["call"], a["publish_id"], a["answer"]) for a in armed] == [
        ("cancel", "", "5xx"),
        ("start", "", "spam_risk_too_many_posts"),
    ]
    # Scripting "normal" disarms; a start takes the start's answer.
    await page.post("/api/tiktok/next", {"answer": "normal"})
    held = await hold(page)
    await press(page, "start_held", held)
    assert (await page.state())["armed"] == []
    assert len(sb.tiktok.calls_to("init")) == 1


async def test_an_answer_in_use_by_a_cancel_under_way_says_so(page, sb):
    """A 429 holds for every retry of one cancel: while the bot retries, the answer is armed
    and in use; once the bot has answered, nothing is armed."""
    await page.link()
    await page.announce("v_pub_url~v2.1102")
    await page.post("/api/tiktok/next", {"answer": "429", "publish_id": "v_pub_url~v2.1102"})
    typed = asyncio.ensure_future(page.cancel_answer("v_pub_url~v2.1102"))
    in_use = await page.until(lambda s: s["armed"] and s["armed"][0]["in_use"] and s["armed"])
    assert in_use == [
        {
            "call": "cancel",
            "publish_id": "v_pub_url~v2.1102",
            "answer": "429",
            "label": "HTTP 429, rate limited",
            "in_use": True,
        }
    ]
    assert "too many requests" in blocks_text(await typed)
    assert (await page.until(lambda s: s["armed"] == [] and s))["armed"] == []


async def test_a_cancel_of_an_upload_not_announced_is_posted_in_the_audit_channel(page, sb):
    """As the README's sandbox tour says: once linked, a cancel of an upload the bot never
    announced is posted in #tiktok-audit (the sandbox's AUDIT_CHANNEL); one that ended on the
    person's access (no link) is posted nowhere; one on an announced upload goes to its thread
    only."""

    def audit_posts(state: dict) -> list[dict]:
        return next(c for c in state["channels"] if c["id"] == "C0AUDIT")["messages"]

    await page.command("v_pub_url~v2.999")  # alex has no link yet: nothing sent to TikTok
    await sb.bot.parts.cancels.drain()  # its listeners (the posts) are done
    assert audit_posts(await page.state()) == []
    await page.link()
    await page.command("v_pub_url~v2.999")
    (posted,) = await page.until(lambda s: audit_posts(s))
    assert "v_pub_url~v2.999" in blocks_text(posted)
    assert len(sb.tiktok.calls_to("cancel")) == 1

    await page.announce("v_pub_url~v2.1201")
    await page.cancel_answer("v_pub_url~v2.1201")
    # The thread reply is posted where the audit channel's would have been: once it is there,
    # the audit channel would already have its post.
    state = await page.until(lambda s: announcement(s, "v_pub_url~v2.1201")["replies"] and s)
    (reply,) = announcement(state, "v_pub_url~v2.1201")["replies"]
    assert "v_pub_url~v2.1201" in blocks_text(reply)
    assert len(audit_posts(state)) == 1
