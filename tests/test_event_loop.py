"""The bot's event loop (bot/event_loop.py): uvloop, a dependency, when it is installed;
asyncio's own loop where it is not."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

from bot import event_loop

REPO = Path(__file__).resolve().parent.parent


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_the_bot_runs_on_uvloop_when_it_is_installed():
    assert event_loop.loop_name() == "uvloop"
    assert event_loop.run(_loop_module()).startswith("uvloop")


def test_without_uvloop_the_bot_runs_on_asyncio_s_own_loop():
    script = textwrap.dedent(
        """
        import asyncio, sys
        sys.modules["uvloop"] = None  # as if it were not installed
        from bot import event_loop

        async def main():
            return type(asyncio.get_running_loop()).__module__

        print(event_loop.loop_name(), event_loop.run(main()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["asyncio", "asyncio.unix_events"]


def test_after_start_up_the_heap_is_frozen_out_of_the_collector_s_walks():
    script = textwrap.dedent(
        """
        import gc
        from bot import event_loop

        kept = [[i] for i in range(1000)]  # what start-up built and keeps
        before = gc.get_freeze_count()
        event_loop.freeze_heap()
        print(before, gc.get_freeze_count() >= 1000)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True"]
