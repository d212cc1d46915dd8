"""Starts the fake Slack, the fake TikTok and the real bot on loopback ports.

`h` (a `Harness`) drives the bot the way Slack and a person would, through the one driver
(`sandbox.fakes.driver`): signed slash commands and button clicks over HTTP, the OAuth consent
round trip; and reads back what came back.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.pool import NullPool

from bot.app import Bot
from bot.settings import Settings
from sandbox.fakes import FakeSlack, FakeTikTok
from sandbox.fakes.driver import Driver, button_urls
from sandbox.fakes.driver import buttons as buttons  # the tests read these from here too
from sandbox.fakes.driver import confirm_form as confirm_form
from sandbox.fakes.driver import state_of as state_of
from storage.db import Store
from storage.db import database_url as url_for
from storage.schema import metadata

pytest.register_assert_rewrite("tests.pg")
pytest_plugins = ["tests.pg", "tests.sandbox_page"]
from tests import pg  # noqa: E402  (after the rewrite hook, as pytest_plugins wants)
from tests.fuzz import counting  # noqa: E402


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    terminalreporter.write_line(f"hypothesis cases run: {counting.CASES['run']}")


def pytest_sessionfinish(session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller prints the total
        counting.hand_over(workeroutput)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    counting.add_worker_count(getattr(node, "workeroutput", {}))


REDIRECT_URI = "https://bot.example.com/tiktok/oauth/callback"
ADMIN = "UADMIN"  # ADMIN_USERS in tests of admin-only commands
NOTIFY = "notify-secret-token"  # NOTIFY_TOKEN in tests that announce uploads
UPLOAD = "upload-secret-token"  # UPLOAD_TOKEN in tests that hold uploads (POST /uploads)


async def notify(h, body, token=NOTIFY, raw=None) -> tuple[int, dict]:
    """POST /notifications as the upload pipeline does (`raw` sends bytes as they are)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body)
    async with h.session.post(h.url + "/notifications", data=data, headers=headers) as resp:
        return resp.status, await resp.json()


class Harness:
    def __init__(
        self,
        slack: FakeSlack,
        tiktok: FakeTikTok,
        settings: Settings,
        session: aiohttp.ClientSession,
    ):
        self.slack = slack
        self.tiktok = tiktok
        self.settings = settings
        self.session = session
        self.bot: Bot | None = None

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self, **overrides) -> Bot:
        if overrides:
            self.settings = replace(self.settings, **overrides)
        self.bot = Bot(self.settings)
        await self.bot.start()
        return self.bot

    async def restart(self, **overrides) -> Bot:
        await self.stop()
        return await self.start(**overrides)

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None

    @property
    def url(self) -> str:
        assert self.bot is not None
        return f"http://127.0.0.1:{self.bot.port}"

    @property
    def driver(self) -> Driver:
        """A person in Slack and in a browser, against this bot as it runs now."""
        return Driver(
            self.session,
            self.slack,
            self.tiktok,
            self.url,
            signing_secret=self.settings.slack_signing_secret,
        )

    # --- Slack requests --------------------------------------------------------------
    async def post_slack(
        self, body: str, *, timestamp: int | None = None, extra_headers: dict | None = None
    ) -> tuple[int, str]:
        return await self.driver.post_slack(body, timestamp=timestamp, headers=extra_headers)

    async def command(self, text: str, *, user_id: str = "U1", wait: bool = True) -> dict:
        """Type `/tiktok-cancel <text>`; returns the ephemeral answer."""
        if wait:
            return await self.driver.command(text, user_id=user_id)
        sent = await self.driver.send_command(text, user_id=user_id)
        return {"response_url": Driver.acked(sent, text)}

    async def click(self, action_id: str, value: str, *, user_id: str = "U1") -> dict:
        return await self.driver.click(action_id, value, user_id=user_id)

    # --- linking ---------------------------------------------------------------------
    async def connect_url(self, user_id: str = "U1") -> str:
        answer = await self.command("connect", user_id=user_id)
        return button_urls(answer)[0]

    async def callback(self, params: dict[str, str]) -> tuple[int, str]:
        """The browser's visit to the OAuth callback: the confirm page (nothing linked yet)."""
        return await self.driver.callback(params)

    async def confirm(self, page: str, choice: str = "link") -> tuple[int, str]:
        """Press "Link it" (or "Don't link") on the confirm page: POST its form back."""
        return await self.driver.confirm(page, choice)

    async def consent(self, params: dict[str, str], choice: str = "link") -> tuple[int, str]:
        """The callback, then the confirm page's button: what linking a person does."""
        return await self.driver.consent(params, choice)

    async def link(
        self, user_id: str = "U1", open_id: str = "open-1", display_name: str = "Brand Social"
    ) -> str:
        """Link `user_id` to a TikTok account through the real consent round trip."""
        return await self.driver.link(user_id, open_id, display_name)

    # --- reading back ----------------------------------------------------------------
    def audit_rows(self) -> list[dict]:
        return db_rows(self, "SELECT * FROM audit ORDER BY id")

    def last_audit(self) -> dict:
        return self.audit_rows()[-1]

    # --- team accounts ---------------------------------------------------------------
    async def link_team(
        self,
        account: str = "brand",
        admin: str = "UADMIN",
        open_id: str = "open-brand",
        display_name: str = "Brand Social",
    ) -> str:
        """As `admin`, link a TikTok account as the team account `account` (real round trip).

        `admin` must be an admin to the bot: in ADMIN_USERS (restart with `admin_users=`) or
        a workspace admin/owner on the fake Slack (`slack.set_user(..., is_admin=True)`).
        """
        return await self.driver.link(
            admin, open_id, display_name, command=f"team connect {account}"
        )


