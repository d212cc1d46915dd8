"""The fuzz suite's bot: the real bot and the Slack and TikTok stand-ins on loopback, one per
test module, on an event loop in a background thread so hypothesis can drive it from plain
(synchronous) tests, one generated case after another, over real HTTP.

Profiles: `HYPOTHESIS_PROFILE=ci` (the default, about a minute) or `deep` (ten times the cases).
Every case run is counted; the total is printed at the end as "hypothesis cases run: N".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import aiohttp
import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, settings

from bot.settings import Settings
from sandbox.fakes import FakeSlack, FakeTikTok
from tests.conftest import NOTIFY, REDIRECT_URI, UPLOAD, Harness
from tests.fuzz.blockkit import problems_in
from tests.pg import database_url_for_test

T = TypeVar("T")
SCALE = {"ci": 1, "deep": 10}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
for name in SCALE:
    settings.register_profile(
        name,
        deadline=None,
        database=None,  # nothing written to the working tree; failures print a blob instead
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=name == "ci",  # CI is repeatable; `deep` explores anew each run
    )
settings.load_profile(PROFILE if PROFILE in SCALE else "ci")

ADMIN = "UADMIN"
LINKED = "U1"  # linked to the TikTok account that owns the seeded uploads
UNLINKED = "U2"
SEEDED = [f"v_pub_url~v2.{n}" for n in range(900001, 900006)]  # announced, cancellable
SEEDED_HELD = [f"held-{n}" for n in range(1, 4)]  # held uploads (POST /uploads), a day's window


def examples(n: int) -> int:
    """`n` cases in the ci profile, more in deeper ones."""
    return n * SCALE.get(PROFILE, 1)


class LiveBot:
    """`Harness` (tests/conftest.py) running on its own loop; `call()` runs a coroutine there."""

    def __init__(self, tmp_path, database_url: str = "") -> None:
        self.tmp_path = tmp_path
        self.database_url = database_url  # "" = SQLite in tmp_path
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.h: Harness | None = None
        self._checked_calls = 0
        self._checked_responses: dict[str, int] = {}

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> Harness:
        self.thread.start()
        self.h = self.call(self._start())
        return self.h

    def settings_for(self, slack: FakeSlack, tiktok: FakeTikTok, **overrides: Any) -> Settings:
        """The bot's settings against these stand-ins: quick time budgets, its own database."""
        values: dict[str, Any] = {
            "slack_bot_token": slack.bot_token,
            "slack_signing_secret": slack.signing_secret,
            "slack_api_url": slack.api_url,
            "tiktok_client_key": tiktok.client_key,
            "tiktok_client_secret": tiktok.client_secret,
            "tiktok_redirect_uri": REDIRECT_URI,
            "tiktok_api_url": tiktok.url,
            "token_encryption_key": Fernet.generate_key().decode(),
            "database_path": str(self.tmp_path / "data" / "bot.sqlite3"),
            "database_url": self.database_url,
            "host": "127.0.0.1",
            "port": 0,
            "tiktok_request_timeout": 1.0,
            "cancel_deadline": 3.0,
            "retry_base_delay": 0.01,
        }
        return Settings(**{**values, **overrides})

    async def _start(self) -> Harness:
        slack, tiktok = FakeSlack(), FakeTikTok()
        await slack.start()
        await tiktok.start()
        settings_ = self.settings_for(
            slack,
            tiktok,
            notify_token=NOTIFY,
            upload_token=UPLOAD,
            admin_users=frozenset({ADMIN}),
            audit_channel="CAUDIT",
        )
        session = aiohttp.ClientSession()
        h = Harness(slack, tiktok, settings_, session)
        await h.start()
        await h.link(LINKED, open_id="open-1", display_name="Brand Social")
        await h.link_team("brand", admin=ADMIN, open_id="open-brand")
        await h.command(f"team grant brand <@{LINKED}|alice>", user_id=ADMIN)
        slack.set_channel("GPRIVATE", private=True, members=[LINKED])
        for n, publish_id in enumerate(SEEDED):
            tiktok.add_upload(publish_id, open_id="open-1")
            body = {"publish_id": publish_id, "channel": "GPRIVATE" if n % 2 else "C1"}
            async with session.post(
                h.url + "/notifications",
                json={**body, "title": f"Seeded {n}", "account": "brand" if n == 4 else ""},
                headers={"Authorization": f"Bearer {NOTIFY}"},
            ) as resp:
                assert resp.status == 201, await resp.text()
        for n, key in enumerate(SEEDED_HELD):
            body = {
                "upload_key": key,
                "channel": "GPRIVATE" if n % 2 else "C1",
                "account": "brand",
                "source_url": "https://cdn.example.com/held.mp4",
                "hold_s": 86400,
                "post": {"title": f"Held {n} & <b>", "privacy_level": "SELF_ONLY"},
            }
            async with session.post(
                h.url + "/uploads", json=body, headers={"Authorization": f"Bearer {UPLOAD}"}
            ) as resp:
                assert resp.status == 202, await resp.text()
        return h

    def stop(self) -> None:
        if self.h is not None:
            with contextlib.suppress(Exception):
                self.call(self._stop(self.h), timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @staticmethod
    async def _stop(h: Harness) -> None:
        await h.stop()
        await h.session.close()
        await h.slack.stop()
        await h.tiktok.stop()

    # --- what the bot sent to Slack ----------------------------------------------------------

    def new_problems(self) -> list[str]:
        """Problems in every Slack message the bot sent since the last look: responses, posts,
        updates, ephemerals, views (Block Kit per slack_sdk's models, no traceback)."""
        return self.call(self._new_problems())

    async def _new_problems(self) -> list[str]:
        assert self.h is not None
        slack = self.h.slack
        found: list[str] = []
        calls = slack.calls[self._checked_calls :]
        self._checked_calls += len(calls)
        for call in calls:
            found += problems_in(call.method, call.params)
        for url, bodies in list(slack.responses.items()):
            seen = self._checked_responses.get(url, 0)
            for body in bodies[seen:]:
                found += problems_in("response_url", body)
            self._checked_responses[url] = len(bodies)
        return found

    def relink(self) -> None:
        """Link LINKED again (after a generated `disconnect`), so cancels keep reaching TikTok."""
        assert self.h is not None
        self.call(self.h.link(LINKED, open_id="open-1"))

    def settle(self, seconds: float = 0.05) -> None:
        """Give work the bot does after answering (thread posts, updates) a moment to land."""
        self.call(asyncio.sleep(seconds))


@pytest.fixture(scope="module")
def live(request, tmp_path_factory):
    """The module's bot, on SQLite or, with TEST_DATABASE_URL set, a fresh PostgreSQL schema."""
    bot = LiveBot(tmp_path_factory.mktemp("fuzz"), database_url_for_test(request))
    bot.start()
    assert bot.new_problems() == []  # the setup's own messages are valid
    yield bot
    bot.stop()
