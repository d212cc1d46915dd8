"""The load generator: signed commands and clicks sent through the one driver
(`sandbox.fakes.driver`) to a `Target` (the baseline, or the bot as one process or
replicas taking turns), each matched to what arrives at the fake Slack and timed
(`Load`); users linked through the real OAuth round trip; and `run_pool`, the closed-loop
workers that keep a level of concurrency."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.children import Child
from bench.results import Result, SetupError
from sandbox.fakes import FakeSlack, FakeTikTok
from sandbox.fakes.driver import Driver, DriverError
from sandbox.fakes.slack import ApiCall

REPLY_TIMEOUT_S = 20.0


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


class Load:
    """Fires signed requests and matches what arrives at the fake Slack to each one."""

    def __init__(self, slack: FakeSlack, tiktok: FakeTikTok, session: aiohttp.ClientSession):
        self.slack = slack
        self.tiktok = tiktok
        self.session = session
        self._drivers: dict[int, Driver] = {}
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

    def driver(self, target: Target) -> Driver:
        """Slack and a browser acting against `target` (its processes take turns)."""
        driver = self._drivers.get(id(target))
        if driver is None:
            driver = Driver(
                self.session,
                self.slack,
                self.tiktok,
                target.next_url,
                answer_timeout=REPLY_TIMEOUT_S,
            )
            self._drivers[id(target)] = driver
        return driver

    async def refuses_bad_signature(self, target: Target) -> None:
        """Both servers must check Slack's signature, or the comparison is not fair."""
        forger = Driver(
            self.session, self.slack, self.tiktok, "", signing_secret="not-the-signing-secret"
        )
        for child in target.children:
            sent = await forger.send_command(
                "v_pub_url~v2.unsigned", response_url=self.slack.url + "/x", bot_url=child.url
            )
            if sent.status != 401:
                raise SetupError(f"{child.name} answered {sent.status} to a bad signature")

    async def command(
        self, target: Target, user_id: str, publish_id: str, result: Result | None
    ) -> None:
        url, future = self.expect_reply()
        started = time.monotonic()
        try:
            sent = await self.driver(target).send_command(
                publish_id, user_id=user_id, response_url=url
            )
            status = sent.status
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
        try:
            await self.driver(target).link(user_id, open_id, f"Bench {open_id}")
        except DriverError as problem:
            raise SetupError(f"linking {user_id}: {problem}") from None

    async def notify(self, bot_url: str, token: str, publish_id: str, channel: str) -> tuple:
        """POST /notifications; returns (HTTP status, parsed body)."""
        async with self.session.post(
            bot_url + "/notifications",
            json={"publish_id": publish_id, "channel": channel, "title": f"Bench {publish_id}"},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def click(
        self, target: Target, user_id: str, publish_id: str, channel: str, ts: str, result: Result
    ) -> None:
        """Click Cancel upload on an announcement; times the click to its chat.update."""
        url, reply_future = self.expect_reply()
        update_future = asyncio.get_running_loop().create_future()
        self._updates[(channel, ts)] = update_future
        started = time.monotonic()
        try:
            sent = await self.driver(target).send_click(
                "cancel_upload",
                publish_id,
                response_url=url,
                user_id=user_id,
                channel_id=channel,
                message_ts=ts,
            )
            status = sent.status
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
