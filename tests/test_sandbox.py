"""The sandbox (`python -m bot sandbox`): its JSON endpoints over HTTP, the consent page, the
TikTok stand-in's scripted answers and status moves, and the command line.

An in-process `Sandbox` on port 0 with a temporary database runs the real bot against the
stand-ins; the tests talk to it as the page does.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest

from sandbox.server import CHANNEL, PEOPLE, Sandbox, answer_choices, cancel_codes
from tests.conftest import confirm_form

ROOT = Path(__file__).resolve().parent.parent
ALEX, SAM = "U0ALEX", "U0SAM"


# --- a sandbox in this process ------------------------------------------------------------


@pytest.fixture
async def sb(tmp_path):
    sandbox = Sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite3"))
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def page(sb):
    async with aiohttp.ClientSession(base_url=sb.url) as session:
        yield Page(sb, session)


class Page:
    """What the page does: JSON calls to the sandbox, and reads of /api/state."""

    def __init__(self, sb: Sandbox, session: aiohttp.ClientSession):
        self.sb = sb
        self.session = session

    async def post(self, path: str, body: Any, expect: int = 200) -> dict:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        async with self.session.post(
            path, data=data, headers={"Content-Type": "application/json"}
        ) as resp:
            answer = await resp.json()
            assert resp.status == expect, answer
            return answer

    async def state(self) -> dict:
        async with self.session.get("/api/state") as resp:
            assert resp.status == 200
            return await resp.json()

    async def until(self, check: Callable[[dict], Any], timeout: float = 10.0) -> Any:
        """Poll /api/state until `check(state)` is truthy; returns that value."""
        deadline = time.monotonic() + timeout
        while True:
            state = await self.state()
            found = check(state)
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; state: {json.dumps(state)[:3000]}")
            await asyncio.sleep(0.05)

    async def command(self, text: str, user: str = ALEX) -> dict:
        """Type `/tiktok-cancel <text>`; returns the ephemeral answer it got."""
        before = len((await self.state())["ephemeral"][user])
        result = await self.post("/api/command", {"user": user, "text": text})
        assert result["status"] == 200
        return await self.until(
            lambda s: len(s["ephemeral"][user]) > before and s["ephemeral"][user][-1]
        )

    async def link(self, user: str = ALEX, account: str = "Alex Rivera") -> None:
        answer = await self.command("connect", user)
        url = button(answer, "connect_tiktok")["url"]
        async with self.session.get(url) as resp:
            consent = await resp.text()
        allow = allow_link(consent, account)
        async with self.session.get(allow) as resp:  # redirected to the bot's callback
            assert resp.status == 200
            page, callback = await resp.text(), str(resp.url)
        assert f"<b>{account}</b>" in page  # the confirm page: nothing linked yet
        status, done = await confirm_on_page(self.session, callback, page)
        assert status == 200 and f"Linked as {account}" in done
        await self.until(lambda s: any("is linked" in m["text"] for m in s["dms"][user]))

    async def announce(self, publish_id: str, **fields: Any) -> dict:
        body = {"user": ALEX, "publish_id": publish_id, "title": "Spring teaser", **fields}
        result = await self.post("/api/announce", body)
        assert result["status"] == 201, result
        return await self.until(lambda s: announcement(s, publish_id))

    async def cancel_answer(self, publish_id: str, user: str = ALEX) -> dict:
        return await self.command(publish_id, user)


def blocks_text(message: dict) -> str:
    parts = [message.get("text", "")]
    for block in message.get("blocks", []):
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


def buttons(message: dict) -> list[dict]:
    found = []
    for block in message.get("blocks", []):
        found += [e for e in block.get("elements", []) if e.get("type") == "button"]
        if (block.get("accessory") or {}).get("type") == "button":
            found.append(block["accessory"])
    return found


def button(message: dict, action_id: str) -> dict:
    (found,) = [b for b in buttons(message) if b.get("action_id") == action_id]
    return found


def announcement(state: dict, publish_id: str) -> dict | None:
    channel = next(c for c in state["channels"] if c["id"] == CHANNEL)
    for message in channel["messages"]:
        if publish_id in blocks_text(message) and "TikTok upload" in message["text"]:
            return message
    return None


async def confirm_on_page(session, callback_url: str, page: str) -> tuple[int, str]:
    """Press "Link it" on the bot's confirm page (its form posts to `confirm`, relative)."""
    data = {**confirm_form(page), "choice": "link"}
    async with session.post(urljoin(callback_url, "confirm"), data=data) as resp:
        return resp.status, await resp.text()


