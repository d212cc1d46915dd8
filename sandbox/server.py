"""`python -m bot sandbox`: the real bot against built-in stand-ins of Slack and TikTok.

One process, all on loopback: the stand-ins (`sandbox.fakes`), the real bot (the same
`bot.app.Bot` that production runs, in HTTP mode), and a page that shows a Slack-like
channel rendered from the bot's Block Kit. The page talks to the JSON endpoints below, which
act as Slack would (signed slash commands, button clicks, events), as the upload pipeline
would (`POST /notifications`) and as TikTok would (consent page, webhooks, scripted answers).
No settings, no apps: a key, a temporary database and local secrets are made on the spot.
"""

from __future__ import annotations

import html
import json
import secrets
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet

from bot.app import Bot
from bot.catalog import CATALOG
from bot.settings import Settings
from sandbox.fakes import FakeSlack, FakeTikTok, Reply
from sandbox.fakes.slack_requests import (
    block_actions_payload,
    sign,
    slash_command_body,
)
from sandbox.fakes.tiktok import envelope_error

STATIC = Path(__file__).parent / "static"
CHANNEL = "C0LAUNCH"
AUDIT_CHANNEL = "C0AUDIT"
CHANNELS = {CHANNEL: "launches", AUDIT_CHANNEL: "tiktok-audit"}


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    open_id: str
    tiktok_name: str
    admin: bool = False


