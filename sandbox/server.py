"""`python -m bot sandbox`: the real bot against built-in stand-ins of Slack and TikTok.

One process, all on loopback: the stand-ins (`sandbox.fakes`), the real bot (the same
`bot.app.Bot` that production runs, in HTTP mode), and a page that shows a Slack-like
channel rendered from the bot's Block Kit. The page talks to the JSON endpoints below, which
act as Slack would (signed slash commands, button clicks, events), as the upload pipeline
would (`POST /notifications`, or `POST /uploads` for a held upload) and as TikTok would
(consent page, webhooks, scripted answers to a cancel or a Direct Post init).
No settings, no apps: a key, a temporary database and local secrets are made on the spot.

JSON endpoints (all answer JSON; a bad body is a 400 `{"error"}`):

    GET  /api/state            everything the page shows ("armed": the scripted answers
                               TikTok's next calls will get, each gone once it is used)
    POST /api/command          {"user", "text", "channel"?}: a signed slash command
    POST /api/click            {"user", "action_id", "value", "channel"?, "message_ts"?,
                                "where"?: "message" | "home"}: a signed button click
    POST /api/home             {"user"}: the App Home tab opened (app_home_opened)
    POST /api/announce         the pipeline's POST /notifications body, plus "open_id"?
                               (the TikTok account that started the upload) and
                               "tiktok_status"? (where it is at TikTok; default downloading)
    POST /api/tiktok/next      {"answer", "publish_id"?}: what TikTok answers the next cancel
                               ("ok": TikTok stops it a few seconds later and sends the
                               `post.publish.failed` webhook; "ok_posted": it says ok but
                               posts it anyway; meanwhile /api/tiktok/status can move it)
    POST /api/tiktok/status    {"publish_id", "status", "fail_reason"?}: move an upload and
                               send the signed webhook TikTok would
    POST /api/hold             the pipeline's POST /uploads body (`upload_key`, `account` and
                               `channel` may be left out), plus "user"?: the bot holds the
                               upload and starts it at TikTok (Direct Post init) when the
                               window closes. The first hold with the team account `brand`
                               links it (Brand Social) and grants it to alex and sam, through
                               the bot's own commands and consent round trip, as an admin would
    POST /api/tiktok/init      {"answer"}: what TikTok answers the next Direct Post init
    GET  /tiktok/consent       TikTok's consent page (the bot's Connect button points here)
    GET  /healthz              200 {"ok", "sandbox", "bot"} while the page and the bot answer
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import secrets
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urljoin, urlparse

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet

from bot.app import Bot
from bot.outcome import Outcome
from bot.settings import Settings
from bot.tiktok.catalog import CATALOG
from sandbox.fakes import FakeSlack, FakeTikTok, Reply
from sandbox.fakes.slack_requests import block_actions_payload, sign, slash_command_body
from sandbox.fakes.tiktok import envelope_error
from storage.links import LinkUnreadable

STATIC = Path(__file__).parent / "static"
CHANNEL = "C0LAUNCH"
AUDIT_CHANNEL = "C0AUDIT"
CHANNELS = {CHANNEL: "launches", AUDIT_CHANNEL: "tiktok-audit"}
# Fixed local names: nothing here leaves the machine. The secrets that let a request act
# (Slack's signing secret, TikTok's client secret, the pipeline's token) are made per run.
BOT_TOKEN = "xoxb-sandbox-bot-token"
CLIENT_KEY = "sandbox_client_key"
# How long an endpoint waits for the bot's answer to land before returning anyway (the page
# polls /api/state, so a slow answer, e.g. a hang, still shows up when it comes).
ANSWER_WAIT_S = 2.0


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
# The team account a held upload uses unless the page names another; linked on first use.
TEAM_ACCOUNT = "brand"
# Who the sandbox grants it to when it links it (riley is left out: "not granted" to try).
TEAM_GRANTS = ("alex", "sam")
ACCOUNTS = tuple((p.open_id, p.tiktok_name) for p in PEOPLE) + (BRAND,)

# HTTP statuses TikTok uses with each error code (tiktok-api.md); anything else: 400.
HTTP_STATUS = {
    "access_token_invalid": 401,
    "scope_not_authorized": 401,
    "rate_limit_exceeded": 429,
    "internal_error": 500,
    "url_ownership_unverified": 403,
    "spam_risk_too_many_pending_share": 403,
    "reached_active_user_cap": 403,
    "unaudited_client_can_only_post_to_private_accounts": 403,
    "privacy_level_option_mismatch": 403,
    "spam_risk_too_many_posts": 403,
}
# Answers that are faults rather than a TikTok error code, with what the panel calls them.
FAULTS = {
    "429": "HTTP 429, rate limited",
    "5xx": "HTTP 500, TikTok's server failed",
    "html": "HTTP 502 with an HTML page (a proxy in the way)",
    "hang": "no answer at all (the bot times out)",
}
NORMAL = "normal"
# A cancel TikTok accepted ends this many seconds later, with the webhook TikTok would send.
CANCEL_SETTLE_S = 5.0
# Accepted-cancel answers, and where each leaves the upload once TikTok has had its go.
ACCEPTED = {"ok": "FAILED", "ok_posted": "PUBLISH_COMPLETE"}
STATUSES = {
    "PUBLISH_COMPLETE": "post.publish.complete",
    "SEND_TO_USER_INBOX": "post.publish.inbox_delivered",
    "FAILED": "post.publish.failed",
}
# Where an upload can start at TikTok when the page announces it.
UPLOAD_STATES = ("PROCESSING_DOWNLOAD", "PROCESSING_UPLOAD", *STATUSES)
STATUS_ALIASES = {"complete": "PUBLISH_COMPLETE", "inbox": "SEND_TO_USER_INBOX", "failed": "FAILED"}


def cancel_codes() -> list[str]:
    """Every error code the catalog knows for TikTok's cancel endpoint."""
    return sorted(c for c, e in CATALOG.items() if e.kind == "cancel" and c != "ok")