def allow_link(consent_page: str, account: str) -> str:
    links = re.findall(r'<a class="allow" href="([^"]+)">Allow as ([^<]+)</a>', consent_page)
    return next(html.unescape(href) for href, name in links if name == account)


def upload(state: dict, publish_id: str) -> dict:
    return next(u for u in state["uploads"] if u["publish_id"] == publish_id)


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
    async with page.session.get(callback) as resp:
        assert resp.status == 200
        confirm = await resp.text()
    assert "Link this TikTok account to this Slack account?" in confirm
    assert (await page.state())["dms"][ALEX] == []  # nothing linked before the confirm
    status, done = await confirm_on_page(page.session, callback, confirm)
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


# --- production code never imports the sandbox ----------------------------------------------


def test_production_modules_never_import_the_sandbox():
    code = (
        "import bot.app, bot.__main__, handlers, storage, bot.messages, bot.accounts.linking; "
        "import sys; print('sandbox' in sys.modules, "
        "any(m.startswith('sandbox.') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_nothing_outside_sandbox_and_tests_mentions_it():
    for package in ("bot", "handlers", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            for line in text.splitlines():
                if re.match(r"\s*(from|import)\s+sandbox\b", line):
                    # `python -m bot sandbox` imports it lazily, inside the command only.
                    assert path.name == "__main__.py" and line.startswith(" "), (path, line)


# --- the command line ------------------------------------------------------------------------


@contextlib.contextmanager
def running_sandbox(tmp_path: Path, timeout: float = 30.0) -> Iterator[str]:
    """`python -m bot sandbox --port 0` as a subprocess; yields the one URL it prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TIKTOK_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0", "--db", str(tmp_path / "sb.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    try:
        try:
            first = lines.get(timeout=timeout)
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"no URL printed; stderr: {proc.stderr.read()}") from None
        match = re.fullmatch(r"tiktok-cancel sandbox: open (http://127\.0\.0\.1:\d+)\n", first)
        assert match, first
        yield match.group(1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, proc.stderr.read()
    reader.join(timeout=5)
    rest = []
    while not lines.empty():
        rest.append(lines.get())
    assert "".join(rest).strip() == "", rest


def test_cli_prints_one_url_serves_the_page_and_stops_on_sigterm(tmp_path):
    started = time.monotonic()
    with running_sandbox(tmp_path) as url:
        with urllib.request.urlopen(url + "/", timeout=10) as resp:
            assert resp.status == 200
            assert "tiktok-cancel sandbox" in resp.read().decode()
        with urllib.request.urlopen(url + "/api/state", timeout=10) as resp:
            assert json.load(resp)["channels"][0]["id"] == CHANNEL
    assert (tmp_path / "sb.db").is_file()
    assert time.monotonic() - started < 30


def test_cli_says_when_the_port_is_taken(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
    assert out.returncode == 1
    assert out.stdout == ""
    assert f"can't listen on port {port}" in out.stderr and "Traceback" not in out.stderr


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


# --- held uploads (the form's Hold option) and /healthz --------------------------------------

RILEY = "U0RILEY"
SOURCE = "https://cdn.example.com/teaser.mp4"


def hold_body(title: str = "Held teaser", **fields: Any) -> dict:
    body = {
        "user": ALEX,
        "source_url": SOURCE,
        "hold_s": 30,
        "post": {"title": title, "privacy_level": "PUBLIC_TO_EVERYONE"},
        "video": {"format": "mp4", "duration_s": 42.5},
    }
    return {**body, **fields}


def held_message(state: dict, ts: str) -> dict:
    channel = next(c for c in state["channels"] if c["id"] == CHANNEL)
    return next(m for m in channel["messages"] if m["ts"] == ts)


def assert_valid_blocks(message: dict) -> None:
    from slack_sdk.models.blocks import Block

    for block in message["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()


def db_rows(sb: Sandbox, sql: str, *params: Any) -> list[dict]:
    """Rows of the sandbox bot's SQLite database, read as an operator would."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(sb.db_path)) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, params)]


def held_row(sb: Sandbox, upload_key: str) -> dict:
    (row,) = db_rows(sb, "SELECT * FROM held_uploads WHERE upload_key = ?", upload_key)
    return row


def audit_of(sb: Sandbox, action: str) -> list[dict]:
    return db_rows(sb, "SELECT * FROM audit WHERE action = ? ORDER BY id", action)


async def hold(page: Page, **fields: Any) -> dict:
    """Hold an upload from the form; returns the bot's 202 answer."""
    result = await page.post("/api/hold", hold_body(**fields))
    assert result["status"] == 202, result
    return result


async def press(page: Page, action_id: str, answer: dict, user: str = ALEX) -> dict:
    """Press a held upload's button (the page asked to confirm first); the clicker's answer."""
    before = len((await page.state())["ephemeral"][user])
    body = answer["body"]
    result = await page.post(
        "/api/click",
        {
            "user": user,
            "action_id": action_id,
            "value": body["upload_key"],
            "channel": CHANNEL,
            "message_ts": body["ts"],
        },
    )
    assert result == {"status": 200, "answered": True}
    state = await page.state()
    assert len(state["ephemeral"][user]) == before + 1
    return state["ephemeral"][user][-1]


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


async def test_the_first_hold_links_brand_then_the_bot_holds_it(page, sb):
    answer = await hold(page)
    assert answer["linked"] == "brand"
    body = answer["body"]
    assert body["channel"] == CHANNEL and body["upload_key"].startswith("sandbox-")
    assert body["starts_at"] == pytest.approx(time.time() + 30, abs=5)
    state = await page.state()
    message = held_message(state, body["ts"])
    assert_valid_blocks(message)
    text = blocks_text(message)
    assert "\u201cHeld teaser\u201d goes to TikTok as Brand Social <!date^" in text
    assert "nothing has been sent to TikTok yet" in text
    cancel, start = button(message, "cancel_held"), button(message, "start_held")
    assert cancel["confirm"]["title"]["text"] == "Cancel this upload?"
    assert start["confirm"]["title"]["text"] == "Start it now?"
    assert cancel["value"] == start["value"] == body["upload_key"]
    # Linked as an admin would, through the bot: its DM says so; the commands' own answers
    # went to no one on the page.
    assert [m["text"] for m in state["dms"][ALEX]] == ["The team account brand is linked"]
    assert all(e == [] for e in state["ephemeral"].values())
    assert len(sb.tiktok.calls_to("token")) == 1  # one code exchange
    assert state["inits"] == 0 and len(sb.tiktok.calls_to("creator_info")) == 1

    second = await hold(page, title="Second teaser")
    assert second["linked"] == ""  # linked once
    assert len(sb.tiktok.calls_to("token")) == 1
    assert second["body"]["upload_key"] != body["upload_key"]


async def test_cancel_in_the_window_sends_nothing_to_tiktok(page, sb):
    answer = await hold(page)
    said = await press(page, "cancel_held", answer)
    assert said["text"] == "Cancelled: \u201cHeld teaser\u201d was never sent to TikTok."
    state = await page.until(lambda s: held_message(s, answer["body"]["ts"])["replies"] and s)
    message = held_message(state, answer["body"]["ts"])
    assert_valid_blocks(message)
    assert "\u201cHeld teaser\u201d was held back and never sent to TikTok." in blocks_text(message)
    assert "<@U0ALEX> cancelled it" in blocks_text(message)
    assert buttons(message) == []
    assert "never sent to TikTok" in blocks_text(message["replies"][0])
    assert state["inits"] == 0 and sb.tiktok.calls_to("init") == []
    row = held_row(sb, answer["body"]["upload_key"])
    assert row["state"] == "cancelled" and row["by_user"] == ALEX and not row["publish_id"]
    (entry,) = audit_of(sb, "cancel_held")
    assert entry["user_id"] == ALEX and entry["outcome"] == "held_back"
    # Pressed again (a second tab): nothing changes.
    again = await press(page, "start_held", answer)
    assert "was already cancelled; nothing was sent to TikTok" in again["text"]
    assert sb.tiktok.calls_to("init") == []


async def test_start_now_makes_it_an_announced_upload_followed_by_webhook(page, sb):
    sb.settle_after_s = 0.3  # TikTok's word on a cancel it accepted
    answer = await hold(page, title="Start me")
    said = await press(page, "start_held", answer, user=SAM)  # sam was granted brand
    (init,) = sb.tiktok.calls_to("init")
    publish_id = init.response["data"]["publish_id"]
    named = f"\u201cStart me\u201d as upload `{publish_id}`"
    assert said["text"] == f"Started: TikTok accepted {named}."
    assert init.body["post_info"]["title"] == "Start me"
    assert init.body["source_info"] == {"source": "PULL_FROM_URL", "video_url": SOURCE}
    state = await page.until(lambda s: held_message(s, answer["body"]["ts"])["replies"] and s)
    message = held_message(state, answer["body"]["ts"])
    assert_valid_blocks(message)
    assert message["text"] == "TikTok upload Start me"
    assert f"Upload `{publish_id}`" in blocks_text(message)
    assert button(message, "cancel_upload")["value"] == publish_id
    said_in_thread = blocks_text(message["replies"][0])
    assert f"<@U0SAM> started it; TikTok accepted {named}" in said_in_thread
    assert state["inits"] == 1
    row = held_row(sb, answer["body"]["upload_key"])
    assert row["state"] == "started" and row["publish_id"] == publish_id
    (entry,) = audit_of(sb, "start_held")
    assert entry["user_id"] == SAM and entry["outcome"] == "ok"
    assert entry["publish_id"] == publish_id
    assert upload(state, publish_id) == {
        "publish_id": publish_id,
        "status": "PROCESSING_DOWNLOAD",
        "fail_reason": "",
        "account": "Brand Social",
        "next_answer": "",
        "stopping": False,
    }
    # From now on it is an announced upload: a best-effort Cancel with brand's token, and
    # TikTok's word by webhook.
    stopping = await page.cancel_answer(publish_id, user=SAM)
    assert "TikTok is stopping" in stopping["text"]
    (cancel,) = sb.tiktok.calls_to("cancel")
    assert sb.tiktok.grant_for(cancel.token).open_id == "open-brand"
    state = await page.until(
        lambda s: (
            "*Cancelled, won't be posted*" in blocks_text(held_message(s, answer["body"]["ts"]))
            and s
        )
    )
    assert upload(state, publish_id)["status"] == "FAILED"
    assert len(sb.tiktok.calls_to("init")) == 1


async def test_someone_not_granted_brand_is_told_and_nothing_starts(page, sb):
    answer = await hold(page)
    said = await press(page, "start_held", answer, user=RILEY)
    assert said["text"] == (
        "Only people granted the team account brand (or admins) may start or cancel this "
        "upload. Nothing changed."
    )
    message = held_message(await page.state(), answer["body"]["ts"])
    assert [b["action_id"] for b in buttons(message)] == ["cancel_held", "start_held"]
    assert sb.tiktok.calls_to("init") == []


@pytest.mark.parametrize(
    ("answer", "headline", "state", "code"),
    [
        (
            "spam_risk_too_many_posts",
            "this account has posted too many times through apps today",
            "refused",
            "spam_risk_too_many_posts",
        ),
        (
            "privacy_level_option_mismatch",
            "the privacy setting asked for isn't one this account offers",
            "refused",
            "privacy_level_option_mismatch",
        ),
        (
            "5xx",
            "TikTok may have started \u201cHeld teaser\u201d: we don't know.",
            "unknown",
            "internal_error",
        ),
    ],
)
async def test_a_scripted_start_answer_is_explained_and_never_retried(
    page, sb, answer, headline, state, code
):
    held = await hold(page)
    result = await page.post("/api/tiktok/init", {"answer": answer})
    assert result == {"ok": True, "answer": answer}
    assert (await page.state())["next_init"] == answer
    await press(page, "start_held", held)
    shown = await page.until(lambda s: held_message(s, held["body"]["ts"])["replies"] and s)
    message = held_message(shown, held["body"]["ts"])
    assert_valid_blocks(message)
    assert headline in blocks_text(message)
    assert buttons(message) == []
    assert shown["next_init"] == "" and shown["inits"] == 1  # spent; one init, no retry
    assert shown["uploads"] == []  # TikTok made no upload
    row = held_row(sb, held["body"]["upload_key"])
    assert row["state"] == state and row["code"] == code and not row["publish_id"]
    (entry,) = audit_of(sb, "start_held")
    assert entry["outcome"] == code and entry["user_id"] == ALEX
    await sb.bot.parts.held_scheduler.next_pass()  # it looked again since: no retry
    assert len(sb.tiktok.calls_to("init")) == 1


async def test_scripting_normal_drops_a_scripted_start_answer(page, sb):
    await page.post("/api/tiktok/init", {"answer": "spam_risk_too_many_posts"})
    await page.post("/api/tiktok/init", {"answer": "5xx"})  # replaces it: one answer waits
    assert sb.tiktok.pending_scripts("init") == 1
    await page.post("/api/tiktok/init", {"answer": "normal"})
    state = await page.state()
    assert state["next_init"] == "" and sb.tiktok.pending_scripts("init") == 0
    values = [a["value"] for a in state["init_answers"]]
    assert values[0] == "normal"
    assert {"spam_risk_too_many_posts", "privacy_level_option_mismatch", "5xx", "hang"} <= set(
        values
    )
    answer = await hold(page)
    said = await press(page, "start_held", answer)
    assert said["text"].startswith("Started: TikTok accepted")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"hold_s": "soon"}, "hold_s must be a number of seconds from 0 to 86400"),
        ({"hold_s": -1}, "hold_s must be a number of seconds from 0 to 86400"),
        ({"account": "nobody"}, "unknown account nobody: no linked team account has that name"),
        ({"source_url": "http://cdn.example.com/t.mp4"}, "source_url must start with https://"),
        (
            {"post": {"title": "x", "privacy_level": "FOLLOWER_OF_CREATOR"}},
            "privacy_level FOLLOWER_OF_CREATOR is not offered by account brand now",
        ),
        ({"video": {"duration_s": 900}}, "may post at most 600 s"),
        ({"post": "x"}, "post is required"),
    ],
)
async def test_a_hold_the_bot_refuses_is_passed_on(page, sb, fields, error):
    result = await page.post("/api/hold", hold_body(**fields))
    assert result["status"] == 400 and error in result["body"]["error"], result
    state = await page.state()
    assert state["channels"][0]["messages"] == [] and state["inits"] == 0
    # Only a hold with brand links it; one naming another account links nothing.
    assert result["linked"] == ("" if "account" in fields else "brand")


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/hold", "nope", 400),
        ("/api/hold", "[1, 2]", 400),
        ("/api/hold", "[" * 5000, 400),
        ("/api/command", "[" * 5000, 400),
        ("/api/tiktok/init", {}, 400),
        ("/api/tiktok/init", {"answer": "ok_posted"}, 400),
        ("/api/tiktok/init", {"answer": ["5xx"]}, 400),
    ],
)
async def test_bad_hold_and_init_requests_are_400(page, sb, path, body, status):
    answer = await page.post(path, body, expect=status)
    assert answer["error"]
    assert sb.tiktok.pending_scripts("init") == 0


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
