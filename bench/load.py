"""Load benchmark: the real bot against a bare Bolt baseline, on loopback, with the fakes.

    python bench/load.py            # 2000 commands per run at concurrency 10, 50, 100
    python bench/load.py --quick    # 200 commands per run at concurrency 10, 50
    python bench/load.py --databases sqlite,postgres,replicas   # the default with PostgreSQL

This process runs the fake Slack and the fake TikTok (cancel answers after --latency-ms) and
the load generator. The bot (bench/bot_server.py) and the baseline (bench/baseline_app.py)
each run in their own subprocess, so neither shares an event loop with the load generator
or the fakes. The bot runs once per database: on SQLite, on PostgreSQL (a fresh schema,
dropped afterwards), and as two replicas on PostgreSQL with the requests alternating between
them; the baseline is measured again beside each. See bench/README.md for what is measured
and how to read the table.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import math
import os
import platform
import pstats
import random
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/load.py`: make sandbox.fakes importable
    sys.path.insert(0, str(ROOT))

from bench.postgres import backend_pids, masked  # noqa: E402
from bench.postgres import fresh_schema as postgres_schema  # noqa: E402
from bench.postgres import problem as postgres_problem  # noqa: E402
from bench.postgres import server_url as postgres_server_url  # noqa: E402
from bot import event_loop  # noqa: E402
from sandbox.fakes import FakeSlack, FakeTikTok  # noqa: E402
from sandbox.fakes.slack import ApiCall  # noqa: E402
from sandbox.fakes.slack_requests import block_actions_body, sign, slash_command_body  # noqa: E402

BENCH = Path(__file__).resolve().parent
REDIRECT_URI = "https://bot.example.com/tiktok/oauth/callback"
REPLY_TIMEOUT_S = 20.0
CHILD_START_TIMEOUT_S = 60.0
CHILD_STOP_TIMEOUT_S = 45.0
BASELINE_OPEN_ID = "open-baseline"
CONCURRENCY_FOR_TARGETS = 50
ACK_P99_MAX_RATIO = 1.10
REPLY_P50_MAX_RATIO = 1.15
PEAK_RSS_MAX_MB = 120.0

log = logging.getLogger("bench")


class SetupError(Exception):
    """The benchmark could not be set up (a child did not start, linking failed, ...)."""


# --- statistics -------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Result:
    """One run: per-command latencies (seconds) and failures by kind."""

    sent: int = 0
    ack: list[float] = field(default_factory=list)
    reply: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server used, from the first request until idle
    parent_cpu: float = 0.0  # CPU seconds this process (fakes + load generator) used
    drain: float = 0.0  # seconds the server stayed busy after the last reply (background work)
    db_cpu: float = math.nan  # CPU seconds of the PostgreSQL backends serving the bot
    sample: str = ""  # the text of the first unexpected reply

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def fail(self, why: str) -> None:
        self.failures[why] += 1

    def unexpected(self, reply: dict) -> None:
        """A reply that is not the success: counted, and the first one's text kept to show."""
        self.fail("unexpected reply")
        if not self.sample:
            self.sample = str(reply.get("text", ""))[:300]

    def figures(self) -> dict[str, float]:
        return {
            "rate": self.sent / self.elapsed if self.elapsed else math.nan,
            "ack_p50": percentile(self.ack, 0.50),
            "ack_p99": percentile(self.ack, 0.99),
            "ack_max": max(self.ack) if self.ack else math.nan,
            "reply_p50": percentile(self.reply, 0.50),
            "reply_p99": percentile(self.reply, 0.99),
            "cpu_ms": self.server_cpu / self.sent * 1000 if self.sent else math.nan,
            "db_cpu_ms": self.db_cpu / self.sent * 1000 if self.sent else math.nan,
            "server_busy": self.server_cpu / self.elapsed if self.elapsed else math.nan,
            "parent_busy": self.parent_cpu / self.elapsed if self.elapsed else math.nan,
        }


