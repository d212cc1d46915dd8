"""Work that goes on after an answer was given (Slack posts after a cancel, a webhook applied
after TikTok got its 200): started, tracked, and waited for at shutdown, in one place; and
`WakeableLoop`, the shape of every loop that runs until shutdown (the status poller, the held
scheduler, the parked-token prune)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """A set of running tasks; a task that fails is logged under `name`, never lost."""

    def __init__(self, name: str):
        self.name = name
        self._tasks: set[asyncio.Task] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.create_task(self._logged(coro))
        self.track(task)
        return task

    def track(self, task: asyncio.Task) -> None:
        """Count an already running task (shutdown waits for it too)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @contextlib.asynccontextmanager
    async def working(self):
        """Counts the running task while the block runs: a listener's work after `ack()`,
        so shutdown waits for it to reach Slack."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    def pending(self) -> list[asyncio.Task]:
        return list(self._tasks)

    async def settle(self, timeout_s: float | None = None) -> None:
        """Wait for what is running now (at most `timeout_s`)."""
        if not self._tasks:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _logged(self, coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await coro
        except Exception:
            log.exception(f"{self.name}.failed")
            return None


class PassCounter:
    """Counts the passes of a background loop (the held scheduler, the status poller), so a
    test or the sandbox can wait for a pass that began after some moment: what that pass
    would have done is then done, without guessing how long it takes. Each finished pass is
    logged at DEBUG under `name` with its number and the time it looked at (epoch seconds:
    anything due by then was seen), which is how a test watching a child process sees it."""

    def __init__(self, name: str):
        self.name = name
        self.begun = 0  # passes begun
        self.finished = 0  # the last pass finished (passes finish in order)
        self._began_at = 0.0
        self._changed = asyncio.Event()

    def begin(self, now: float | None = None) -> int:
        """A pass begins; `now`: the time it looks at (what counts as due), default now."""
        self.begun += 1
        self._began_at = time.time() if now is None else now
        return self.begun

    def finish(self, number: int) -> None:
        self.finished = number
        log.debug(self.name, extra={"pass_number": number, "began_at": self._began_at})
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for(self, number: int, timeout: float) -> None:
        """Until pass `number` has finished; TimeoutError after `timeout` seconds."""
        async with asyncio.timeout(timeout):
            while self.finished < number:
                await self._changed.wait()


class WakeableLoop:
    """A task that runs `_run` until `stop()`; `wake()` cuts its current wait short.

    A subclass clears the wake-up (`self._wake.clear()`) before each look, so a wake-up that
    comes during the look is not lost, and waits with `await self._sleep(seconds)`.
    `wake_by(at)` wakes it only when its current wait would last past `at` (a new row due
    then): under load most new rows are due after a wait that is already set to end sooner,
    and the look they would cost is saved.
    """

    def __init__(self, name: str):
        self.loop_name = name
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._waiting_until: float | None = None  # time.time() the wait ends; None: looking

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.loop_name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    def wake_by(self, at: float) -> None:
        """Make sure it looks by `at` (`time.time()`): wake it unless it is waiting and its
        wait ends by then. During a look it is always woken: the look may have missed the row."""
        until = self._waiting_until
        if until is None or until > at:
            self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        """Until `seconds` pass or `wake()` is called. asyncio.timeout, not wait_for: on 3.11
        wait_for can swallow a cancel that arrives together with a wake-up, and stop() would
        then wait forever."""
        self._waiting_until = time.time() + seconds
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._wake.wait()
        finally:
            self._waiting_until = None

    async def _run(self) -> None:
        raise NotImplementedError
