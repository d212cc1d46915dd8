"""The event loop the bot runs on, and keeping it from pausing.

`run(main())` is `asyncio.run` on uvloop when it is installed (a dependency; aiohttp and Bolt
run on it unchanged), else on asyncio's own loop. `freeze_heap()`, once the bot has started,
keeps Python's cycle collector from walking everything start-up built on each of its full
collections: those walks paused the event loop for tens of milliseconds under load, and every
ack waiting then waited that long (bench/load.py, README "Speed")."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's `new_event_loop`, or None (asyncio's default loop) where uvloop is missing."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def loop_name() -> str:
    return "uvloop" if loop_factory() is not None else "asyncio"


def run(main: Coroutine[Any, Any, T]) -> T:
    log.debug("bot.event_loop", extra={"loop": loop_name()})
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def freeze_heap() -> None:
    """Collect start-up's garbage, then move what lives on out of the collector's sight
    (`gc.freeze`): it lives as long as the process anyway. Call once, after start."""
    gc.collect()
    gc.freeze()