# --- subprocesses -----------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used so far (all its threads); 0.0 when gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Child:
    """A server subprocess (the bot or the baseline) speaking bench/child.py's protocol."""

    name: str
    proc: asyncio.subprocess.Process
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (all its threads)."""
        return process_cpu_seconds(self.proc.pid)

    async def settle(self, window_s: float = 0.25, max_s: float = 120.0) -> float:
        """Wait until the process is idle (< 5% of a core over `window_s`).

        Returns how long it was still busy: 0.0 when it was idle at once.
        """
        started = time.monotonic()
        while time.monotonic() - started < max_s:
            before = self.cpu_seconds()
            await asyncio.sleep(window_s)
            if self.cpu_seconds() - before < 0.05 * window_s:
                break
        return max(0.0, time.monotonic() - started - window_s)  # the idle window itself

    def memory_kb(self) -> dict[str, int]:
        """VmHWM (peak RSS) and VmRSS from /proc, in kB."""
        found: dict[str, int] = {}
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    found[key] = int(value.split()[0])
        return found

    async def stop(self) -> int | None:
        """Close its stdin (it stops itself); kill it only if it does not within the timeout."""
        if self.proc.returncode is None and self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            return await asyncio.wait_for(self.proc.wait(), CHILD_STOP_TIMEOUT_S)
        except TimeoutError:
            print(f"{self.name}: did not stop in {CHILD_STOP_TIMEOUT_S:.0f} s; killing it")
            self.proc.kill()
            return await self.proc.wait()

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def start_child(
    name: str, script: Path, config: dict, workdir: Path, life_s: float, *args: str
) -> Child:
    log_path = workdir / f"{name}.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with open(log_path, "wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            "--max-seconds",
            str(int(life_s)),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
            cwd=str(ROOT),
            env=env,
        )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(config).encode() + b"\n")
    await proc.stdin.drain()
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), CHILD_START_TIMEOUT_S)
    except TimeoutError:
        line = b""
    words = line.decode().split()
    if len(words) != 2 or words[0] != "READY":
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        tail = log_path.read_text(errors="replace")[-3000:]
        raise SetupError(f"{name} did not start (said {line!r}); its stderr:\n{tail}")
    return Child(name, proc, int(words[1]), log_path)


# --- the load generator -----------------------------------------------------------------


@dataclass
class Target:
    """What the load goes to: the baseline, or the bot as one process or several replicas.

    With several replicas the requests alternate between them (round robin, as a load
    balancer would); CPU time is the sum over them."""

    name: str
    children: list[Child]
    owner_of: Callable[[str], str]  # Slack user -> TikTok open_id that owns their uploads
    expected: Callable[[dict, str], bool]  # (reply body, publish_id) -> is it the success?
    _turn: int = 0

    def next_url(self) -> str:
        """The base URL of the process that takes the next request."""
        child = self.children[self._turn % len(self.children)]
        self._turn += 1
        return child.url

    def cpu_seconds(self) -> float:
        return sum(child.cpu_seconds() for child in self.children)

    async def settle(self) -> float:
        drains = await asyncio.gather(*(child.settle() for child in self.children))
        return max(drains)

    def describe(self) -> str:
        return ", ".join(f"pid {c.proc.pid} on {c.url}" for c in self.children)


def baseline_success(body: dict, publish_id: str) -> bool:
    return body.get("text") == f"Cancelled {publish_id}."


def bot_success(body: dict, publish_id: str) -> bool:
    """The answer to a cancel TikTok accepted (catalog code `ok`: "TikTok is stopping …")."""
    text = str(body.get("text", ""))
    return (
        body.get("response_type") == "ephemeral"
        and text.startswith("TikTok is stopping")
        and publish_id in text
    )


def first_button_url(message: dict) -> str:
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("url"):
                return str(element["url"])
    raise SetupError(f"no URL button in {message.get('text')!r}")


class Load:
    """Fires signed requests and matches what arrives at the fake Slack to each one."""

    def __init__(self, slack: FakeSlack, tiktok: FakeTikTok, session: aiohttp.ClientSession):
        self.slack = slack
        self.tiktok = tiktok
        self.session = session
        self.secret = slack.signing_secret
        self._replies: dict[str, asyncio.Future[dict]] = {}
        self._updates: dict[tuple[str, str], asyncio.Future[float]] = {}
        slack.on_response = self._on_response
        slack.on_call = self._on_call

    def _on_response(self, url: str, body: dict) -> None:
        future = self._replies.pop(url, None)
        if future is not None and not future.done():
            future.set_result(body)

    def _on_call(self, call: ApiCall) -> None:
        if call.method != "chat.update":
            return
        key = (str(call.params.get("channel")), str(call.params.get("ts")))
        future = self._updates.pop(key, None)
        if future is not None and not future.done():
            future.set_result(call.time)

    def expect_reply(self) -> tuple[str, asyncio.Future[dict]]:
        url = self.slack.new_response_url()
        future = asyncio.get_running_loop().create_future()
        self._replies[url] = future
        return url, future

    def forget(self, url: str) -> float | None:
        """The arrival time of the first post to `url`; drops what the fake kept for it."""
        self._replies.pop(url, None)
        self.slack.responses.pop(url, None)
        times = self.slack.response_times.pop(url, None)
        return times[0] if times else None

    async def post_signed(self, url: str, body: str) -> int:
        headers = sign(self.secret, body)
        async with self.session.post(url, data=body.encode(), headers=headers) as resp:
            await resp.read()
            return resp.status

    async def refuses_bad_signature(self, target: Target) -> None:
        """Both servers must check Slack's signature, or the comparison is not fair."""
        body = slash_command_body("v_pub_url~v2.unsigned", response_url=self.slack.url + "/x")
        headers = sign("not-the-signing-secret", body)
        for child in target.children:
            url = child.url + "/slack/events"
            async with self.session.post(url, data=body.encode(), headers=headers) as r:
                if r.status != 401:
                    raise SetupError(f"{child.name} answered {r.status} to a bad signature")

    async def command(
        self, target: Target, user_id: str, publish_id: str, result: Result | None
    ) -> None:
        url, future = self.expect_reply()
        body = slash_command_body(publish_id, response_url=url, user_id=user_id)
        started = time.monotonic()
        try:
            status = await self.post_signed(target.next_url() + "/slack/events", body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.forget(url)
            if result is not None:
                result.fail(f"request error {type(exc).__name__}")
            return
        acked = time.monotonic()
        if status != 200:
            self.forget(url)
            if result is not None:
                result.fail(f"HTTP {status}")
            return
        try:
            reply = await asyncio.wait_for(future, REPLY_TIMEOUT_S - (acked - started))
        except TimeoutError:
            reply = None
        arrived = self.forget(url)
        if result is None:
            return
        result.ack.append(acked - started)
        if reply is None or arrived is None:
            result.fail(f"no reply within {REPLY_TIMEOUT_S:.0f} s")
        elif not target.expected(reply, publish_id):
            result.unexpected(reply)
        else:
            result.reply.append(arrived - started)

    async def link(self, target: Target, user_id: str, open_id: str) -> None:
        """Link `user_id` to `open_id` through the real consent round trip: `connect`, TikTok's
        callback, then "Link it" on the confirm page. With replicas, `connect` goes to one and
        the browser's visits to the next (the OAuth state must live in the database)."""
        self.tiktok.add_user(open_id=open_id, display_name=f"Bench {open_id}")
        url, future = self.expect_reply()
        status = await self.post_signed(
            target.next_url() + "/slack/events",
            slash_command_body("connect", response_url=url, user_id=user_id),
        )
        if status != 200:
            raise SetupError(f"connect for {user_id}: HTTP {status}")
        answer = await asyncio.wait_for(future, REPLY_TIMEOUT_S)
        self.forget(url)
        state = parse_qs(urlparse(first_button_url(answer)).query)["state"][0]
        params = {"code": self.tiktok.issue_code(open_id), "state": state, "scopes": "x"}
        bot_url = target.next_url()
        async with self.session.get(bot_url + "/tiktok/oauth/callback", params=params) as resp:
            page = await resp.text()
            if resp.status != 200:
                raise SetupError(f"OAuth callback for {user_id}: HTTP {resp.status}: {page[:200]}")
        form = {
            name: html.unescape(value)
            for name, value in re.findall(r'<input type=hidden name=(\w+) value="([^"]*)">', page)
        }
        if "state" not in form or "confirm" not in form:
            raise SetupError(f"no confirm form on the OAuth callback's page for {user_id}")
        async with self.session.post(
            bot_url + "/tiktok/oauth/confirm", data={**form, "choice": "link"}
        ) as resp:
            page = await resp.text()
            if resp.status != 200:
                raise SetupError(f"linking {user_id}: HTTP {resp.status}: {page[:200]}")

    async def notify(self, bot_url: str, token: str, publish_id: str, channel: str) -> tuple:
        """POST /notifications; returns (HTTP status, parsed body)."""
        async with self.session.post(
            bot_url + "/notifications",
            json={"publish_id": publish_id, "channel": channel, "title": f"Bench {publish_id}"},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def click(
        self, bot_url: str, user_id: str, publish_id: str, channel: str, ts: str, result: Result
    ) -> None:
        """Click Cancel upload on an announcement; times the click to its chat.update."""
        url, reply_future = self.expect_reply()
        update_future = asyncio.get_running_loop().create_future()
        self._updates[(channel, ts)] = update_future
        body = block_actions_body(
            "cancel_upload",
            publish_id,
            response_url=url,
            user_id=user_id,
            channel_id=channel,
            message_ts=ts,
        )
        started = time.monotonic()
        try:
            status = await self.post_signed(bot_url + "/slack/events", body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, error = 0, type(exc).__name__
        else:
            error = ""
        acked = time.monotonic()
        if status != 200:
            self.forget(url)
            self._updates.pop((channel, ts), None)
            result.fail(f"request error {error}" if error else f"HTTP {status}")
            return
        result.ack.append(acked - started)
        deadline = started + REPLY_TIMEOUT_S
        try:
            updated_at = await asyncio.wait_for(update_future, deadline - time.monotonic())
            reply = await asyncio.wait_for(reply_future, max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            self._updates.pop((channel, ts), None)
            self.forget(url)
            result.fail(f"no chat.update or reply within {REPLY_TIMEOUT_S:.0f} s")
            return
        self.forget(url)
        if not bot_success(reply, publish_id):
            result.unexpected(reply)
            return
        result.reply.append(updated_at - started)


async def run_pool(
    concurrency: int,
    jobs: Iterable[Any],
    work: Callable[[Any], Any],
    spread_s: float = 0.0,
    jitter_s: float = 0.0,
) -> float:
    """Run `work(job)` for every job, at most `concurrency` at a time; returns the wall time.

    Each of the `concurrency` workers sends its next job when its last one is done (a closed
    loop). A fixed upstream latency would keep such workers in lockstep waves, so worker k
    starts k * spread_s / concurrency late, and each waits a random 0..jitter_s before each
    job (outside every measured latency) so the waves do not form again during a long run.
    """
    iterator = iter(jobs)
    rng = random.Random(concurrency)

    async def worker(k: int) -> None:
        if spread_s:
            await asyncio.sleep(k * spread_s / concurrency)
        for job in iterator:
            if jitter_s:
                await asyncio.sleep(rng.uniform(0, jitter_s))
            await work(job)

    started = time.monotonic()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return time.monotonic() - started


# --- the benchmark ----------------------------------------------------------------------


DATABASES = ("sqlite", "postgres", "replicas")
DATABASE_TITLES = {
    "sqlite": "SQLite, one bot process",
    "postgres": "PostgreSQL, one bot process",
    "replicas": "PostgreSQL, two bot replicas (requests alternate between them)",
}


@dataclass
class Options:
    latency_ms: float
    jitter_ms: float
    concurrency: list[int]
    commands: int
    users: int
    warmup: int
    clicks: int
    click_concurrency: int
    notifications: int
    notify_concurrency: int
    profile: str | None
    max_seconds: float
    databases: list[str] | None  # None: all three when PostgreSQL answers, else SQLite only
    postgres_url: str
    baseline_loop: str = "asyncio"  # the baseline's event loop: asyncio's default, or uvloop


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python bench/load.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--latency-ms", type=float, default=50.0, help="fake TikTok cancel delay")
    parser.add_argument(
        "--jitter-ms",
        type=float,
        default=10.0,
        help="random 0..N ms pause before each command, not measured (default 10; 0: none)",
    )
    parser.add_argument("--concurrency", help="comma-separated levels (default 10,50,100)")
    parser.add_argument("--commands", type=int, help="commands per run (default 2000)")
    parser.add_argument("--quick", action="store_true", help="200 commands at 10,50; fewer extras")
    parser.add_argument("--users", type=int, default=50, help="linked Slack users (default 50)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured commands per target")
    parser.add_argument("--clicks", type=int, help="Cancel-button clicks (default 200)")
    parser.add_argument("--click-concurrency", type=int, default=10)
    parser.add_argument("--notifications", type=int, help="POST /notifications (default 500)")
    parser.add_argument("--notify-concurrency", type=int, default=20)
    parser.add_argument(
        "--databases",
        help="comma-separated, in order, from sqlite,postgres,replicas (default: all three "
        "when PostgreSQL answers, else sqlite)",
    )
    parser.add_argument(
        "--postgres-url",
        default="",
        help="the PostgreSQL server (default: TEST_DATABASE_URL, else .ci/postgres.sh's); "
        "each run gets a fresh schema there, dropped at the end",
    )
    parser.add_argument(
        "--profile", metavar="PATH", help="cProfile the bot process, write stats to PATH, print top"
    )
    parser.add_argument("--max-seconds", type=float, default=1800, help="stop everything after")
    parser.add_argument(
        "--baseline-loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="the baseline's event loop (default asyncio's own, as a bare Bolt app runs)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    levels = args.concurrency or ("10,50" if quick else "10,50,100")
    try:
        concurrency = [int(c) for c in levels.split(",") if c.strip()]
    except ValueError:
        parser.error("--concurrency takes whole numbers separated by commas, like 10,50,100")
    if not concurrency or min(concurrency) < 1:
        parser.error("--concurrency needs at least one level >= 1")
    databases = None
    if args.databases is not None:
        databases = [d.strip() for d in args.databases.split(",") if d.strip()]
        unknown = [d for d in databases if d not in DATABASES]
        if unknown or not databases or len(set(databases)) != len(databases):
            parser.error("--databases takes some of sqlite,postgres,replicas, each once")
    options = Options(
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        concurrency=concurrency,
        commands=args.commands or (200 if quick else 2000),
        users=args.users,
        warmup=args.warmup,
        clicks=args.clicks if args.clicks is not None else (50 if quick else 200),
        click_concurrency=args.click_concurrency,
        notifications=(
            args.notifications if args.notifications is not None else (200 if quick else 500)
        ),
        notify_concurrency=args.notify_concurrency,
        profile=args.profile,
        max_seconds=args.max_seconds,
        databases=databases,
        postgres_url=args.postgres_url,
        baseline_loop=args.baseline_loop,
    )
    if options.users < 1 or options.commands < 1:
        parser.error("--users and --commands must be at least 1")
    return options


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
        )
        self.children.append(baseline)
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
                name, BENCH / "bot_server.py", config, self.workdir, self.child_life()
            )
            self.children.append(child)
            children.append(child)
        return children

    async def run(self) -> None:
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
            lambda a: load.click(bot.next_url(), a[0], a[1], channel, a[2], result),
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


# --- the report -------------------------------------------------------------------------


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.1f}"


def ratio(bot: float, base: float) -> float:
    return bot / base if base and not math.isnan(base) and not math.isnan(bot) else math.nan


def times(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}x"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def num(value: float, spec: str) -> str:
    return "-" if math.isnan(value) else format(value, spec)


def replicas_caveat() -> str:
    cores = os.cpu_count() or 0
    return (
        f"Two replicas on this {cores}-core machine share its cores with the baseline, the "
        "fakes, the load generator and PostgreSQL:\nthis run measures what coordinating "
        "through the database costs, not scale-out (that needs more cores or machines)."
    )


def database_table(bench: Bench, run: DatabaseRun) -> None:
    o = bench.o
    head = (
        f"{'conc':>5} {'target':<10} {'cmd/s':>7} {'ack p50':>8} {'ack p99':>8} {'ack max':>8} "
        f"{'reply p50':>10} {'reply p99':>10} {'failures':>9} {'cpu/cmd':>8} {'db/cmd':>7} "
        f"{'busy':>5} {'gen':>5} {'drain':>6}"
    )
    print(head)
    print("-" * len(head))
    for level in o.concurrency:
        base, bot = run.runs.get((level, "baseline")), run.runs.get((level, "bot"))
        if base is None or bot is None:
            continue
        fb, ft = base.figures(), bot.figures()
        for name, figs, res in (("baseline", fb, base), ("bot", ft, bot)):
            print(
                f"{level:>5} {name:<10} {figs['rate']:>7.0f} {ms(figs['ack_p50']):>8} "
                f"{ms(figs['ack_p99']):>8} {ms(figs['ack_max']):>8} {ms(figs['reply_p50']):>10} "
                f"{ms(figs['reply_p99']):>10} {res.failed:>9} {figs['cpu_ms']:>8.2f} "
                f"{num(figs['db_cpu_ms'], '.2f'):>7} {figs['server_busy']:>5.0%} "
                f"{figs['parent_busy']:>5.0%} {res.drain:>5.1f}s"
            )
        r = {k: ratio(ft[k], fb[k]) for k in fb}
        print(
            f"{level:>5} {'bot/base':<10} {times(r['rate']):>7} {times(r['ack_p50']):>8} "
            f"{times(r['ack_p99']):>8} {times(r['ack_max']):>8} {times(r['reply_p50']):>10} "
            f"{times(r['reply_p99']):>10} {'':>9} {times(r['cpu_ms']):>8}"
        )
    for (level, name), res in run.runs.items():
        if res.failures:
            print(f"  failures, {name} at {level}: {dict(res.failures)}")
            if res.sample:
                print(f"    first unexpected reply: {res.sample!r}")
    if run.button is not None:
        b = run.button.figures()
        print(
            f"Cancel button (block_actions cancel_upload -> chat.update at Slack), "
            f"{run.button.sent} clicks at concurrency {o.click_concurrency}: "
            f"p50 {ms(b['reply_p50'])} ms, p99 {ms(b['reply_p99'])} ms, "
            f"ack p99 {ms(b['ack_p99'])} ms, failures {run.button.failed}"
            + (f" {dict(run.button.failures)}" if run.button.failures else "")
        )
    if run.notify is not None:
        n = run.notify
        print(
            f"POST /notifications, {n.sent} requests at concurrency {o.notify_concurrency}: "
            f"{len(n.ack) / n.elapsed:.0f} requests/s (201s only), "
            f"p50 {ms(percentile(n.ack, 0.5))} ms, p99 {ms(percentile(n.ack, 0.99))} ms, "
            f"failures {n.failed}" + (f" {dict(n.failures)}" if n.failures else "")
        )
    peaks = ", ".join(f"{peak_mb(m):.1f} MB" for m in run.bot_memory)
    print(
        f"bot peak RSS (VmHWM of each bot process): {peaks or '-'} "
        f"(baseline process: {peak_mb(run.baseline_memory):.1f} MB)"
    )


def peak_mb(memory: dict[str, int]) -> float:
    return memory.get("VmHWM", 0) * 1024 / 1e6


def summary(bench: Bench) -> None:
    """One line per database and level: the ratios bot / baseline of the same run."""
    head = (
        f"{'database':<10} {'conc':>5} {'ack p50':>8} {'ack p99':>8} {'reply p50':>10} "
        f"{'reply p99':>10} {'failures':>9} {'cpu/cmd':>8} {'bot reply p50':>14}"
    )
    print(head)
    print("-" * len(head))
    for run in bench.results:
        for level in bench.o.concurrency:
            base, bot = run.runs.get((level, "baseline")), run.runs.get((level, "bot"))
            if base is None or bot is None:
                continue
            fb, ft = base.figures(), bot.figures()
            r = {k: ratio(ft[k], fb[k]) for k in fb}
            print(
                f"{run.database:<10} {level:>5} {times(r['ack_p50']):>8} {times(r['ack_p99']):>8} "
                f"{times(r['reply_p50']):>10} {times(r['reply_p99']):>10} {bot.failed:>9} "
                f"{times(r['cpu_ms']):>8} {ms(ft['reply_p50']):>11} ms"
            )
    print(
        "cpu/cmd: the bot processes' CPU per command / the baseline's; PostgreSQL's own CPU is "
        "not in it (db/cmd above)"
    )


def targets(bench: Bench, run: DatabaseRun) -> bool:
    """Print the targets for one database; True when those that count are met.

    The latency targets count for SQLite, the default; on PostgreSQL and with replicas they
    are printed for information."""
    counts = run.database == "sqlite"
    label = "" if counts else " (information, not a target)"
    passed = True
    level = CONCURRENCY_FOR_TARGETS
    if (level, "bot") in run.runs:
        fb = run.runs[level, "baseline"].figures()
        ft = run.runs[level, "bot"].figures()
        ack = ratio(ft["ack_p99"], fb["ack_p99"])
        reply = ratio(ft["reply_p50"], fb["reply_p50"])
        ack_ok = ack <= ACK_P99_MAX_RATIO
        reply_ok = reply <= REPLY_P50_MAX_RATIO
        print(
            f"  ack p99 at {level} <= {ACK_P99_MAX_RATIO:.2f}x baseline: {times(ack)} "
            f"({ms(ft['ack_p99'])} vs {ms(fb['ack_p99'])} ms)  {verdict(ack_ok)}{label}"
        )
        print(
            f"  reply p50 at {level} <= {REPLY_P50_MAX_RATIO:.2f}x baseline: {times(reply)} "
            f"({ms(ft['reply_p50'])} vs {ms(fb['reply_p50'])} ms)  {verdict(reply_ok)}{label}"
        )
        if counts:
            passed = ack_ok and reply_ok
    elif counts:
        print(f"  ack p99 / reply p50 at {level}: not run (add {level} to --concurrency)  MISS")
        passed = False
    failures = sum(res.failed for (_, name), res in run.runs.items() if name == "bot")
    failures += sum(r.failed for r in (run.button, run.notify) if r is not None)
    print(f"  0 bot failures (commands, clicks, POSTs): {failures}  {verdict(failures == 0)}")
    peaks = [peak_mb(m) for m in run.bot_memory]
    rss_ok = bool(peaks) and all(0 < p < PEAK_RSS_MAX_MB for p in peaks)
    shown = ", ".join(f"{p:.1f}" for p in peaks) or "-"
    print(f"  bot peak RSS < {PEAK_RSS_MAX_MB:.0f} MB, each process: {shown} MB  {verdict(rss_ok)}")
    base_failures = sum(res.failed for (_, name), res in run.runs.items() if name == "baseline")
    if base_failures:
        print(f"  note: the baseline failed {base_failures} commands; ratios are suspect")
    return passed and failures == 0 and rss_ok


def report(bench: Bench) -> bool:
    """Print the figures and the targets; True when every target is met."""
    o = bench.o
    print()
    print(
        f"tiktok-cancel load benchmark - Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, aiohttp {aiohttp.__version__}"
    )
    print(
        f"/tiktok-cancel <publish_id>: {o.commands} commands per run, fake TikTok cancel "
        f"latency {o.latency_ms:g} ms, {o.users} linked users, jitter 0-{o.jitter_ms:g} ms; "
        "baseline then bot at each level, for each database"
    )
    print(
        f"event loops: the bot on {event_loop.loop_name()} (bot.event_loop), "
        f"the baseline on {o.baseline_loop}"
    )
    for note in bench.notes:
        print(f"note: {note}")
    print(
        "latencies in ms. cpu/cmd: CPU ms the bot processes used per command, background work "
        "included;\ndb/cmd: the same for the PostgreSQL server processes serving the bot "
        "(its background writers not counted);\nbusy: the bot's CPU time / wall time of the "
        "run; gen: the same for this process (fakes + load generator);\ndrain: how long the "
        "server stayed busy after the last reply"
    )
    for run in bench.results:
        print()
        print(f"== {run.title}")
        if run.database == "replicas":
            print(replicas_caveat())
        database_table(bench, run)

    print()
    print("Ratios bot / baseline of the same run")
    summary(bench)
    if any(run.database == "replicas" for run in bench.results):
        print(replicas_caveat())

    print()
    print("Targets")
    passed = bool(bench.results)
    for run in bench.results:
        print(f" {run.title}")
        passed = targets(bench, run) and passed
    ran = {run.database for run in bench.results}
    missing = [d for d in bench.databases if d not in ran]
    if missing:
        print(f"  not run: {', '.join(missing)}  MISS")
        passed = False
    return passed


def print_profile(path: str, top: int = 30) -> None:
    print()
    print(f"cProfile of the bot process (event loop thread), {path}")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


async def main_async(options: Options) -> bool:
    with tempfile.TemporaryDirectory(prefix="tiktok-cancel-bench-") as tmp:
        bench = Bench(options, Path(tmp))
        try:
            async with asyncio.timeout(options.max_seconds):
                await bench.run()
        finally:
            for child in bench.children:
                tail = child.log_tail()
                if tail:
                    print(f"\n{child.name} stderr (last lines):\n{tail}")
        passed = report(bench)
        profiles = [path for run in bench.results for path in run.profiles]
    for path in profiles:
        if Path(path).exists():
            print_profile(path)
    return passed


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiohttp").setLevel(logging.ERROR)
    try:
        passed = asyncio.run(main_async(options))
    except SetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except TimeoutError:
        print(f"bench: stopped after --max-seconds {options.max_seconds:g}", file=sys.stderr)
        return 2
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
