"""The benchmark's command line: `parse_args` turns `python bench/load.py`'s options into
`Options` (what to run: levels, counts, databases, profiling, where the processes run)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.cpus import CPU_MODES

DESCRIPTION = (
    "Load benchmark: the real bot against a bare Bolt baseline, on loopback, with the fakes."
)
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
    cpu_mode: str = "shared"  # shared: every process on every core; pinned: load apart


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python bench/load.py", description=DESCRIPTION)
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
    parser.add_argument(
        "--cpu-mode",
        choices=CPU_MODES,
        default="shared",
        help="shared (default): the load, the fakes and the servers share every core; pinned: "
        "this process (load + fakes) on the last core, the servers on the others",
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
        cpu_mode=args.cpu_mode,
    )
    if options.users < 1 or options.commands < 1:
        parser.error("--users and --commands must be at least 1")
    return options
