"""SQLite's one writer: a thread with one connection that commits together the calls waiting
at the same moment (group commit).

`Store.run` on SQLite queues `fn(db)` here. The thread takes every call waiting, runs them one
after the other in one `BEGIN IMMEDIATE` … `COMMIT`, each inside its own savepoint, and only
then answers their callers. So:

- a call that raises undoes its own writes only (`ROLLBACK TO` its savepoint) and raises to
  its own caller; the others commit;
- no caller hears back before the COMMIT: what a call wrote (an audit "started" row) is in
  the database before its caller goes on (calls TikTok);
- a COMMIT that fails fails every call of that transaction.

Nothing waits to fill a batch: the calls made in one turn of the event loop are handed over
together at the end of that turn, and while one transaction runs the calls that arrive queue
up and form the next one. So under load many calls share one COMMIT, one wake-up of the
thread and one of the event loop, and a call alone runs at once. One thread, one connection:
calls are serialized as they were with one worker thread, in the order they were made.

Measured with bench/load.py (README "Speed"): on the cancel path it cut the bot's CPU per
command by about a tenth, and the hand-over per turn about as much again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.sql import Db

Waiter = asyncio.Future | concurrent.futures.Future


@dataclass
class _Call:
    fn: Callable[[Db], Any]
    waiter: Waiter


class StoreClosed(RuntimeError):
    """The store was closed: no new work is taken."""


class GroupCommitWorker:
    """The thread; `connect()` (run on it) opens the sqlite3 connection it keeps."""

    def __init__(self, connect: Callable[[], Any], disconnect: Callable[[], None]):
        self._connect = connect
        self._disconnect = disconnect
        self._driver: Any = None
        # The hand-over: lists of calls, and None when closing. A SimpleQueue's put is one C
        # call that wakes the thread (a Condition's notify cost the event loop a tenth of its
        # time under load, measured with py-spy over bench/load.py).
        self._inbox: queue.SimpleQueue[list[_Call] | None] = queue.SimpleQueue()
        self._closing = False
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None
        self._this_turn: dict[asyncio.AbstractEventLoop, list[_Call]] = {}

    def _check_open(self) -> None:
        if self._closing:
            raise StoreClosed("the store is closed")

    def _put(self, calls: list[_Call]) -> None:
        if self._closing:
            _fail_all(calls)
            return
        if self._thread is None:
            with self._starting:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._serve, name="db", daemon=True)
                    self._thread.start()
        self._inbox.put(calls)

    def submit(self, fn: Callable[[Db], Any]) -> asyncio.Future:
        """Queue `fn(db)`; the future (of the running loop) has its result after the COMMIT.

        The calls made in one turn of the event loop are handed to the thread together, at
        the end of that turn: one wake-up of the thread for all of them."""
        self._check_open()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        waiting = self._this_turn.get(loop)
        if waiting is None:
            self._this_turn[loop] = waiting = []
            loop.call_soon(self._hand_over, loop)
        waiting.append(_Call(fn, future))
        return future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        self._put(self._this_turn.pop(loop, []))

    def call(self, fn: Callable[[Db], Any]) -> Any:
        """Queue `fn(db)` and block until it is committed (for threads without a loop)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("Store.call on the store's own thread")
        self._check_open()
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._put([_Call(fn, future)])
        return future.result()

    def close(self) -> None:
        """Finish what is queued, close the connection, end the thread."""
        with self._starting:
            self._closing = True
            thread = self._thread
        if thread is None:
            return
        self._inbox.put(None)
        if thread is not threading.current_thread():
            thread.join()

    # On the thread.

    def _serve(self) -> None:
        closing = False
        while not closing:
            first = self._inbox.get()
            batch = [] if first is None else list(first)
            closing = first is None
            while True:  # everything else already waiting joins this transaction
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    closing = True
                else:
                    batch.extend(more)
            if batch:
                self._answer(self._run(batch))
        try:
            self._disconnect()
        finally:
            self._driver = None
        while True:  # handed over as the store closed: not run
            try:
                late = self._inbox.get_nowait()
            except queue.Empty:
                break
            if late:
                _fail_all(late)

    def _run(self, batch: list[_Call]) -> list[tuple[_Call, Any, BaseException | None]]:
        batch = [c for c in batch if not c.waiter.done()]  # cancelled before it started
        if not batch:
            return []
        try:
            if self._driver is None:
                self._driver = self._connect()
            driver = self._driver
            driver.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            return [(c, None, exc) for c in batch]
        db = Db(driver, "sqlite")
        done: list[tuple[_Call, Any, BaseException | None]] = []
        alone = len(batch) == 1
        try:
            for call in batch:
                if not alone:
                    driver.execute("SAVEPOINT call")
                try:
                    result = call.fn(db)
                except BaseException as exc:
                    if not driver.in_transaction:  # SQLite gave the whole transaction up
                        raise
                    if alone:
                        driver.execute("ROLLBACK")
                        return [(call, None, exc)]
                    driver.execute("ROLLBACK TO call")
                    driver.execute("RELEASE call")
                    done.append((call, None, exc))
                    continue
                if not alone:
                    driver.execute("RELEASE call")
                done.append((call, result, None))
            driver.execute("COMMIT")
        except BaseException as exc:
            try:
                if driver.in_transaction:
                    driver.execute("ROLLBACK")
            except Exception:  # the connection is unusable: open a new one next time
                self._driver = None
            return [(c, None, exc) for c in batch]
        return done

    @staticmethod
    def _answer(done: list[tuple[_Call, Any, BaseException | None]]) -> None:
        on_loops: dict[asyncio.AbstractEventLoop, list] = {}
        for call, result, exc in done:
            waiter = call.waiter
            if isinstance(waiter, concurrent.futures.Future):
                if exc is None:
                    waiter.set_result(result)
                else:
                    waiter.set_exception(exc)
            else:
                on_loops.setdefault(waiter.get_loop(), []).append((waiter, result, exc))
        for loop, settled in on_loops.items():
            # One wake-up of each loop for the whole batch; a closed loop has nobody waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, settled)


def _fail_all(calls: list[_Call]) -> None:
    error = StoreClosed("the store is closed")
    for call in calls:
        waiter = call.waiter
        if isinstance(waiter, concurrent.futures.Future):
            _fail(waiter, error)
        else:  # an asyncio future is set on its own loop
            with contextlib.suppress(RuntimeError):
                waiter.get_loop().call_soon_threadsafe(_fail, waiter, error)


def _fail(waiter: Waiter, error: BaseException) -> None:
    """Tell a waiter that its call was not run (a cancelled asyncio waiter needs nothing)."""
    if not waiter.done():
        waiter.set_exception(error)


def _settle(settled: list[tuple[asyncio.Future, Any, BaseException | None]]) -> None:
    for future, result, exc in settled:
        if future.done():
            continue
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)
