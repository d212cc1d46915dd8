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

This module starts it and exits with its verdict; the parts have a module each: `options`
(the command line), `runs` (the course of the benchmark), `generator` (the load and its
timing), `children` (the server subprocesses), `results` (what a run measured), `report`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/load.py`: make bench and sandbox importable
    sys.path.insert(0, str(ROOT))

from bench.options import Options, parse_args  # noqa: E402
from bench.report import print_profile, report  # noqa: E402
from bench.results import SetupError  # noqa: E402
from bench.runs import Bench  # noqa: E402


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
