"""The real bot as a child process (`python -m bot`, HTTP mode) against the fakes.

`BotProcess` starts it with an environment built from scratch (settings pointing at the
`FakeSlack` and `FakeTikTok` running in the test process, a free loopback port, the SQLite
file in `tmp_path` — or a fresh PostgreSQL schema when TEST_DATABASE_URL is set, or
`DATABASE_URL=<PostgreSQL URL>` as an override —, `LOG_LEVEL=DEBUG`),
drives it over loopback as Slack and a person would (through `sandbox.fakes.driver`), and
reads back what it left (audit rows, read through SQLAlchemy from whichever database it
uses; its stderr log). It can be stopped with any signal and started again on the same
database. `replica()` makes a second
process with the same settings and database (its own port and log), for replica tests; both
talk to the same fakes. Every wait is bounded, and teardown SIGKILLs a process that is
still running.

The bot's TikTok budgets are `Settings` defaults (5 s per request, 12 s per cancel), which
no environment variable changes: the tests here run with the budgets a person would get.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.pool import NullPool

from sandbox.fakes import FakeSlack, FakeTikTok
from sandbox.fakes.driver import Driver
from sandbox.fakes.ports import free_port
from tests.conftest import REDIRECT_URI
from tests.pg import database_url_for_test, sqlalchemy_url

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 20.0
ANSWER_TIMEOUT_S = 20.0
AUDIT_CHANNEL = "CAUDIT"
ADMIN = "UADMIN"


async def wait_until(
    ready: Callable[[], bool], timeout: float, describe: Callable[[], str] | str
) -> None:
    """Poll `ready()` every 20 ms until it holds; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            what = describe() if callable(describe) else describe
            raise AssertionError(f"timed out after {timeout}s: {what}")
        await asyncio.sleep(0.02)