# --- reading the bot's database the way an operator would ---------------------------------


def _bind(sql: str, params) -> tuple[str, dict]:
    """`?` placeholders as SQLAlchemy's named ones."""
    values = list(params)
    counter = iter(range(len(values)))
    named = re.sub(r"\?", lambda _: f":p{next(counter)}", sql)
    return named, {f"p{i}": v for i, v in enumerate(values)}


def _engine(h) -> sa.Engine:
    return sa.create_engine(h.settings.store_url, poolclass=NullPool)


def db_rows(h, sql: str, *params) -> list[dict]:
    """Rows of a query (`?` placeholders) on the bot's database, SQLite or PostgreSQL."""
    named, values = _bind(sql, params)
    engine = _engine(h)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(named), values).mappings()]
    finally:
        engine.dispose()


def db_execute(h, sql: str, *params) -> None:
    named, values = _bind(sql, params)
    engine = _engine(h)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(named), values)
    finally:
        engine.dispose()


def db_bytes(h) -> bytes:
    """What the database holds, as bytes to search: the SQLite file and its WAL (and
    shared-memory index) as they are on disk now; on PostgreSQL, every row of every table."""
    if h.settings.database_url:
        dump = [repr(db_rows(h, f"SELECT * FROM {name}")) for name in metadata.tables]
        return "\n".join(dump).encode()
    base = Path(h.settings.database_path)
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(str(base) + suffix)
        if path.exists():
            data += path.read_bytes()
    return data


def text_of(message: dict) -> str:
    """Everything a person can read in a message: text, sections, contexts, button labels."""
    parts = [message.get("text", "")]
    for block in message.get("blocks", []):
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), dict):
                parts.append(element["text"]["text"])
            elif isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


@pytest.fixture
async def slack():
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def tiktok():
    fake = FakeTikTok()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(request, tmp_path, slack, tiktok) -> Settings:
    return Settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=slack.signing_secret,
        slack_api_url=slack.api_url,
        tiktok_client_key=tiktok.client_key,
        tiktok_client_secret=tiktok.client_secret,
        tiktok_redirect_uri=REDIRECT_URI,
        tiktok_api_url=tiktok.url,
        token_encryption_key=Fernet.generate_key().decode(),
        database_path=str(tmp_path / "data" / "bot.sqlite3"),
        database_url=pg.database_url_for_test(request),  # "" = SQLite, unless TEST_DATABASE_URL
        host="127.0.0.1",
        port=0,
        tiktok_request_timeout=1.0,
        cancel_deadline=4.0,
        retry_base_delay=0.05,
    )


@pytest.fixture
async def hn(h):
    """The bot with NOTIFY_TOKEN set: POST /notifications works."""
    await h.restart(notify_token=NOTIFY)
    return h


@pytest.fixture
async def h(slack, tiktok, settings):
    async with aiohttp.ClientSession() as session:
        harness = Harness(slack, tiktok, settings, session)
        await harness.start()
        yield harness
        await harness.stop()


@pytest.fixture
async def hp(postgres_url, h):
    """The bot on a fresh PostgreSQL schema, whatever the suite's default database. The schema
    comes first, so the bot stops before its schema is dropped (the drop blocks the event
    loop, and a transaction the bot began on that loop would hold its tables until then)."""
    await h.restart(database_url=postgres_url, admin_users=frozenset({ADMIN}), notify_token=NOTIFY)
    return h


@pytest.fixture
async def store_replicas(tmp_path, database_url):
    """Two replicas' stores on one database (this test's SQLite file or PostgreSQL schema)."""
    stores = [Store(url_for(database_url, path=str(tmp_path / "bot.sqlite3"))) for _ in range(2)]
    for s in stores:
        await s.open()
    yield stores
    for s in stores:
        s.close()