PEOPLE = (
    Person("U0ALEX", "alex", "open-alex", "Alex Rivera", admin=True),
    Person("U0SAM", "sam", "open-sam", "Sam Lee"),
    Person("U0RILEY", "riley", "open-riley", "Riley Park"),
)
BRAND = ("open-brand", "Brand Social")
# What the TikTok stand-in can be told to answer to the next cancel.
NEXT_ANSWERS = {
    "ok": None,
    "429": Reply(status=429, json=envelope_error("rate_limit_exceeded")),
    "5xx": Reply(status=500, json=envelope_error("internal_error")),
    "html": Reply(
        status=502, body="<html><body>Bad Gateway</body></html>", content_type="text/html"
    ),
    "hang": Reply(hang=True),
}
HTTP_STATUS = {
    "invalid_publish_id": 400,
    "token_not_authorized_for_specified_publish_id": 400,
    "publish_not_cancellable": 400,
    "url_ownership_unverified": 403,
    "access_token_invalid": 401,
    "scope_not_authorized": 401,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sandbox:
    def __init__(self, port: int = 3000, db_path: str | None = None):
        self.port = port
        self._tmp = None if db_path else tempfile.TemporaryDirectory(prefix="tiktok-cancel-")
        self.db_path = db_path or str(Path(self._tmp.name) / "sandbox.sqlite3")
        self.slack = FakeSlack(team_id="T0SANDBOX")
        self.tiktok = FakeTikTok()
        self.bot: Bot | None = None
        self.notify_token = secrets.token_urlsafe(24)
        self.session: aiohttp.ClientSession | None = None
        self.response_owner: dict[str, str] = {}  # response_url → user it answers
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bot_url(self) -> str:
        assert self.bot is not None
        return f"http://127.0.0.1:{self.bot.port}"

    async def start(self) -> None:
        await self.slack.start()
        await self.tiktok.start()
        for person in PEOPLE:
            self.slack.set_user(person.user_id, is_admin=person.admin, name=person.name)
            self.tiktok.add_user(open_id=person.open_id, display_name=person.tiktok_name)
        self.tiktok.add_user(open_id=BRAND[0], display_name=BRAND[1])
        self._runner = web.AppRunner(self.page_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        bot_port = free_port()
        self.bot = Bot(
            Settings(
                slack_bot_token=self.slack.bot_token,
                slack_signing_secret=self.slack.signing_secret,
                slack_api_url=self.slack.api_url,
                tiktok_client_key=self.tiktok.client_key,
                tiktok_client_secret=self.tiktok.client_secret,
                tiktok_api_url=self.tiktok.url,
                tiktok_authorize_url=f"{self.url}/tiktok/consent",
                tiktok_redirect_uri=f"http://127.0.0.1:{bot_port}/tiktok/oauth/callback",
                token_encryption_key=Fernet.generate_key().decode(),
                database_path=self.db_path,
                notify_token=self.notify_token,
                audit_channel=AUDIT_CHANNEL,
                host="127.0.0.1",
                port=bot_port,
            )
        )
        await self.bot.start()
        self.session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.bot is not None:
            await self.bot.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.tiktok.stop()
        await self.slack.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    # --- acting as Slack ---------------------------------------------------------------

    async def _post_to_bot(self, body: str, content_type: str | None = None) -> int:
        headers = sign(self.slack.signing_secret, body)
        if content_type:
            headers["Content-Type"] = content_type
        async with self.session.post(
            self.bot_url + "/slack/events", data=body.encode(), headers=headers
        ) as resp:
            return resp.status

    def _response_url(self, user_id: str) -> str:
        url = self.slack.new_response_url()
        self.response_owner[url] = user_id
        return url

    async def command(self, user_id: str, text: str, channel: str = CHANNEL) -> int:
        body = slash_command_body(
            text,
            response_url=self._response_url(user_id),
            user_id=user_id,
            user_name=self._person(user_id).name,
            team_id=self.slack.team_id,
            channel_id=channel,
        )
        return await self._post_to_bot(body)

    async def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        channel: str = CHANNEL,
        message_ts: str = "",
        where: str = "message",
    ) -> int:
        payload = block_actions_payload(
            action_id,
            value,
            response_url=self._response_url(user_id),
            user_id=user_id,
            user_name=self._person(user_id).name,
            team_id=self.slack.team_id,
            channel_id=channel,
            message_ts=message_ts or "0",
        )
        if where == "home":  # Home-tab clicks carry no response_url and no channel
            payload.pop("response_url", None)
            payload.pop("channel", None)
            payload["container"] = {"type": "view", "view_id": "VHOME"}
        return await self._post_to_bot("payload=" + quote_plus(json.dumps(payload)))

    async def open_home(self, user_id: str) -> int:
        body = json.dumps(
            {
                "token": "sandbox",
                "team_id": self.slack.team_id,
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": "Ev" + secrets.token_hex(6).upper(),
                "event_time": int(time.time()),
                "event": {
                    "type": "app_home_opened",
                    "user": user_id,
                    "tab": "home",
                    "channel": "D" + user_id,
                },
            }
        )
        return await self._post_to_bot(body, "application/json")

    # --- acting as the upload pipeline and as TikTok -----------------------------------

    async def announce(self, fields: dict[str, Any]) -> tuple[int, dict]:
        publish_id = str(fields.get("publish_id") or "")
        if publish_id and publish_id not in self.tiktok.uploads:
            owner = BRAND[0] if fields.get("account") else str(fields.get("open_id") or "")
            self.tiktok.add_upload(publish_id, open_id=owner or BRAND[0])
        body = {k: v for k, v in fields.items() if k != "open_id" and v not in ("", None)}
        body.setdefault("channel", CHANNEL)
        async with self.session.post(
            self.bot_url + "/notifications",
            json=body,
            headers={"Authorization": f"Bearer {self.notify_token}"},
        ) as resp:
            return resp.status, await resp.json()

    def script_next(self, answer: str) -> None:
        """Script TikTok's answer to the next cancel: ok, a code, 429, 5xx, html or hang."""
        if answer in NEXT_ANSWERS:
            reply = NEXT_ANSWERS[answer]
            if reply is not None:
                self.tiktok.script("cancel", reply)
            return
        if answer not in CATALOG:
            raise ValueError(answer)
        self.tiktok.script_error("cancel", HTTP_STATUS.get(answer, 400), answer)

    async def set_upload_status(self, publish_id: str, status: str, fail_reason: str = "") -> int:
        """Move an upload, and tell the bot through a signed webhook as TikTok would."""
        if publish_id not in self.tiktok.uploads:
            self.tiktok.add_upload(publish_id, open_id=BRAND[0])
        self.tiktok.set_status(publish_id, status, fail_reason or None)
        event, content = {
            "FAILED": ("post.publish.failed", {"reason": fail_reason or "internal"}),
            "PUBLISH_COMPLETE": ("post.publish.complete", {}),
            "SEND_TO_USER_INBOX": ("post.publish.inbox_delivered", {}),
        }.get(status, ("", {}))
        if not event:
            return 200
        content = {"publish_id": publish_id, "publish_type": "DIRECT_POST", **content}
        body = self.tiktok.webhook_body(event, content, user_openid=BRAND[0])
        async with self.session.post(
            self.bot_url + "/tiktok/webhook",
            data=body,
            headers={
                "TikTok-Signature": self.tiktok.sign_webhook(body),
                "Content-Type": "application/json",
            },
        ) as resp:
            return resp.status

    # --- what the page shows -----------------------------------------------------------

    def _person(self, user_id: str) -> Person:
        return next((p for p in PEOPLE if p.user_id == user_id), PEOPLE[0])

    def state(self) -> dict[str, Any]:
        channels: dict[str, list[dict]] = {c: [] for c in CHANNELS}
        dms: dict[str, list[dict]] = {p.user_id: [] for p in PEOPLE}
        threads: dict[tuple[str, str], list[dict]] = {}
        for (channel, ts), message in self.slack.messages.items():
            entry = {
                "ts": ts,
                "text": message.get("text", ""),
                "blocks": message.get("blocks", []),
                "replies": [],
            }
            parent = message.get("thread_ts")
            if parent:
                threads.setdefault((channel, parent), []).append(entry)
            elif channel in dms:
                dms[channel].append(entry)
            else:
                channels.setdefault(channel, []).append(entry)
        for channel, messages in channels.items():
            for entry in messages:
                entry["replies"] = threads.get((channel, entry["ts"]), [])
        ephemeral: dict[str, list[dict]] = {p.user_id: [] for p in PEOPLE}
        for url, bodies in self.slack.responses.items():
            owner = self.response_owner.get(url)
            for body in bodies:
                if owner:
                    ephemeral.setdefault(owner, []).append(
                        {"text": body.get("text", ""), "blocks": body.get("blocks", []), "at": url}
                    )
        homes: dict[str, Any] = {}
        for call in self.slack.calls_to("views.publish"):
            homes[str(call.params.get("user_id"))] = call.params.get("view")
        uploads = [
            {"publish_id": u.publish_id, "status": u.status, "fail_reason": u.fail_reason or ""}
            for u in self.tiktok.uploads.values()
        ]
        return {
            "people": [p.__dict__ for p in PEOPLE],
            "channels": [
                {"id": c, "name": n, "messages": channels.get(c, [])} for c, n in CHANNELS.items()
            ],
            "dms": dms,
            "ephemeral": ephemeral,
            "homes": homes,
            "uploads": uploads,
            "answers": list(NEXT_ANSWERS)
            + sorted(c for c, e in CATALOG.items() if e.kind == "cancel" and c != "ok"),
            "fail_reasons": sorted(c for c, e in CATALOG.items() if e.kind == "fail_reason"),
        }

    # --- the page's HTTP app -------------------------------------------------------------

    def page_app(self) -> web.Application:
        app = web.Application(client_max_size=256 * 1024)
        routes = web.RouteTableDef()

        @routes.get("/")
        async def index(_: web.Request) -> web.FileResponse:
            return web.FileResponse(STATIC / "index.html")

        @routes.get("/api/state")
        async def state(_: web.Request) -> web.Response:
            return web.json_response(self.state())

        async def body_of(request: web.Request) -> dict:
            try:
                data = await request.json()
            except ValueError:
                raise web.HTTPBadRequest(text="JSON body expected") from None
            if not isinstance(data, dict):
                raise web.HTTPBadRequest(text="JSON object expected")
            return data

        @routes.post("/api/command")
        async def command(request: web.Request) -> web.Response:
            data = await body_of(request)
            status = await self.command(
                str(data.get("user")),
                str(data.get("text", "")),
                str(data.get("channel") or CHANNEL),
            )
            return web.json_response({"status": status})

        @routes.post("/api/click")
        async def click(request: web.Request) -> web.Response:
            data = await body_of(request)
            status = await self.click(
                str(data.get("user")),
                str(data.get("action_id")),
                str(data.get("value", "")),
                str(data.get("channel") or CHANNEL),
                str(data.get("message_ts") or ""),
                str(data.get("where") or "message"),
            )
            return web.json_response({"status": status})

        @routes.post("/api/home")
        async def home(request: web.Request) -> web.Response:
            data = await body_of(request)
            return web.json_response({"status": await self.open_home(str(data.get("user")))})

        @routes.post("/api/announce")
        async def announce(request: web.Request) -> web.Response:
            status, body = await self.announce(await body_of(request))
            return web.json_response({"status": status, "body": body})

        @routes.post("/api/tiktok/next")
        async def next_answer(request: web.Request) -> web.Response:
            data = await body_of(request)
            try:
                self.script_next(str(data.get("answer", "ok")))
            except ValueError:
                raise web.HTTPBadRequest(text="unknown answer") from None
            return web.json_response({"ok": True})

        @routes.post("/api/tiktok/status")
        async def upload_status(request: web.Request) -> web.Response:
            data = await body_of(request)
            status = await self.set_upload_status(
                str(data.get("publish_id")),
                str(data.get("status")),
                str(data.get("fail_reason") or ""),
            )
            return web.json_response({"status": status})

        @routes.get("/tiktok/consent")
        async def consent(request: web.Request) -> web.Response:
            return web.Response(text=consent_page(request.query), content_type="text/html")

        @routes.get("/tiktok/consent/answer")
        async def consent_answer(request: web.Request) -> web.Response:
            query = request.query
            redirect = query.get("redirect_uri", "")
            if not redirect.startswith(self.bot_url):
                raise web.HTTPBadRequest(text="unexpected redirect_uri")
            if query.get("open_id") in self.tiktok.users:
                params = {
                    "code": self.tiktok.issue_code(query["open_id"]),
                    "state": query.get("state", ""),
                }
            else:
                params = {"error": "access_denied", "state": query.get("state", "")}
            raise web.HTTPFound(f"{redirect}?{urlencode(params)}")

        app.add_routes(routes)
        app.router.add_static("/static/", STATIC)
        return app


def consent_page(query) -> str:
    """TikTok's consent page, played by the sandbox: pick the account that allows access."""
    base = {k: query.get(k, "") for k in ("state", "redirect_uri")}
    choices = [(p.open_id, p.tiktok_name) for p in PEOPLE] + [BRAND]
    links = "".join(
        f'<li><a class="allow" href="/tiktok/consent/answer?'
        f'{html.escape(urlencode({**base, "open_id": open_id}))}">'
        f"Allow as {html.escape(name)}</a></li>"
        for open_id, name in choices
    )
    deny = html.escape(urlencode({**base, "open_id": ""}))
    scopes = html.escape(query.get("scope", ""))
    return (
        "<!doctype html><meta charset=utf-8><title>TikTok (sandbox) — authorize</title>"
        "<link rel=stylesheet href=/static/sandbox.css><main class=consent>"
        "<h1>TikTok <small>(sandbox)</small></h1>"
        f"<p><b>tiktok-cancel</b> would like to: <code>{scopes}</code></p>"
        f"<ul>{links}</ul><p><a class=deny href='/tiktok/consent/answer?{deny}'>Don't allow</a>"
        "</p></main>"
    )


async def serve_sandbox(port: int = 3000, db_path: str | None = None) -> None:
    """Run until SIGINT/SIGTERM, printing the one URL to open."""
    import asyncio
    import signal

    from bot.logs import setup_logging

    setup_logging("WARNING", [])
    sandbox = Sandbox(port, db_path)
    await sandbox.start()
    print(f"tiktok-cancel sandbox: open {sandbox.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()
