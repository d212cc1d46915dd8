"""`python -m bot sandbox`: the real bot against built-in stand-ins of Slack and TikTok.

One process, all on loopback: the stand-ins (`sandbox.fakes`), the real bot (the same
`bot.app.Bot` that production runs, in HTTP mode, serving many workspaces: Add to Slack), and
a page that shows a Slack-like channel rendered from the bot's Block Kit. The page talks to
the JSON endpoints below, which act as Slack would (signed slash commands, button clicks,
events), as the upload pipeline would (`POST /notifications`, or `POST /uploads` for a held
upload) and as TikTok would (consent page, webhooks, scripted answers to a cancel or a Direct
Post init).
No settings, no apps: a key, a temporary database and local secrets are made on the spot.
The first workspace is installed as the sandbox starts; the page's Add to Slack installs the
second, and every endpoint below acts in the workspace its `team` names (`sandbox.workspaces`).

This module is the `Sandbox` (starting and stopping it all, and acting as Slack, the
pipeline and TikTok for the page) and `serve_sandbox`. The rest has a module each:
`scenario` (workspaces, people, accounts, channels), `answers` (what TikTok can be
scripted to answer), `scripted_tiktok` (the TikTok stand-in that answers so), `page` (the
page's HTTP app),
`page_state` (what it shows), `modals` (the modals the bot opened, shown and sent from the
page), `consent` (TikTok's consent page), `guards` (the middlewares and body parsing),
`workspaces` (which workspaces have the app: Add to Slack, Uninstall, pipeline tokens),
`linking` (the links the sandbox makes itself, through the bot's own paths).
Slack's requests and the browser's OAuth round trip are made by the tests' driver,
`sandbox.fakes.driver`.

JSON endpoints (all answer JSON; a bad body is a 400 `{"error"}`). Every body may name the
workspace it acts in, `"team"` (a team id of /api/state's "workspaces"; by default the first):
the person acts there, and the pipeline sends that workspace's pipeline token.

    GET  /api/state?team=T…    everything the page shows of that workspace ("armed": the
                               scripted answers TikTok's next calls will get, each gone once
                               it is used; TikTok's panel is the same in every workspace)
    POST /api/install          {"team"?}: Add to Slack for that workspace (by default the next
                               one without the app), as its admin's browser does; 409 when it
                               has the app
    POST /api/uninstall        {"team"}: that workspace (not the first) removes the app; the
                               bot forgets it
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
import json
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
from sandbox.fakes.driver import Driver, Sent
from sandbox.fakes.ports import free_port
from sandbox.guards import BadRequest, only_own_pages
from sandbox.linking import Linking
from sandbox.modals import PageModals
from sandbox.page import page_app
from sandbox.scenario import (
    ACCOUNTS,
    BOT_TOKEN,
    BRAND,
    CHANNEL,
    FIRST_TEAM,
    PEOPLE,
    TEAM_ACCOUNT,
    Person,
    escape_mentions,
)
from sandbox.scripted_tiktok import SandboxTikTok
from sandbox.workspaces import SandboxWorkspaces

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
            team_id=FIRST_TEAM,
        )
        # The app's client secret made per run too (the fake's is a published constant).
        self.slack.client_secret = "sandbox-client-" + secrets.token_urlsafe(24)
        self.tiktok = SandboxTikTok()
        self.modals = PageModals(self.slack)
        self.workspaces = SandboxWorkspaces(self.slack)
        self.linking = Linking()
        self.bot: Bot | None = None
        self.session: aiohttp.ClientSession | None = None
        # response_url → (user it answers, channel it was asked in, their workspace)
        self.response_owner: dict[str, tuple[str, str, str]] = {}
        # (response_url, index) → position: how many messages were posted before it came
        self.response_seq: dict[tuple[str, int], int] = {}
        # response_url → (the answer a command's ack carried, its position), shown as Slack
        # shows it (only Bolt's words to a workspace without the app carry one)
        self.ack_answers: dict[str, tuple[dict[str, Any], int]] = {}
        self._runner: web.AppRunner | None = None
        self.settle_after_s = CANCEL_SETTLE_S
        self._settling: set[asyncio.Task] = set()
        self.tiktok.on_cancel.append(self._cancel_accepted)

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
        self.workspaces.declare()
        for open_id, name in ACCOUNTS:
            self.tiktok.add_user(open_id=open_id, display_name=name)
        self._runner = web.AppRunner(page_app(self), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        bot_port = free_port()
        bot_hosts = {f"{name}:{bot_port}" for name in ("127.0.0.1", "localhost")}
        # Many workspaces: the app's credentials at the Slack stand-in, no bot token; no
        # AUDIT_CHANNEL, NOTIFY_TOKEN or UPLOAD_TOKEN (each workspace sets its own).
        self.bot = Bot(
            Settings(
                slack_bot_token=None,
                slack_client_id=self.slack.client_id,
                slack_client_secret=self.slack.client_secret,
                slack_signing_secret=self.slack.signing_secret,
                slack_api_url=self.slack.api_url,
                tiktok_client_key=self.tiktok.client_key,
                tiktok_client_secret=self.tiktok.client_secret,
                tiktok_api_url=self.tiktok.url,
                tiktok_authorize_url=f"{self.url}/tiktok/consent",
                tiktok_redirect_uri=f"http://127.0.0.1:{bot_port}/tiktok/oauth/callback",
                token_encryption_key=Fernet.generate_key().decode(),
                database_path=self.db_path,
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
        await self.install(FIRST_TEAM)

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

    def team(self, team_id: str = "") -> str:
        """The sandbox workspace `team_id` names (the first when ""); a 400 for another."""
        return self.workspaces.workspace(team_id).team_id

    def acting(self, user_id: str, team: str = "") -> tuple[Person, str]:
        """The sandbox person `user_id` acting in workspace `team` (by default the first), and
        that workspace's id; a 400 for anyone else. The page's browser is then signed in to
        Slack as them, there: the Slack stand-in's Sign in with Slack (OpenID Connect) signs
        in as whoever last acted on the page."""
        person, team_id = self.person(user_id), self.team(team)
        self.slack.sign_in_as(team_id, person.user_id)
        return person, team_id

    def _response_url(self, user_id: str, channel: str, team_id: str) -> str:
        url = self.slack.new_response_url()
        self.response_owner[url] = (user_id, channel, team_id)
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
        self,
        user_id: str,
        text: str,
        channel: str = CHANNEL,
        wait: float = ANSWER_WAIT_S,
        team: str = "",
    ) -> dict[str, Any]:
        person, team_id = self.acting(user_id, team)
        url = self._response_url(person.user_id, channel, team_id)
        sent = await self._send_command(person, text, url, channel, team_id)
        if sent.status == 200 and sent.ack.strip():
            self.ack_answers[url] = (_ack_answer(sent.ack), len(self.slack.messages))
            return {"status": sent.status, "answered": True}
        return {"status": sent.status, "answered": await self._answer_at(url, wait)}

    async def _send_command(
        self, person: Person, text: str, url: str, channel: str, team_id: str
    ) -> Sent:
        """`/tiktok-cancel <text>` typed by `person` in workspace `team_id`, signed as Slack
        would; what the bot acked."""
        return await self.driver.send_command(
            escape_mentions(text),
            response_url=url,
            user_id=person.user_id,
            user_name=person.name,
            channel_id=channel,
            team_id=team_id,
        )

    async def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        channel: str = CHANNEL,
        message_ts: str = "",
        where: str = "message",
        wait: float = ANSWER_WAIT_S,
        team: str = "",
    ) -> dict[str, Any]:
        person, team_id = self.acting(user_id, team)
        home = where == "home"  # Home-tab clicks carry no response_url and no channel
        if home:
            url = self.slack.new_response_url()
        else:
            url = self._response_url(person.user_id, channel, team_id)
        published = len(self.slack.calls_to("views.publish"))
        views = len(self.slack.modals.matching(person.user_id, None, team_id))
        sent = await self.driver.send_click(
            action_id,
            value,
            response_url=url,
            home=home,
            user_id=person.user_id,
            user_name=person.name,
            channel_id=channel,
            message_ts=message_ts or "0",
            team_id=team_id,
        )
        # The bot answers a click with a message (or, on the Home, by publishing it anew), or
        # by opening a modal (Review and approve, Reject).
        if home:
            answer = self._call_made("views.publish", published, wait)
        else:
            answer = self._answer_at(url, wait)
        shown = self._view_shown(person.user_id, team_id, views, wait)
        answered = await _first_true(answer, shown)
        return {"status": sent.status, "answered": answered}

    async def _view_shown(self, user_id: str, team_id: str, before: int, timeout: float) -> bool:
        """Wait (at most `timeout`) until a view was shown to `user_id` of workspace `team_id`
        after `before`."""
        if timeout <= 0:
            return len(self.slack.modals.matching(user_id, None, team_id)) > before
        try:
            await self.slack.wait_for_view(
                user_id=user_id, count=before + 1, timeout=timeout, team_id=team_id
            )
        except AssertionError:
            return False
        return True

    async def submit_view(
        self, user_id: str, view_id: str, values: Any, team: str = ""
    ) -> dict[str, Any]:
        """The person presses the submit button of the modal the bot opened for them."""
        person, team_id = self.acting(user_id, team)
        return await self.modals.submit(self.driver, person.user_id, team_id, view_id, values)

    async def close_view(self, user_id: str, view_id: str, team: str = "") -> dict[str, Any]:
        """The person closes the modal the bot opened for them."""
        person, team_id = self.acting(user_id, team)
        return await self.modals.close(person.user_id, team_id, view_id)

    async def open_home(
        self, user_id: str, wait: float = ANSWER_WAIT_S, team: str = ""
    ) -> dict[str, Any]:
        person, team_id = self.acting(user_id, team)
        published = len(self.slack.calls_to("views.publish"))
        status = await self.driver.open_home(person.user_id, team_id=team_id)
        return {
            "status": status,
            "answered": await self._call_made("views.publish", published, wait),
        }

    # --- the workspaces: Add to Slack and Uninstall ------------------------------------

    async def install(self, team: str = "") -> dict[str, Any]:
        """Add to Slack for workspace `team` (by default the next one without the app)."""
        assert self.bot is not None and self.bot.parts is not None
        return await self.workspaces.install(self.driver, self.bot.parts, team)

    async def uninstall(self, team: str) -> dict[str, Any]:
        """Workspace `team` removes the app; the bot forgets it."""
        assert self.bot is not None and self.bot.parts is not None
        return await self.workspaces.uninstall(self.driver, self.bot.parts, team)

    def pipeline_token(self, team: str = "") -> str:
        """Workspace `team`'s pipeline token (what the Upload pipeline forms send)."""
        return self.workspaces.pipeline_token(team)

    # --- acting as the upload pipeline and as TikTok -----------------------------------

    async def announce(
        self, fields: dict[str, Any], user_id: str = "", team: str = ""
    ) -> tuple[int, Any]:
        """POST /notifications as workspace `team`'s pipeline would, after TikTok took the
        upload.

        The upload belongs to `open_id` if given, else to the brand account when a team
        account is named, else to the TikTok account of `user_id` (who acts on the page). It
        starts at TikTok in `tiktok_status` (default PROCESSING_DOWNLOAD: still cancellable).
        """
        assert self.session is not None
        token = self.pipeline_token(team)
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
            if k not in ("open_id", "user", "tiktok_status", "team") and v not in ("", None)
        }
        if isinstance(body.get("video"), dict):
            body["video"] = {k: v for k, v in body["video"].items() if v not in ("", None)}
            if not body["video"]:
                del body["video"]
        body.setdefault("channel", CHANNEL)
        return await self._post_pipeline("/notifications", body, token)

    async def as_pipeline(self, path: str, body: dict[str, Any], team: str = "") -> tuple[int, Any]:
        """POST `body` to the bot's `path` as workspace `team`'s upload pipeline would: with
        its pipeline token (the bot learns the workspace from it)."""
        return await self._post_pipeline(path, body, self.pipeline_token(team))

    async def _post_pipeline(self, path: str, body: dict[str, Any], token: str) -> tuple[int, Any]:
        assert self.session is not None
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

    async def hold(self, fields: dict[str, Any], team: str = "") -> dict[str, Any]:
        """POST /uploads as workspace `team`'s pipeline would: the bot holds the upload, then
        starts it.

        `fields` is the body the pipeline sends; `upload_key` (a fresh one), `account` (the
        team account brand) and `channel` (#launches) may be left out. The bot checks the
        rest and answers as it would the pipeline. A held upload needs a linked team account:
        the first hold with brand in a workspace links it there first, through the bot's own
        paths (`sandbox.linking`).
        """
        assert self.session is not None
        team_id = self.team(team)
        token = self.pipeline_token(team_id)
        body = {
            k: v for k, v in fields.items() if k not in ("user", "team") and v not in ("", None)
        }
        body.setdefault("upload_key", "sandbox-" + secrets.token_hex(4))
        body.setdefault("account", TEAM_ACCOUNT)
        body.setdefault("channel", CHANNEL)
        linked = ""
        if body["account"] == TEAM_ACCOUNT and await self.link_team_account(team_id):
            linked = TEAM_ACCOUNT
        status, answer = await self._post_pipeline("/uploads", body, token)
        return {"status": status, "body": answer, "linked": linked}

    async def link_team_account(self, team: str = "") -> bool:
        """Link Brand Social as the team account brand in workspace `team` and grant it to
        alex and sam, unless it is linked there; True when it linked it now."""
        assert self.bot is not None and self.bot.parts is not None
        return await self.linking.team_account(self.driver, self.bot.parts, self.team(team))

    async def link_person(self, user_id: str, team: str = "") -> None:
        """Link the person's own TikTok account as they would: `/tiktok-cancel connect`,
        TikTok's consent as their sandbox account, then "Link it" on the bot's confirm page.
        The bot's DM saying it is linked shows in their Messages (used by sandbox.screenshot)."""
        await self.linking.person(self.driver, self.person(user_id), self.team(team))

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


def _ack_answer(ack: str) -> dict[str, Any]:
    """What Slack shows of a command's ack body: its JSON message, or its text."""
    with contextlib.suppress(ValueError):
        body = json.loads(ack)
        if isinstance(body, dict):
            return body
    return {"text": ack}


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
