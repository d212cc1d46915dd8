"""`python -m bot sandbox`: the real bot against built-in stand-ins of Slack and TikTok.

One process, all on loopback: the stand-ins (`sandbox.fakes`), the real bot (the same
`bot.app.Bot` that production runs, in HTTP mode), and a page that shows a Slack-like
channel rendered from the bot's Block Kit. The page talks to the JSON endpoints below, which
act as Slack would (signed slash commands, button clicks, events), as the upload pipeline
would (`POST /notifications`, or `POST /uploads` for a held upload) and as TikTok would
(consent page, webhooks, scripted answers to a cancel or a Direct Post init).
No settings, no apps: a key, a temporary database and local secrets are made on the spot.

This module is the `Sandbox` (starting and stopping it all, and acting as Slack, the
pipeline and TikTok for the page) and `serve_sandbox`. The rest has a module each:
`scenario` (people, accounts, channels), `answers` (what TikTok can be scripted to answer),
`scripted_tiktok` (the TikTok stand-in that answers so), `page` (the page's HTTP app),
`page_state` (what it shows), `modals` (the modals the bot opened, shown and sent from the
page), `consent` (TikTok's consent page), `guards` (the middlewares and body parsing).
Slack's requests and the browser's OAuth round trip are made by the tests' driver,
`sandbox.fakes.driver`.

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
                               the bot's own commands and consent round trip, as an admin would.
                               With "approval": {"approvers", "needed"?, "approve_by"?} (and
                               "submitted_by"?) it waits for approval instead: the approvers
                               (the sandbox's people, or its user group S0LEADS @social-leads)
                               press Review and approve and send the modal it opens
    POST /api/tiktok/init      {"answer"}: what TikTok answers the next Direct Post init
    POST /api/view             {"user", "view_id", "values": {block_id: text | option value |
                               [values] | null}}: the person presses the submit button of the
                               modal the bot opened for them (views.open; /api/state's
                               "modals"): a signed view_submission, unless Slack's client
                               would refuse it; answers {"sent", "status", "errors", "closed"}
    POST /api/view/close       {"user", "view_id"}: the person closes that modal
    GET  /tiktok/consent       TikTok's consent page (the bot's Connect button points here)
    GET  /healthz              200 {"ok", "sandbox", "bot"} while the page and the bot answer
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet

from bot.app import Bot
from bot.outcome import Outcome
from bot.settings import Settings
from sandbox.answers import (
    CANCEL_SETTLE_S,
    STATUS_ALIASES,
    STATUSES,
    UPLOAD_STATES,
    answer_choices,
    cancel_codes,
    init_choices,
)
from sandbox.fakes import FakeSlack
from sandbox.fakes.driver import Driver, DriverError
from sandbox.fakes.ports import free_port
from sandbox.guards import BadRequest, only_own_pages
from sandbox.modals import PageModals
from sandbox.page import page_app
from sandbox.scenario import (
    ACCOUNTS,
    AUDIT_CHANNEL,
    BOT_TOKEN,
    BRAND,
    CHANNEL,
    PEOPLE,
    TEAM_ACCOUNT,
    TEAM_GRANTS,
    USERGROUPS,
    Person,
    escape_mentions,
    user_id_of,
)
from sandbox.scripted_tiktok import SandboxTikTok
from storage.links import LinkUnreadable

# Also what the tests and `sandbox.screenshot` read from here.
__all__ = ["CHANNEL", "PEOPLE", "Sandbox", "answer_choices", "cancel_codes", "serve_sandbox"]

# How long an endpoint waits for the bot's answer to land before returning anyway (the page
# polls /api/state, so a slow answer, e.g. a hang, still shows up when it comes).
ANSWER_WAIT_S = 2.0


class Sandbox:
    """The stand-ins, the real bot and the page, started and stopped together; its methods
    act as Slack (for the sandbox's people), as the upload pipeline and as TikTok would."""

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
        self.modals = PageModals(self.slack)
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
        for group in USERGROUPS:
            members = [user_id_of(name) for name in group.members]
            self.slack.set_usergroup(group.group_id, handle=group.handle, users=members)
        for open_id, name in ACCOUNTS:
            self.tiktok.add_user(open_id=open_id, display_name=name)
        self._runner = web.AppRunner(page_app(self), access_log=None)
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

    @property
    def driver(self) -> Driver:
        """Slack and a browser acting for the sandbox's people against its bot."""
        assert self.session is not None
        return Driver(self.session, self.slack, self.tiktok, self.bot_url)

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
        sent = await self.driver.send_command(
            escape_mentions(text),
            response_url=url,
            user_id=person.user_id,
            user_name=person.name,
            channel_id=channel,
        )
        return sent.status

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
        home = where == "home"  # Home-tab clicks carry no response_url and no channel
        url = self.slack.new_response_url() if home else self._response_url(person.user_id, channel)
        published = len(self.slack.calls_to("views.publish"))
        views = len(self.slack.modals.matching(person.user_id, None))
        sent = await self.driver.send_click(
            action_id,
            value,
            response_url=url,
            home=home,
            user_id=person.user_id,
            user_name=person.name,
            channel_id=channel,
            message_ts=message_ts or "0",
        )
        # The bot answers a click with a message (or, on the Home, by publishing it anew), or
        # by opening a modal (Review and approve, Reject).
        if home:
            answer = self._call_made("views.publish", published, wait)
        else:
            answer = self._answer_at(url, wait)
        answered = await _first_true(answer, self._view_shown(person.user_id, views, wait))
        return {"status": sent.status, "answered": answered}

    async def _view_shown(self, user_id: str, before: int, timeout: float) -> bool:
        """Wait (at most `timeout`) until a view was shown to `user_id` after `before`."""
        if timeout <= 0:
            return len(self.slack.modals.matching(user_id, None)) > before
        try:
            await self.slack.wait_for_view(user_id=user_id, count=before + 1, timeout=timeout)
        except AssertionError:
            return False
        return True

    async def submit_view(self, user_id: str, view_id: str, values: Any) -> dict[str, Any]:
        """The person presses the submit button of the modal the bot opened for them."""
        person = self.person(user_id)
        return await self.modals.submit(self.driver, person.user_id, view_id, values)

    async def close_view(self, user_id: str, view_id: str) -> dict[str, Any]:
        """The person closes the modal the bot opened for them."""
        return await self.modals.close(self.person(user_id).user_id, view_id)

    async def open_home(self, user_id: str, wait: float = ANSWER_WAIT_S) -> dict[str, Any]:
        person = self.person(user_id)
        published = len(self.slack.calls_to("views.publish"))
        status = await self.driver.open_home(person.user_id)
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
            await self._link(admin, f"team connect {TEAM_ACCOUNT}", BRAND[0], TEAM_ACCOUNT)
            mentions = " ".join(f"@{name}" for name in TEAM_GRANTS)
            await self._quiet_command(admin, f"team grant {TEAM_ACCOUNT} {mentions}")
            return True

    async def link_person(self, user_id: str) -> None:
        """Link the person's own TikTok account as they would: `/tiktok-cancel connect`,
        TikTok's consent as their sandbox account, then "Link it" on the bot's confirm page.
        The bot's DM saying it is linked shows in their Messages (used by sandbox.screenshot)."""
        person = self.person(user_id)
        await self._link(person, "connect", person.open_id, person.name)

    async def _link(self, person: Person, command: str, open_id: str, whom: str) -> None:
        """`/tiktok-cancel <command>` typed by `person` (an answer no one on the page sees),
        then TikTok's consent as `open_id` for the bot's Connect button in its answer and the
        bot's confirm page, as a browser would."""
        try:
            await self.driver.link(
                person.user_id,
                open_id,
                command=command,
                timeout=ANSWER_WAIT_S * 2,
                user_name=person.name,
                channel_id=CHANNEL,
            )
        except DriverError as problem:
            raise BadRequest(f"the bot did not link {whom} ({problem})", 502) from None

    async def _quiet_command(self, person: Person, text: str) -> dict[str, Any]:
        """A signed slash command whose answer no one on the page sees; returns the answer."""
        try:
            return await self.driver.command(
                escape_mentions(text),
                timeout=ANSWER_WAIT_S * 2,
                user_id=person.user_id,
                user_name=person.name,
                channel_id=CHANNEL,
            )
        except DriverError:
            raise BadRequest(f"the bot did not answer /tiktok-cancel {text}", 502) from None

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

    def own_hosts(self) -> set[str]:
        """The Host values of this page: its loopback address and port, also as localhost."""
        return {f"{name}:{self.port}" for name in (self.host, "127.0.0.1", "localhost")}


async def _first_true(*waits) -> bool:
    """Run the waits (each True or False once done) together: True as soon as one is True,
    else False once all are done; the others are then cancelled."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        for done in asyncio.as_completed(tasks):
            if await done:
                return True
        return False
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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
