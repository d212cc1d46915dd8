"""The sandbox as a test drives it: JSON calls to an in-process `Sandbox`, reads of its
/api/state, the small readers of the messages it shows, and `python -m bot sandbox` run as a
subprocess (shared by the sandbox's tests)."""

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest

from sandbox.fakes.browser import Browser
from sandbox.fakes.browser import Page as BrowserPage
from sandbox.server import CHANNEL, Sandbox
from tests.conftest import confirm_form

ALEX, SAM = "U0ALEX", "U0SAM"


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

    async def state(self, team: str = "") -> dict:
        """/api/state of workspace `team` (by default the first)."""
        params = {"team": team} if team else {}
        async with self.session.get("/api/state", params=params) as resp:
            assert resp.status == 200
            return await resp.json()

    async def until(
        self, check: Callable[[dict], Any], timeout: float = 10.0, team: str = ""
    ) -> Any:
        """Poll /api/state (of workspace `team`) until `check(state)` is truthy; returns that
        value."""
        deadline = time.monotonic() + timeout
        while True:
            state = await self.state(team)
            found = check(state)
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; state: {json.dumps(state)[:3000]}")
            await asyncio.sleep(0.05)

    async def command(self, text: str, user: str = ALEX, team: str = "") -> dict:
        """Type `/tiktok-cancel <text>` (in workspace `team`); returns the ephemeral answer it
        got."""
        before = len((await self.state(team))["ephemeral"][user])
        body = {"user": user, "text": text, **({"team": team} if team else {})}
        result = await self.post("/api/command", body)
        assert result["status"] == 200
        return await self.until(
            lambda s: len(s["ephemeral"][user]) > before and s["ephemeral"][user][-1], team=team
        )

    async def link(self, user: str = ALEX, account: str = "Alex Rivera") -> None:
        answer = await self.command("connect", user)
        url = button(answer, "connect_tiktok")["url"]
        browser = Browser(self.session)  # the person's browser: the sign-in sets a cookie
        consent = await browser.follow(url)
        page = await browser.follow(allow_link(consent.text, account))  # the bot's callback
        assert page.status == 200
        assert f"<b>{account}</b>" in page.text  # the page: nothing linked yet
        status, done = await confirm_on_page(browser, page)
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


async def confirm_on_page(browser: Browser, page: BrowserPage) -> tuple[int, str]:
    """Press "Link it" on the bot's confirm page (its form posts relative to the page). With
    many workspaces, the page first asks to Sign in with Slack: the browser follows that
    through the Slack stand-in (signed in as whoever acted on the sandbox page) to the form."""
    for href in re.findall(r'href="([^"]*openid/connect/authorize[^"]*)"', page.text):
        page = await browser.follow(html.unescape(href))
        assert page.status == 200, page.text
        break
    data = {**confirm_form(page.text), "choice": "link"}
    done = await browser.post(urljoin(page.url, form_action(page.text)), data)
    return done.status, done.text


def form_action(page: str) -> str:
    (action,) = re.findall(r'<form method=post action="([^"]+)">', page)
    return html.unescape(action)


def allow_link(consent_page: str, account: str) -> str:
    links = re.findall(r'<a class="allow" href="([^"]+)">Allow as ([^<]+)</a>', consent_page)
    return next(html.unescape(href) for href, name in links if name == account)


def upload(state: dict, publish_id: str) -> dict:
    return next(u for u in state["uploads"] if u["publish_id"] == publish_id)


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


def assert_valid_blocks(message: dict) -> None:
    from slack_sdk.models.blocks import Block

    for block in message["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()


def sandbox_rows(sb: Sandbox, sql: str, *params: Any) -> list[dict]:
    """Rows of the sandbox bot's SQLite database, read as an operator would."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(sb.db_path)) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, params)]


def held_row(sb: Sandbox, upload_key: str) -> dict:
    (row,) = sandbox_rows(sb, "SELECT * FROM held_uploads WHERE upload_key = ?", upload_key)
    return row


def audit_of(sb: Sandbox, action: str) -> list[dict]:
    return sandbox_rows(sb, "SELECT * FROM audit WHERE action = ? ORDER BY id", action)


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


# Fixtures (registered for every test by `pytest_plugins` in tests/conftest.py).
@pytest.fixture
async def sb(tmp_path):
    """A sandbox in this process, on its own SQLite file."""
    sandbox = Sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite3"))
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def page(sb):
    """The sandbox's page, driven over HTTP as its JavaScript does."""
    async with aiohttp.ClientSession(base_url=sb.url) as session:
        yield Page(sb, session)