def answer_choices() -> list[dict[str, str]]:
    """What the "next answer" panel offers: normal, ok, each error code, then the faults."""
    choices = [
        {"value": NORMAL, "label": "as TikTok would (by the upload's state)", "group": ""},
        {
            "value": "ok",
            "label": "ok: TikTok stops it (confirmed a few seconds later)",
            "group": "",
        },
        {"value": "ok_posted", "label": "ok, but it gets posted anyway", "group": ""},
    ]
    for code in cancel_codes():
        status = HTTP_STATUS.get(code, 400)
        choices.append({"value": code, "label": f"{code} (HTTP {status})", "group": "error codes"})
    for value, label in FAULTS.items():
        choices.append({"value": value, "label": label, "group": "faults"})
    return choices


def init_codes() -> list[str]:
    """The error codes the panel offers for TikTok's Direct Post init: every code the catalog
    knows for starting an upload, and the refusals TikTok documents for init besides."""
    codes = {c for c, e in CATALOG.items() if e.kind == "start"}
    return sorted(codes | {"spam_risk_too_many_posts", "url_ownership_unverified"})


def init_choices() -> list[dict[str, str]]:
    """What the "next start" panel offers: normal, each refusal, then the faults."""
    choices = [
        {"value": NORMAL, "label": "ok: TikTok takes it (a new publish_id)", "group": ""},
    ]
    for code in init_codes():
        status = HTTP_STATUS.get(code, 400)
        choices.append({"value": code, "label": f"{code} (HTTP {status})", "group": "refusals"})
    for value in ("5xx", "html", "hang"):
        choices.append({"value": value, "label": FAULTS[value], "group": "faults"})
    return choices


def scripted_reply(answer: str) -> Reply:
    """A fresh reply for one scripted answer (each carries a new TikTok log ID)."""
    if answer in ACCEPTED:
        return Reply(status=200, json=envelope_error("ok", ""))
    if answer == "429":
        return Reply(
            status=429, json=envelope_error("rate_limit_exceeded"), headers={"Retry-After": "1"}
        )
    if answer == "5xx":
        return Reply(status=500, json=envelope_error("internal_error"))
    if answer == "html":
        return Reply(
            status=502,
            body="<html><body><h1>502 Bad Gateway</h1></body></html>",
            content_type="text/html",
        )
    if answer == "hang":
        return Reply(hang=True)
    return Reply(status=HTTP_STATUS.get(answer, 400), json=envelope_error(answer))


@dataclass
class Scripted:
    answer: str
    used: bool = False


class SandboxTikTok(FakeTikTok):
    """The TikTok stand-in, told per upload what to answer the next cancel.

    A scripted answer holds for every call of that one cancel (the bot's retries and its
    refresh-and-retry included) and is dropped once the bot has finished it, so "429" shows
    what the person reads when TikTok stays busy, not a silent retry that worked. An accepted
    cancel doesn't end the upload at once: TikTok's word comes later (see `Sandbox`), as in
    production, so the page shows "stopping" first.
    """

    def __init__(self) -> None:
        super().__init__(
            client_key=CLIENT_KEY, client_secret="sandbox-client-" + secrets.token_urlsafe(24)
        )
        self.next_answers: dict[str, Scripted] = {}  # publish_id, or "" for any upload
        self.endings: dict[str, str] = {}  # publish_id → where its accepted cancel ends
        self.settle_cancels = False
        self.cancel_answer = self._scripted_answer
        self.next_init = ""  # the answer scripted for the next Direct Post init, if any
        # New publish_ids differ from one run to the next, so a --db kept across runs never
        # meets one it already stored.
        self.init_count = int(time.time()) % 1_000_000 * 100

    def script_next_init(self, answer: str) -> None:
        """What the next Direct Post init gets; `normal`: as TikTok would."""
        self.unscript("init")
        self.next_init = "" if answer == NORMAL else answer
        if self.next_init:
            self.script("init", scripted_reply(answer))

    def scripted_init(self) -> str:
        """The answer still waiting for the next init ("" once an init has taken it)."""
        return self.next_init if self.pending_scripts("init") else ""

    def script_next(self, answer: str, publish_id: str = "") -> None:
        if answer == NORMAL:
            self.next_answers.pop(publish_id, None)
        else:
            self.next_answers[publish_id] = Scripted(answer)

    def _scripted_answer(self, publish_id: str) -> Reply | None:
        scripted = self.next_answers.get(publish_id) or self.next_answers.get("")
        if scripted is None:
            self.endings.pop(publish_id, None)
            return None  # as TikTok would, by the upload's state
        scripted.used = True
        if scripted.answer in ACCEPTED:
            self.endings[publish_id] = ACCEPTED[scripted.answer]
        return scripted_reply(scripted.answer)

    def cancel_finished(self, publish_id: str) -> None:
        """The bot finished a cancel of `publish_id`: the answer scripted for it is spent."""
        for key in (publish_id, ""):
            scripted = self.next_answers.get(key)
            if scripted is not None and scripted.used:
                del self.next_answers[key]
                return