class BotProcess:
    """`python -m bot` in a child process, with helpers to talk to it and read what it kept."""

    def __init__(
        self,
        slack: FakeSlack,
        tiktok: FakeTikTok,
        workdir: Path,
        session: aiohttp.ClientSession,
        **overrides: str,
    ):
        self.slack = slack
        self.tiktok = tiktok
        self.workdir = workdir
        self.session = session
        self.db_path = workdir / "data" / "bot.sqlite3"
        self.log_path = workdir / "bot-stderr.log"  # every start appends: a whole run's log
        self.stdout_path = workdir / "bot-stdout.log"
        self.env = self._environment(overrides)
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self._reader: sa.Engine | None = None

    def replica(self, workdir: Path) -> BotProcess:
        """Another process with this one's settings (keys, tokens, database), its own port,
        home and log: a second replica of the same deployment. Not started."""
        shared = {k: v for k, v in self.env.items() if k not in ("PORT", "HOME")}
        return BotProcess(self.slack, self.tiktok, workdir, self.session, **shared)

    @property
    def database_url(self) -> str:
        """The PostgreSQL URL it runs on (libpq form), "" when it uses the SQLite file."""
        return self.env.get("DATABASE_URL", "")

    def _environment(self, overrides: dict[str, str]) -> dict[str, str]:
        env = {
            # only what a Python process needs to run; nothing inherited from the test run
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.workdir),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            # the bot's settings
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": self.slack.signing_secret,
            "SLACK_API_URL": self.slack.api_url,
            "TIKTOK_CLIENT_KEY": self.tiktok.client_key,
            "TIKTOK_CLIENT_SECRET": self.tiktok.client_secret,
            "TIKTOK_API_URL": self.tiktok.url,
            "TIKTOK_REDIRECT_URI": REDIRECT_URI,
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "DATABASE_PATH": str(self.db_path),
            "NOTIFY_TOKEN": "notify-" + os.urandom(12).hex(),
            "UPLOAD_TOKEN": "upload-" + os.urandom(12).hex(),
            "AUDIT_CHANNEL": AUDIT_CHANNEL,
            "ADMIN_USERS": ADMIN,
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "LOG_LEVEL": "DEBUG",
        }
        env.update(overrides)
        return env

    # --- lifecycle ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['PORT']}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, **overrides: str) -> None:
        """Start the process (a new port each time) and wait until /healthz answers."""
        assert not self.running, "already running"
        self.env.update(overrides)
        if "PORT" not in overrides:
            self.env["PORT"] = str(free_port())
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as err, open(self.stdout_path, "ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=self.workdir,  # no stray .env from the repository is read
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        self.starts += 1
        await self.wait_healthy()

    async def wait_healthy(self, timeout: float = START_TIMEOUT_S) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.returncode is not None:
                raise AssertionError(
                    f"the bot exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self.session.get(
                    self.url + "/healthz", timeout=aiohttp.ClientTimeout(total=2)
                ) as resp:
                    if resp.status == 200:
                        return
            if time.monotonic() > deadline:
                raise AssertionError(f"/healthz never answered:\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send `sig` and wait for the exit; returns the exit status (-9 after SIGKILL)."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await asyncio.wait_for(self.proc.wait(), 10)
            raise AssertionError(f"no exit {timeout}s after signal {sig}") from None

    async def kill(self) -> int:
        return await self.stop(signal.SIGKILL)

    async def restart(self, **overrides: str) -> None:
        if self.running:
            assert await self.stop() == 0
        await self.start(**overrides)

    async def close(self) -> None:
        """Teardown: SIGKILL whatever still runs; close the reading engine."""
        if self.running:
            assert self.proc is not None
            self.proc.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 10)
        if self._reader is not None:
            self._reader.dispose()
            self._reader = None

    # --- Slack's side and the browser's, through the one driver -------------------------
    @property
    def driver(self) -> Driver:
        """A person in Slack and in a browser, against this process as it runs now."""
        return Driver(
            self.session,
            self.slack,
            self.tiktok,
            self.url,
            signing_secret=self.env["SLACK_SIGNING_SECRET"],
            answer_timeout=ANSWER_TIMEOUT_S,
        )

    async def post_slack(
        self, body: str, *, timestamp: int | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """POST `body` to /slack/events, signed with the signing secret as Slack would."""
        return await self.driver.post_slack(body, timestamp=timestamp, headers=headers)

    async def send_command(self, text: str, *, user_id: str = "U1") -> str:
        """Type `/tiktok-cancel <text>`; returns its response_url once the bot has acked."""
        sent = await self.driver.send_command(text, user_id=user_id)
        return Driver.acked(sent, f"/tiktok-cancel {text}")

    async def answer(
        self, response_url: str, count: int = 1, timeout: float = ANSWER_TIMEOUT_S
    ) -> dict:
        """The `count`-th body posted to `response_url` (waiting for it)."""
        return await self.driver.answer(response_url, count, timeout)

    async def command(
        self, text: str, *, user_id: str = "U1", timeout: float = ANSWER_TIMEOUT_S
    ) -> dict:
        """Type `/tiktok-cancel <text>` and return the ephemeral answer."""
        return await self.answer(await self.send_command(text, user_id=user_id), timeout=timeout)

    async def send_click(self, action_id: str, value: str, *, user_id: str = "U1") -> str:
        """Press a button; returns its response_url once the bot has acked."""
        sent = await self.driver.send_click(action_id, value, user_id=user_id)
        return Driver.acked(sent, f"a click on {action_id}")

    async def click(self, action_id: str, value: str, *, user_id: str = "U1") -> dict:
        return await self.answer(await self.send_click(action_id, value, user_id=user_id))

    def posts_to(self, channel: str) -> list:
        """chat.postMessage calls the bot made to `channel` (failed ones included)."""
        return [
            c for c in self.slack.calls_to("chat.postMessage") if c.params.get("channel") == channel
        ]

    async def link(
        self, user_id: str = "U1", open_id: str = "open-1", display_name: str = "Brand Social"
    ) -> str:
        """Link `user_id` through the real consent round trip; waits for the "linked" DM."""
        dms_before = len(self.posts_to(user_id))
        page = await self.driver.link(user_id, open_id, display_name)
        await wait_until(
            lambda: len(self.posts_to(user_id)) > dms_before, 10, f"no linked DM to {user_id}"
        )
        return page

    async def callback(self, params: dict[str, str]) -> tuple[int, str]:
        return await self.driver.callback(params)

    async def confirm(self, page: str, choice: str = "link") -> tuple[int, str]:
        """Press a button on the confirm page the callback showed: POST its form back."""
        return await self.driver.confirm(page, choice)

    async def consent(self, params: dict[str, str]) -> tuple[int, str]:
        """The callback, then "Link it" on its confirm page."""
        return await self.driver.consent(params)

    # --- reading back ------------------------------------------------------------------
    def _engine(self) -> sa.Engine:
        # No pool: nothing stays open between reads (the SQLite file, or a PostgreSQL schema
        # that is dropped when the test ends).
        if self._reader is None:
            if self.database_url:
                url = sqlalchemy_url(self.database_url)
                self._reader = sa.create_engine(url, poolclass=NullPool)
            else:
                self._reader = sa.create_engine(
                    f"sqlite:///{self.db_path}", poolclass=NullPool, connect_args={"timeout": 10}
                )
        return self._reader

    def rows(self, sql: str, *params) -> list[dict]:
        """Rows of one SELECT (`?` placeholders, as in sqlite3), on whichever database."""
        names = iter(range(len(params)))
        text = re.sub(r"\?", lambda _: f":p{next(names)}", sql)
        with self._engine().connect() as conn:
            result = conn.execute(sa.text(text), {f"p{i}": v for i, v in enumerate(params)})
            return [dict(r._mapping) for r in result]

    def cancel_rows(self, publish_id: str | None = None) -> list[dict]:
        rows = self.rows("SELECT * FROM audit WHERE action = 'cancel' ORDER BY id")
        return [r for r in rows if publish_id is None or r["publish_id"] == publish_id]

    async def wait_for_rows(self, publish_id: str, count: int, timeout: float = 10) -> list[dict]:
        """Cancel rows for `publish_id` once `count` of them are finished."""
        await wait_until(
            lambda: (
                len([r for r in self.cancel_rows(publish_id) if r["state"] == "finished"]) >= count
            ),
            timeout,
            lambda: f"rows for {publish_id}: {self.cancel_rows(publish_id)}",
        )
        return self.cancel_rows(publish_id)

    def passes_begun_after(self, name: str, moment: float) -> int:
        """Passes of a background loop (`poller.pass`, `held.scheduler_pass`) this process
        logged as finished that began at or after `moment` (epoch seconds)."""
        pattern = re.compile(rf"{re.escape(name)} .*?began_at=([0-9.]+)")
        return sum(1 for m in pattern.finditer(self.log_text()) if float(m.group(1)) >= moment)

    async def wait_for_pass(self, name: str, moment: float, timeout: float = 20) -> None:
        """Until a whole pass of `name` begun at or after `moment` has finished here: what
        that loop would do about anything due by then is done (needs LOG_LEVEL=DEBUG)."""
        await wait_until(
            lambda: self.passes_begun_after(name, moment) > 0,
            timeout,
            lambda: f"no {name} begun after {moment} in:\n{self.log_tail(10)}",
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def make_bot(request, slack, tiktok, tmp_path, session):
    """`await make_bot(**env)`: a started `BotProcess`; each is SIGKILLed in teardown. Each
    gets its own database: a SQLite file in its directory, or with TEST_DATABASE_URL set, a
    fresh schema there (as every other test), unless `DATABASE_URL` is given."""
    made: list[BotProcess] = []

    async def make(**overrides: str) -> BotProcess:
        if "DATABASE_URL" not in overrides:
            database_url = database_url_for_test(request)  # "" = SQLite
            if database_url:
                overrides["DATABASE_URL"] = database_url
        process = BotProcess(slack, tiktok, tmp_path / f"bot{len(made)}", session, **overrides)
        made.append(process)
        await process.start()
        return process

    yield make
    for process in made:
        await process.close()


@pytest.fixture
async def bot(make_bot) -> BotProcess:
    return await make_bot()
