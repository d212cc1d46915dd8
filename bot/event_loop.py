"""The event loop the bot runs on: uvloop when it is installed (a dependency; aiohttp and
Bolt run on it unchanged), else asyncio's own. `run(main())` is `asyncio.run` on that loop."""

from __future__ import annotations

import asyncio
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