def escape_mentions(text: str) -> str:
    """`@sam` as Slack sends it to a command with `should_escape` on: `<@U0SAM|sam>`."""
    names = {p.name: p.user_id for p in PEOPLE}

    def mention(match: re.Match[str]) -> str:
        user_id = names.get(match.group(2).lower())
        if user_id is None:
            return match.group(0)
        return f"{match.group(1)}<@{user_id}|{match.group(2).lower()}>"

    return re.sub(r"(^|\s)@([A-Za-z][\w.-]*)", mention, text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BadRequest(Exception):
    """A page request the sandbox can't act on; answered 400 (or `status`) with `message`."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class Sandbox:
    def __init__(self, port: int = 3000, db_path: str | None = None, host: str = "127.0.0.1"):
        self.host = host
        self.port = port
        self._tmp = None if db_path else tempfile.TemporaryDirectory(prefix="tiktok-cancel-")
        self.db_path = db_path or str(Path(self._tmp.name) / "sandbox.sqlite3")
        self.slack = FakeSlack(
            bot_token=BOT_TOKEN,
            signing_secret="sandbox-signing-" + secrets.token_urlsafe(24),
            team_id="T0SANDBOX",
        )
        self.tiktok = SandboxTikTok()
        self.bot: Bot | None = None
        # Made per run, like the signing secret: a fixed, published token would let any page
        # that reaches the bot's port announce uploads.
        self.notify_token = "sandbox-notify-" + secrets.token_urlsafe(12)
        self.upload_token = "sandbox-upload-" + secrets.token_urlsafe(12)  # POST /uploads only
        self.session: aiohttp.ClientSession | None = None
        # response_url → (user it answers, channel it was asked in)
        self.response_owner: dict[str, tuple[str, str]] = {}
        # (response_url, index) → position: how many messages were posted before it came
        self.response_seq: dict[tuple[str, int], int] = {}
        self._runner: web.AppRunner | None = None
        self.settle_after_s = CANCEL_SETTLE_S
        self._settling: set[asyncio.Task] = set()
        self.tiktok.on_cancel.append(self._cancel_accepted)
        self._linking = asyncio.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def bot_url(self) -> str:
        assert self.bot is not None
        return f"http://127.0.0.1:{self.bot.port}"

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        await self.slack.start()
        await self.tiktok.start()
        self.slack.on_response = self._response_arrived
        for person in PEOPLE:
            self.slack.set_user(person.user_id, is_admin=person.admin, name=person.name)
        for open_id, name in ACCOUNTS:
            self.tiktok.add_user(open_id=open_id, display_name=name)
        self._runner = web.AppRunner(self.page_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        bot_port = free_port()
        bot_hosts = {f"{name}:{bot_port}" for name in ("127.0.0.1", "localhost")}
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
                upload_token=self.upload_token,
                audit_channel=AUDIT_CHANNEL,
                host="127.0.0.1",
                port=bot_port,
            ),
            # The bot's port answers only its own names, as the page does (DNS rebinding).
            # Its confirm page sends no referrer, so the browser's POST from it says
            # `Origin: null`; that request still needs the page's single-use token.
            middlewares=[only_own_pages(lambda: bot_hosts, null_origin=True)],
            cancel_listeners=[self._cancel_finished],
        )
        await self.bot.start()
        self.session = aiohttp.ClientSession()

    async def stop(self) -> None:
        for task in list(self._settling):
            task.cancel()
        await asyncio.gather(*self._settling, return_exceptions=True)
        if self.session is not None:
            await self.session.close()
            self.session = None
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.tiktok.stop()
        await self.slack.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def _cancel_finished(self, outcome: Outcome) -> None:
        self.tiktok.cancel_finished(outcome.publish_id)

    def _cancel_accepted(self, upload) -> None:
        """TikTok said `ok`: a few seconds later it has its word, unless the page moved it."""
        ending = self.tiktok.endings.pop(upload.publish_id, "FAILED")
        task = asyncio.get_running_loop().create_task(self._settle(upload.publish_id, ending))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, publish_id: str, ending: str) -> None:
        await asyncio.sleep(self.settle_after_s)
        upload = self.tiktok.uploads.get(publish_id)
        if upload is None or upload.status != "PROCESSING_DOWNLOAD" or self.session is None:
            return  # the page moved it meanwhile: that was TikTok's word
        with contextlib.suppress(aiohttp.ClientError, BadRequest, AssertionError):
            # (the sandbox may be stopping meanwhile)
            await self.set_upload_status(publish_id, ending, "publish_cancelled", wait=0)

    def _response_arrived(self, url: str, body: dict[str, Any]) -> None:
        index = len(self.slack.responses.get(url, [])) - 1
        self.response_seq[(url, index)] = len(self.slack.messages)

    # --- acting as Slack ---------------------------------------------------------------

    async def _post_to_bot(self, body: str, content_type: str | None = None) -> int:
        assert self.session is not None
        headers = sign(self.slack.signing_secret, body)
        if content_type:
            headers["Content-Type"] = content_type
        async with self.session.post(
            self.bot_url + "/slack/events", data=body.encode(), headers=headers
        ) as resp:
            return resp.status

    def _response_url(self, user_id: str, channel: str) -> str:
        url = self.slack.new_response_url()
        self.response_owner[url] = (user_id, channel)
        return url

    async def _answer_at(self, url: str, timeout: float) -> bool:
        """Wait (at most `timeout`) for the bot's answer at `url`; True once it came."""
        if timeout <= 0:
            return bool(self.slack.responses.get(url))
        try:
            await self.slack.wait_for_responses(url, 1, timeout=timeout)
        except AssertionError:
            return False
        return True

    async def _call_made(self, method: str, before: int, timeout: float) -> bool:
        """Wait (at most `timeout`) until Slack method `method` was called after `before`."""
        if timeout <= 0:
            return len(self.slack.calls_to(method)) > before
        try:
            await self.slack.wait_for_call(method, before + 1, timeout=timeout)
        except AssertionError:
            return False
        return True

    async def command(
        self, user_id: str, text: str, channel: str = CHANNEL, wait: float = ANSWER_WAIT_S
    ) -> dict[str, Any]:
        person = self.person(user_id)
        url = self._response_url(person.user_id, channel)
        status = await self._send_command(person, text, url, channel)
        return {"status": status, "answered": await self._answer_at(url, wait)}

    async def _send_command(self, person: Person, text: str, url: str, channel: str) -> int:
        """`/tiktok-cancel <text>` typed by `person`, signed as Slack would; the HTTP status."""
        body = slash_command_body(
            escape_mentions(text),
            response_url=url,
            user_id=person.user_id,
            user_name=person.name,
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
        wait: float = ANSWER_WAIT_S,
    ) -> dict[str, Any]:
        person = self.person(user_id)
        url = self._response_url(person.user_id, channel)
        payload = block_actions_payload(
            action_id,
            value,
            response_url=url,
            user_id=person.user_id,
            user_name=person.name,
            team_id=self.slack.team_id,
            channel_id=channel,
            message_ts=message_ts or "0",
        )
        if where == "home":  # Home-tab clicks carry no response_url and no channel
            del self.response_owner[url]
            payload.pop("response_url", None)
            payload.pop("channel", None)
            payload.pop("message", None)
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home"}
        published = len(self.slack.calls_to("views.publish"))
        status = await self._post_to_bot("payload=" + quote_plus(json.dumps(payload)))
        if where == "home":
            answered = await self._call_made("views.publish", published, wait)
        else:
            answered = await self._answer_at(url, wait)
        return {"status": status, "answered": answered}

    async def open_home(self, user_id: str, wait: float = ANSWER_WAIT_S) -> dict[str, Any]:
        person = self.person(user_id)
        body = json.dumps(
            {
                "token": "sandbox",
                "team_id": self.slack.team_id,
                "api_app_id": self.slack.app_id,
                "type": "event_callback",
                "event_id": "Ev" + secrets.token_hex(6).upper(),
                "event_time": int(time.time()),
                "event": {
                    "type": "app_home_opened",
                    "user": person.user_id,
                    "tab": "home",
                    "channel": "D" + person.user_id,
                },
            }
        )
        published = len(self.slack.calls_to("views.publish"))
        status = await self._post_to_bot(body, "application/json")
        return {
            "status": status,
            "answered": await self._call_made("views.publish", published, wait),
        }

    # --- acting as the upload pipeline and as TikTok -----------------------------------

    async def announce(self, fields: dict[str, Any], user_id: str = "") -> tuple[int, Any]:
        """POST /notifications as the pipeline would, after TikTok took the upload.

        The upload belongs to `open_id` if given, else to the brand account when a team
        account is named, else to the TikTok account of `user_id` (who acts on the page). It
        starts at TikTok in `tiktok_status` (default PROCESSING_DOWNLOAD: still cancellable).
        """
        assert self.session is not None
        publish_id = fields.get("publish_id")
        status = str(fields.get("tiktok_status") or "PROCESSING_DOWNLOAD")
        if status not in UPLOAD_STATES:
            raise BadRequest(f"tiktok_status must be one of {', '.join(UPLOAD_STATES)}")
        if isinstance(publish_id, str) and publish_id and publish_id not in self.tiktok.uploads:
            owner = str(fields.get("open_id") or "")
            if owner not in self.tiktok.users:
                owner = BRAND[0] if fields.get("account") else self.person(user_id).open_id
            self.tiktok.add_upload(publish_id, open_id=owner, status=status)
        body = {
            k: v
            for k, v in fields.items()
            if k not in ("open_id", "user", "tiktok_status") and v not in ("", None)
        }
        if isinstance(body.get("video"), dict):
            body["video"] = {k: v for k, v in body["video"].items() if v not in ("", None)}
            if not body["video"]:
                del body["video"]
        body.setdefault("channel", CHANNEL)
        return await self.as_pipeline("/notifications", body)

    async def as_pipeline(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """POST `body` to the bot's `path` as the upload pipeline would: with UPLOAD_TOKEN for
        /uploads, NOTIFY_TOKEN for /notifications (each credential does one job)."""
        assert self.session is not None
        token = self.upload_token if path == "/uploads" else self.notify_token
        async with self.session.post(
            self.bot_url + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            try:
                answer = await resp.json(content_type=None)
            except ValueError:
                answer = {"error": "the bot's answer was not JSON"}
            return resp.status, answer

    async def hold(self, fields: dict[str, Any]) -> dict[str, Any]:
        """POST /uploads as the pipeline would: the bot holds the upload, then starts it.

        `fields` is the body the pipeline sends; `upload_key` (a fresh one), `account` (the
        team account brand) and `channel` (#launches) may be left out. The bot checks the
        rest and answers as it would the pipeline. A held upload needs a linked team account:
        the first hold with brand links it first, through the bot's own paths.
        """
        assert self.session is not None
        body = {k: v for k, v in fields.items() if k != "user" and v not in ("", None)}
        body.setdefault("upload_key", "sandbox-" + secrets.token_hex(4))
        body.setdefault("account", TEAM_ACCOUNT)
        body.setdefault("channel", CHANNEL)
        linked = ""
        if body["account"] == TEAM_ACCOUNT and await self.link_team_account():
            linked = TEAM_ACCOUNT
        status, answer = await self.as_pipeline("/uploads", body)
        return {"status": status, "body": answer, "linked": linked}

    async def link_team_account(self) -> bool:
        """Link Brand Social as the team account brand and grant it, unless it is linked.

        Done as an admin would: `/tiktok-cancel team connect brand` (signed, as alex), TikTok's
        consent for Brand Social, the bot's confirm page, then `team grant brand @alex @sam`.
        The answers go to response URLs no one on the page owns, so they don't show; the bot's
        DM saying the account is linked does. True when it linked it now.
        """
        assert self.bot is not None and self.bot.parts is not None
        async with self._linking:
            tokens = self.bot.parts.tokens
            with contextlib.suppress(LinkUnreadable):  # an unreadable link is linked again
                if await tokens.load(self.slack.team_id, "team", TEAM_ACCOUNT) is not None:
                    return False
            admin = next(p for p in PEOPLE if p.admin)
            answer = await self._quiet_command(admin, f"team connect {TEAM_ACCOUNT}")
            await self._allow_and_confirm(answer, BRAND[0], TEAM_ACCOUNT)
            mentions = " ".join(f"@{name}" for name in TEAM_GRANTS)
            await self._quiet_command(admin, f"team grant {TEAM_ACCOUNT} {mentions}")
            return True

    async def link_person(self, user_id: str) -> None:
        """Link the person's own TikTok account as they would: `/tiktok-cancel connect`,
        TikTok's consent as their sandbox account, then "Link it" on the bot's confirm page.
        The bot's DM saying it is linked shows in their Messages (used by sandbox.screenshot)."""
        person = self.person(user_id)
        answer = await self._quiet_command(person, "connect")
        await self._allow_and_confirm(answer, person.open_id, person.name)

    async def _allow_and_confirm(self, answer: dict[str, Any], open_id: str, whom: str) -> None:
        """TikTok's consent as `open_id` for the bot's Connect button in `answer`, then the
        bot's confirm page, as a browser would."""
        assert self.bot is not None and self.session is not None
        urls = [b["url"] for b in message_buttons(answer) if b.get("url")]
        if len(urls) != 1:
            raise BadRequest(f"the bot did not offer to link {whom}", 502)
        query = parse_qs(urlparse(urls[0]).query)
        redirect_uri = query.get("redirect_uri", [""])[0]
        if redirect_uri != self.bot.settings.tiktok_redirect_uri:
            raise BadRequest("the bot's Connect button points elsewhere", 502)
        code = self.tiktok.issue_code(open_id, redirect_uri=redirect_uri)
        params = {
            "code": code,
            "scopes": query.get("scope", [""])[0],
            "state": query.get("state", [""])[0],
        }
        async with self.session.get(redirect_uri, params=params) as resp:
            page, callback = await resp.text(), str(resp.url)
        form = dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)">', page))
        form = {k: html.unescape(v) for k, v in form.items()}
        async with self.session.post(
            urljoin(callback, "confirm"), data={**form, "choice": "link"}
        ) as resp:
            if resp.status != 200:
                raise BadRequest(f"the bot did not link {whom}", 502)

    async def _quiet_command(self, person: Person, text: str) -> dict[str, Any]:
        """A signed slash command whose answer no one on the page sees; returns the answer."""
        url = self.slack.new_response_url()
        await self._send_command(person, text, url, CHANNEL)
        if not await self._answer_at(url, ANSWER_WAIT_S * 2):
            raise BadRequest(f"the bot did not answer /tiktok-cancel {text}", 502)
        return self.slack.responses[url][-1]

    def script_next_init(self, answer: str) -> None:
        """Script TikTok's answer to the next Direct Post init (a held upload's start)."""
        if answer not in {c["value"] for c in init_choices()}:
            raise BadRequest(f"unknown answer {answer!r}; /api/state lists the init answers")
        self.tiktok.script_next_init(answer)

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the page and the bot answer: the page does if this runs at all."""
        bot = "down"
        if self.bot is not None and self.session is not None:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                async with self.session.get(
                    self.bot_url + "/healthz", timeout=aiohttp.ClientTimeout(total=2)
                ) as resp:
                    answer = await resp.json(content_type=None)
                    if resp.status == 200 and isinstance(answer, dict) and answer.get("ok"):
                        bot = "up"
        up = bot == "up"
        return up, {"ok": up, "sandbox": "up", "bot": bot}

    def script_next(self, answer: str, publish_id: str = "") -> None:
        """Script TikTok's answer to the next cancel (of `publish_id`, or of any upload)."""
        if answer not in {c["value"] for c in answer_choices()}:
            raise BadRequest(f"unknown answer {answer!r}; /api/state lists the answers")
        if publish_id and publish_id not in self.tiktok.uploads:
            raise BadRequest(f"no upload {publish_id!r} at TikTok", 404)
        self.tiktok.script_next(answer, publish_id)

    async def set_upload_status(
        self, publish_id: str, status: str, fail_reason: str = "", wait: float = ANSWER_WAIT_S
    ) -> dict[str, Any]:
        """Move an upload, and tell the bot through a signed webhook as TikTok would."""
        assert self.session is not None
        status = STATUS_ALIASES.get(status, status)
        if status not in STATUSES:
            raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
        upload = self.tiktok.uploads.get(publish_id)
        if upload is None:
            raise BadRequest(f"no upload {publish_id!r} at TikTok", 404)
        reason = (fail_reason or "internal")[:64] if status == "FAILED" else ""
        self.tiktok.set_status(publish_id, status, reason or None)
        content: dict[str, Any] = {"publish_id": publish_id, "publish_type": "DIRECT_POST"}
        if reason:
            content["reason"] = reason
        body = self.tiktok.webhook_body(STATUSES[status], content, user_openid=upload.open_id)
        updates = len(self.slack.calls_to("chat.update"))
        async with self.session.post(
            self.bot_url + "/tiktok/webhook",
            data=body,
            headers={
                "TikTok-Signature": self.tiktok.sign_webhook(body),
                "Content-Type": "application/json",
            },
        ) as resp:
            webhook_status = resp.status
        updated = await self._call_made("chat.update", updates, wait)
        return {"status": webhook_status, "updated": updated}

    # --- what the page shows -----------------------------------------------------------

    def person(self, user_id: str) -> Person:
        for p in PEOPLE:
            if user_id in (p.user_id, p.name):
                return p
        raise BadRequest(f"unknown user {user_id!r}; one of {', '.join(p.user_id for p in PEOPLE)}")

    def state(self) -> dict[str, Any]:
        channels: dict[str, list[dict]] = {c: [] for c in CHANNELS}
        dms: dict[str, list[dict]] = {p.user_id: [] for p in PEOPLE}
        threads: dict[tuple[str, str], list[dict]] = {}
        for seq, ((channel, ts), message) in enumerate(list(self.slack.messages.items())):
            entry = {
                "ts": ts,
                "seq": 2 * seq,
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
        for channel, messages in [*channels.items(), *dms.items()]:
            for entry in messages:
                entry["replies"] = threads.get((channel, entry["ts"]), [])
        ephemeral: dict[str, list[dict]] = {p.user_id: [] for p in PEOPLE}
        for url, bodies in list(self.slack.responses.items()):
            owner, channel = self.response_owner.get(url, ("", ""))
            if not owner:
                continue
            for index, body in enumerate(bodies):
                before = self.response_seq.get((url, index), len(self.slack.messages))
                ephemeral.setdefault(owner, []).append(
                    {
                        "id": f"{url.rsplit('/', 1)[-1]}.{index}",
                        "seq": 2 * before - 1,
                        "channel": channel,
                        "text": body.get("text", ""),
                        "blocks": body.get("blocks", []),
                    }
                )
        homes: dict[str, Any] = {}
        for call in self.slack.calls_to("views.publish"):
            homes[str(call.params.get("user_id"))] = call.params.get("view")
        names = dict(ACCOUNTS)
        uploads = [
            {
                "publish_id": u.publish_id,
                "status": u.status,
                "fail_reason": u.fail_reason or "",
                "account": names.get(u.open_id, u.open_id),
                "next_answer": self._scripted_for(u.publish_id),
                "stopping": u.cancel_requested and u.status == "PROCESSING_DOWNLOAD",
            }
            for u in self.tiktok.uploads.values()
        ]
        return {
            "people": [p.__dict__ for p in PEOPLE],
            "accounts": [{"open_id": o, "name": n} for o, n in ACCOUNTS],
            "channels": [
                {"id": c, "name": CHANNELS.get(c, c), "messages": m} for c, m in channels.items()
            ],
            "dms": dms,
            "ephemeral": ephemeral,
            "homes": homes,
            "uploads": uploads,
            "next_answer_any": self._scripted_for(""),
            "armed": self.armed(),
            "init_answers": init_choices(),
            "next_init": self.tiktok.scripted_init(),
            "inits": len(self.tiktok.calls_to("init")),
            "team_account": TEAM_ACCOUNT,
            "answers": answer_choices(),
            "fail_reasons": sorted(c for c, e in CATALOG.items() if e.kind == "fail_reason"),
            "upload_states": list(UPLOAD_STATES),
            "bot_url": self.bot_url if self.bot else "",
            "notify_token": self.notify_token,
            "upload_token": self.upload_token,
        }

    def armed(self) -> list[dict[str, Any]]:
        """What the TikTok stand-in will answer its next calls, as the panel shows it: one
        entry per scripted answer still waiting (a cancel of one upload, of any upload, the
        next start). A cancel answer being used by a cancel under way says so (`in_use`); it
        is gone once the bot finished that cancel, and a start answer once an init took it."""
        labels = {c["value"]: c["label"] for c in answer_choices()}
        armed = [
            {
                "call": "cancel",
                "publish_id": key,
                "answer": scripted.answer,
                "label": labels.get(scripted.answer, scripted.answer),
                "in_use": scripted.used,
            }
            for key, scripted in sorted(self.tiktok.next_answers.items(), key=lambda kv: kv[0])
        ]
        start = self.tiktok.scripted_init()
        if start:
            starts = {c["value"]: c["label"] for c in init_choices()}
            armed.append(
                {
                    "call": "start",
                    "publish_id": "",
                    "answer": start,
                    "label": starts.get(start, start),
                    "in_use": False,
                }
            )
        return armed

    def _scripted_for(self, key: str) -> str:
        scripted = self.tiktok.next_answers.get(key)
        return scripted.answer if scripted else ""

    # --- the page's HTTP app -------------------------------------------------------------

    def own_hosts(self) -> set[str]:
        """The Host values of this page: its loopback address and port, also as localhost."""
        return {f"{name}:{self.port}" for name in (self.host, "127.0.0.1", "localhost")}

    def page_app(self) -> web.Application:
        app = web.Application(
            client_max_size=256 * 1024, middlewares=[only_own_pages(self.own_hosts), json_errors]
        )
        routes = web.RouteTableDef()

        @routes.get("/")
        async def index(_: web.Request) -> web.FileResponse:
            return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

        @routes.get("/api/state")
        async def state(_: web.Request) -> web.Response:
            return web.json_response(self.state(), headers={"Cache-Control": "no-store"})

        @routes.post("/api/command")
        async def command(request: web.Request) -> web.Response:
            data = await body_of(request)
            text = text_field(data, "text", required=False)
            if text.startswith("/tiktok-cancel"):
                text = text[len("/tiktok-cancel") :].strip()
            result = await self.command(
                text_field(data, "user"),
                text,
                text_field(data, "channel", required=False) or CHANNEL,
            )
            return web.json_response(result)

        @routes.post("/api/click")
        async def click(request: web.Request) -> web.Response:
            data = await body_of(request)
            where = text_field(data, "where", required=False) or "message"
            if where not in ("message", "home"):
                raise BadRequest("where must be message or home")
            result = await self.click(
                text_field(data, "user"),
                text_field(data, "action_id"),
                text_field(data, "value", required=False),
                text_field(data, "channel", required=False) or CHANNEL,
                text_field(data, "message_ts", required=False),
                where,
            )
            return web.json_response(result)

        @routes.post("/api/home")
        async def home(request: web.Request) -> web.Response:
            data = await body_of(request)
            return web.json_response(await self.open_home(text_field(data, "user")))

        @routes.post("/api/announce")
        async def announce(request: web.Request) -> web.Response:
            data = await body_of(request)
            user = str(data.get("user") or PEOPLE[0].user_id)
            status, body = await self.announce(data, user)
            return web.json_response({"status": status, "body": body})

        @routes.post("/api/tiktok/next")
        async def next_answer(request: web.Request) -> web.Response:
            data = await body_of(request)
            answer = text_field(data, "answer")
            publish_id = text_field(data, "publish_id", required=False)
            self.script_next(answer, publish_id)
            return web.json_response({"ok": True, "answer": answer, "publish_id": publish_id})

        @routes.post("/api/tiktok/status")
        async def upload_status(request: web.Request) -> web.Response:
            data = await body_of(request)
            result = await self.set_upload_status(
                text_field(data, "publish_id"),
                text_field(data, "status"),
                text_field(data, "fail_reason", required=False),
            )
            return web.json_response(result)

        @routes.post("/api/hold")
        async def hold(request: web.Request) -> web.Response:
            return web.json_response(await self.hold(await body_of(request)))

        @routes.post("/api/tiktok/init")
        async def next_init(request: web.Request) -> web.Response:
            answer = text_field(await body_of(request), "answer")
            self.script_next_init(answer)
            return web.json_response({"ok": True, "answer": answer})

        @routes.get("/healthz")
        async def healthz(_: web.Request) -> web.Response:
            up, body = await self.health()
            return web.json_response(
                body, status=200 if up else 503, headers={"Cache-Control": "no-store"}
            )

        @routes.get("/tiktok/consent")
        async def consent(request: web.Request) -> web.Response:
            problem = self._consent_problem(request.query)
            return web.Response(
                status=400 if problem else 200,
                text=consent_page(request.query, problem),
                content_type="text/html",
            )

        @routes.get("/tiktok/consent/answer")
        async def consent_answer(request: web.Request) -> web.Response:
            query = request.query
            problem = self._consent_problem(query)
            if problem:
                return web.Response(
                    status=400, text=consent_page(query, problem), content_type="text/html"
                )
            open_id = query.get("open_id", "")
            if open_id in self.tiktok.users:
                params = {
                    "code": self.tiktok.issue_code(open_id, redirect_uri=query["redirect_uri"]),
                    "scopes": query.get("scope", ""),
                    "state": query.get("state", ""),
                }
            else:
                params = {
                    "error": "access_denied",
                    "error_description": "The user did not allow access.",
                    "state": query.get("state", ""),
                }
            raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(params)}")

        app.add_routes(routes)
        app.router.add_static("/static/", STATIC)
        return app

    def _consent_problem(self, query) -> str:
        """Why TikTok would refuse to show the consent page; "" if it is fine."""
        if query.get("client_key") != self.tiktok.client_key:
            return "Unknown client_key: this app isn't registered with TikTok."
        if self.bot is None or query.get("redirect_uri") != self.bot.settings.tiktok_redirect_uri:
            return "The redirect_uri isn't one registered for this app."
        if query.get("response_type", "code") != "code":
            return "response_type must be code."
        return ""


FOREIGN = (
    "Refused: the sandbox only answers its own page at http://127.0.0.1:<port> "
    "(this request's Host or Origin is another site)."
)


def only_own_pages(own_hosts, null_origin: bool = False):
    """A middleware: 403 for a request whose Host, or Origin when sent, is not this page's
    (a cross-site POST from another tab, or a DNS-rebinding name pointed at 127.0.0.1).
    `null_origin`: also let `Origin: null` through (a page sent with no referrer)."""

    @web.middleware
    async def guard(request: web.Request, handler) -> web.StreamResponse:
        hosts = own_hosts()
        origin = request.headers.get("Origin")
        allowed = request.headers.get("Host", "").lower() in hosts and (
            origin is None
            or (null_origin and origin == "null")
            or origin.lower() in {f"http://{h}" for h in hosts}
        )
        if not allowed:
            return web.Response(status=403, text=FOREIGN)
        return await handler(request)

    return guard


@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    """The JSON endpoints answer every problem as `{"error": ...}` with a 4xx status."""
    try:
        return await handler(request)
    except BadRequest as problem:
        return web.json_response({"error": problem.message}, status=problem.status)


async def body_of(request: web.Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # "[" * 5000 recurses
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def message_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button in a message's blocks (accessories and actions)."""
    found = []
    for block in message.get("blocks") or []:
        found += [e for e in block.get("elements") or [] if e.get("type") == "button"]
        if (block.get("accessory") or {}).get("type") == "button":
            found.append(block["accessory"])
    return found


def text_field(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name} is required")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise BadRequest(f"{name} must be a string")
    return str(value)


def consent_page(query, problem: str = "") -> str:
    """TikTok's consent page, played by the sandbox: pick the account that allows access."""
    head = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<title>TikTok (sandbox): authorize tiktok-cancel</title>"
        "<link rel=icon href='data:,'><link rel=stylesheet href=/static/sandbox.css>"
        "<main class=consent><h1>TikTok <small>sandbox</small></h1>"
    )
    if problem:
        return f"{head}<p class=problem>{html.escape(problem)}</p></main></html>"
    base = {k: query.get(k, "") for k in ("client_key", "state", "redirect_uri", "scope")}
    links = "".join(
        f'<li><a class="allow" href="/tiktok/consent/answer?'
        f'{html.escape(urlencode({**base, "open_id": open_id}))}">'
        f"Allow as {html.escape(name)}</a></li>"
        for open_id, name in ACCOUNTS
    )
    deny = html.escape(urlencode({**base, "open_id": ""}))
    scopes = "".join(
        f"<li><code>{html.escape(s)}</code></li>" for s in query.get("scope", "").split(",") if s
    )
    return (
        f"{head}<p><b>tiktok-cancel</b> would like to use your TikTok account:</p>"
        f"<ul class=scopes>{scopes}</ul>"
        "<p>Sign in as one of these sandbox accounts to allow it:</p>"
        f"<ul class=accounts>{links}</ul>"
        f'<p><a class="deny" href="/tiktok/consent/answer?{deny}">Don\'t allow</a></p>'
        "<p class=hint>This page stands in for TikTok's own. Allowing sends you back to the "
        "bot, which links the account and tells you in Slack.</p></main></html>"
    )


async def serve_sandbox(port: int = 3000, db_path: str | None = None) -> None:
    """Run until SIGINT/SIGTERM, printing the one URL to open."""
    import signal
    import sys

    from bot.logs import setup_logging

    setup_logging("WARNING", [])
    sandbox = Sandbox(port, db_path)
    try:
        await sandbox.start()
    except OSError as exc:
        print(
            f"tiktok-cancel sandbox: can't listen on port {port} ({exc.strerror or exc}); "
            "try another with --port (0 picks a free one)",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    print(f"tiktok-cancel sandbox: open {sandbox.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()
