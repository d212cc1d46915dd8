"""The benchmark's course: `Bench` starts the fakes and the baseline, then for each database
starts the bot (one process, or two replicas), links its users, and measures the baseline
and the bot level by level (commands), then the Cancel button and `POST /notifications`;
what it measured with one database is a `DatabaseRun`."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.fernet import Fernet

from bench.children import Child, process_cpu_seconds, start_child
from bench.cpus import Placement, affinity_of
from bench.generator import (
    REPLY_TIMEOUT_S,
    Load,
    Target,
    baseline_success,
    bot_success,
    run_pool,
)
from bench.options import DATABASE_TITLES, DATABASES, Options
from bench.postgres import backend_pids, masked
from bench.postgres import fresh_schema as postgres_schema
from bench.postgres import problem as postgres_problem
from bench.postgres import server_url as postgres_server_url
from bench.results import Result, SetupError
from sandbox.fakes import FakeSlack, FakeTikTok

BENCH = Path(__file__).resolve().parent
REDIRECT_URI = "https://bot.example.com/tiktok/oauth/callback"
BASELINE_OPEN_ID = "open-baseline"


@dataclass
class DatabaseRun:
    """Everything measured with one database: the baseline and the bot at each level."""

    database: str
    processes: int
    runs: dict[tuple[int, str], Result] = field(default_factory=dict)
    button: Result | None = None
    notify: Result | None = None
    bot_memory: list[dict[str, int]] = field(default_factory=list)  # one per bot process
    baseline_memory: dict[str, int] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return DATABASE_TITLES[self.database]


@dataclass
class Backends:
    """The PostgreSQL server processes serving the bot, found by application_name."""

    server: str
    application_name: str

    async def cpu_seconds(self) -> dict[int, float]:
        pids = await asyncio.to_thread(backend_pids, self.server, self.application_name)
        return {pid: process_cpu_seconds(pid) for pid in pids}


class Bench:
    def __init__(self, options: Options, workdir: Path):
        self.o = options
        self.workdir = workdir
        self.slack = FakeSlack()
        self.tiktok = FakeTikTok()
        self.notify_token = "bench-notify-" + secrets.token_urlsafe(24)
        self.users = [(f"UBENCH{i:04d}", f"open-bench-{i}") for i in range(options.users)]
        self.open_id_of = dict(self.users)
        self.children: list[Child] = []
        self.databases: list[str] = list(options.databases or ["sqlite"])
        self.postgres_server = postgres_server_url(options.postgres_url)
        self.results: list[DatabaseRun] = []
        self.notes: list[str] = []
        self._bot_settings: dict[str, Any] = {}
        self.placement = Placement(options.cpu_mode)  # SetupError: pinned on one core

    async def choose_databases(self) -> None:
        """The databases asked for; by default all three when PostgreSQL answers."""
        wants_postgres = self.o.databases is None or any(
            d in ("postgres", "replicas") for d in self.o.databases
        )
        if not wants_postgres:
            return
        problem = await asyncio.to_thread(postgres_problem, self.postgres_server)
        if problem is None:
            if self.o.databases is None:
                self.databases = list(DATABASES)
            return
        where = f"PostgreSQL at {masked(self.postgres_server)} does not answer ({problem})"
        if self.o.databases is not None:
            raise SetupError(f"{where}; start one with .ci/postgres.sh, or pass --databases sqlite")
        self.notes.append(f"SQLite only: {where}; .ci/postgres.sh starts one")
        print(f"note: {self.notes[-1]}", flush=True)

    async def start_baseline(self) -> Target:
        slack, tiktok = self.slack, self.tiktok
        tiktok.add_user(BASELINE_OPEN_ID, "Bench baseline")
        config = {
            "slack_bot_token": slack.bot_token,
            "slack_signing_secret": slack.signing_secret,
            "slack_api_url": slack.api_url,
            "tiktok_api_url": tiktok.url,
            "tiktok_token": tiktok.issue_token(BASELINE_OPEN_ID).access_token,
        }
        baseline = await start_child(
            "baseline",
            BENCH / "baseline_app.py",
            config,
            self.workdir,
            self.child_life(),
            "--loop",
            self.o.baseline_loop,
            placement=self.placement,
        )
        self.children.append(baseline)
        self.check_placement(baseline)
        return Target("baseline", [baseline], lambda _user: BASELINE_OPEN_ID, baseline_success)

    def child_life(self) -> float:
        return self.o.max_seconds + 60

    def bot_settings(self, database: str, database_url: str) -> dict[str, Any]:
        slack, tiktok = self.slack, self.tiktok
        if not self._bot_settings:  # one encryption key for the whole run
            self._bot_settings = {
                "slack_bot_token": slack.bot_token,
                "slack_signing_secret": slack.signing_secret,
                "slack_api_url": slack.api_url,
                "tiktok_client_key": tiktok.client_key,
                "tiktok_client_secret": tiktok.client_secret,
                "tiktok_redirect_uri": REDIRECT_URI,
                "tiktok_api_url": tiktok.url,
                "token_encryption_key": Fernet.generate_key().decode(),
                "notify_token": self.notify_token,
                "host": "127.0.0.1",
                "port": 0,
                "log_level": "WARNING",
            }
        settings = {
            **self._bot_settings,
            "database_path": str(self.workdir / database / "bot.sqlite3"),
        }
        if database_url:  # only then: the SQLite run also works on code before DATABASE_URL
            settings["database_url"] = database_url
        return settings

    def profile_path(self, database: str, index: int) -> str | None:
        if not self.o.profile:
            return None
        if len(self.databases) == 1 and database != "replicas":
            return self.o.profile
        return f"{self.o.profile}.{database}{index}"

    async def start_bots(self, database: str, database_url: str, count: int) -> list[Child]:
        """`count` bot processes on one database, started one after the other."""
        children = []
        for index in range(count):
            name = f"bot-{database}" + (f"-{index + 1}" if count > 1 else "")
            config = {
                "settings": self.bot_settings(database, database_url),
                "profile": self.profile_path(database, index),
            }
            child = await start_child(
                name,
                BENCH / "bot_server.py",
                config,
                self.workdir,
                self.child_life(),
                placement=self.placement,
            )
            self.children.append(child)
            self.check_placement(child)
            children.append(child)
        return children

    def check_placement(self, child: Child) -> None:
        """Pinned: the child's threads run on the servers' cores only."""
        if not self.placement.pinned:
            return
        cores = affinity_of(child.proc.pid)
        if not cores <= self.placement.server_cores:
            raise SetupError(f"{child.name} could not be pinned: it may run on {sorted(cores)}")

    async def run(self) -> None:
        self.placement.pin_this_process()  # first: every thread started later inherits it
        print(self.placement.describe(), flush=True)
        await self.choose_databases()
        await self.slack.start()
        await self.tiktok.start()
        self.tiktok.cancel_latency_s = self.o.latency_ms / 1000
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=REPLY_TIMEOUT_S + 10)
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                load = Load(self.slack, self.tiktok, session)
                baseline = await self.start_baseline()
                print(f"baseline: {baseline.describe()}", flush=True)
                await load.refuses_bad_signature(baseline)
                await self.commands(load, baseline, "warm", self.o.warmup, 10, None)
                for database in self.databases:
                    await self.run_database(load, baseline, database)
        finally:
            for child in self.children:
                await child.stop()
            await self.slack.stop()
            await self.tiktok.stop()

    async def run_database(self, load: Load, baseline: Target, database: str) -> None:
        if database == "sqlite":
            await self.measure_database(load, baseline, database, "", None)
            return
        with postgres_schema(self.postgres_server) as (url, application_name):
            backends = Backends(self.postgres_server, application_name)
            await self.measure_database(load, baseline, database, url, backends)

    async def measure_database(
        self, load: Load, baseline: Target, database: str, url: str, backends: Backends | None
    ) -> None:
        o = self.o
        count = 2 if database == "replicas" else 1
        print(f"\n{DATABASE_TITLES[database]}: starting ...", flush=True)
        children = await self.start_bots(database, url, count)
        bot = Target(database, children, self.open_id_of.__getitem__, bot_success)
        run = DatabaseRun(database, count)
        self.results.append(run)
        print(f"bot: {bot.describe()}", flush=True)
        try:
            print(f"linking {o.users} Slack users through the OAuth callback ...", flush=True)
            await run_pool(10, self.users, lambda u: load.link(bot, *u))
            await load.refuses_bad_signature(bot)
            await self.commands(load, baseline, f"warm-{database}", o.warmup, 10, None)
            await self.commands(load, bot, "warm", o.warmup, 10, None)
            for level in o.concurrency:
                for target in (baseline, bot):
                    result = Result()
                    print(f"concurrency {level}: {target.name} ...", flush=True)
                    tag = f"c{level}" + (f"-{database}" if target is baseline else "")
                    await self.commands(
                        load,
                        target,
                        tag,
                        o.commands,
                        level,
                        result,
                        backends if target is bot else None,
                    )
                    run.runs[level, "baseline" if target is baseline else "bot"] = result
            if o.clicks:
                print(f"button path: {o.clicks} clicks ...", flush=True)
                run.button = await self.clicks(load, bot)
            if o.notifications:
                print(f"POST /notifications: {o.notifications} requests ...", flush=True)
                run.notify = await self.notifications(load, bot)
            run.bot_memory = [child.memory_kb() for child in children]
            run.baseline_memory = baseline.children[0].memory_kb()
        finally:
            for child in children:
                await child.stop()
                tail = child.log_tail()
                if tail:
                    print(f"{child.name} stderr (last lines):\n{tail}")
                self.children.remove(child)
            run.profiles = [p for i in range(count) if (p := self.profile_path(database, i))]

    async def commands(
        self,
        load: Load,
        target: Target,
        tag: str,
        count: int,
        level: int,
        result: Result | None,
        backends: Backends | None = None,
    ) -> None:
        jobs = []
        for i in range(count):
            user_id, _ = self.users[i % len(self.users)]
            publish_id = f"v_pub_url~v2.{target.name}.{tag}.{i}"
            self.tiktok.add_upload(publish_id, open_id=target.owner_of(user_id))
            jobs.append((user_id, publish_id))
        calls_before = len(self.tiktok.calls)
        db_before = await backends.cpu_seconds() if backends and result else {}
        cpu_before, parent_before = target.cpu_seconds(), time.process_time()
        elapsed = await run_pool(
            min(level, count),
            jobs,
            lambda j: load.command(target, *j, result),
            self.o.latency_ms / 1000,
            self.o.jitter_ms / 1000,
        )
        parent_cpu = time.process_time() - parent_before
        drain = await target.settle()  # background work the commands left behind
        server_cpu = target.cpu_seconds() - cpu_before
        cancels = sum(1 for c in self.tiktok.calls[calls_before:] if c.name == "cancel")
        if cancels != count:
            print(f"  note: {cancels} TikTok cancel calls for {count} commands")
        if result is not None:
            result.sent, result.elapsed = count, elapsed
            result.server_cpu, result.parent_cpu = server_cpu, parent_cpu
            result.drain = drain
            if backends is not None:
                db_after = await backends.cpu_seconds()
                result.db_cpu = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())

    async def clicks(self, load: Load, bot: Target) -> Result:
        """Announcements through one process, the clicks alternate between the processes."""
        channel = "CBUTTONS"
        announced: list[tuple[str, str, str]] = []

        async def announce(i: int) -> None:
            user_id, open_id = self.users[i % len(self.users)]
            publish_id = f"v_pub_url~v2.button.{bot.name}.{i}"
            self.tiktok.add_upload(publish_id, open_id=open_id)
            status, body = await load.notify(bot.next_url(), self.notify_token, publish_id, channel)
            if status != 201:
                raise SetupError(f"announcing {publish_id}: HTTP {status} {body}")
            announced.append((user_id, publish_id, str(body["ts"])))

        await run_pool(10, range(self.o.clicks), announce)
        await bot.settle()
        result = Result(sent=len(announced))
        result.elapsed = await run_pool(
            self.o.click_concurrency,
            announced,
            lambda a: load.click(bot, a[0], a[1], channel, a[2], result),
            self.o.latency_ms / 1000,
            self.o.jitter_ms / 1000,
        )
        return result

    async def notifications(self, load: Load, bot: Target) -> Result:
        result = Result(sent=self.o.notifications)
        await bot.settle()

        async def one(i: int) -> None:
            started = time.monotonic()
            try:
                status, _ = await load.notify(
                    bot.next_url(),
                    self.notify_token,
                    f"v_pub_url~v2.notify.{bot.name}.{i}",
                    "CNOTIFY",
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                result.fail(f"request error {type(exc).__name__}")
                return
            if status != 201:
                result.fail(f"HTTP {status}")
                return
            result.ack.append(time.monotonic() - started)

        result.elapsed = await run_pool(self.o.notify_concurrency, range(result.sent), one)
        return result
