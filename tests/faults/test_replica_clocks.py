"""Replicas whose clocks disagree still agree on who holds what: every lease, and the held
"stuck starting" check, is timed by the database's clock, never a replica's.

A replica with a wrong clock is a real process whose `time.time()` runs ahead: the folder
`skewed_clock/` (a `sitecustomize` read only when a test puts it on the child's PYTHONPATH)
moves it by `TEST_CLOCK_AHEAD_S`. Each test first checks the child's clock really is ahead,
so a skew that silently stopped working fails here instead of passing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import held as store_held
from storage import leases
from storage.db import Store, database_url
from storage.held import HeldUpload
from tests.approval_helpers import ALICE, approval_body, open_post_page
from tests.conftest import text_of
from tests.faults.conftest import REPO_ROOT, BotProcess, wait_until
from tests.faults.test_held_kill import link_brand
from tests.held_helpers import msg

pytestmark = pytest.mark.needs_postgres

SKEWED_CLOCK = Path(__file__).resolve().parent / "skewed_clock"
PID = "v_pub_url~v2.8200001"
TEAM = "T0001"  # the team of every fake Slack request
APPROVAL_KEY = "run-skew"
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ", re.MULTILINE)

# What a replica with a clock `ahead` seconds fast sees of the database: the clock it has,
# whether it can take a lease another replica holds, who it finds holding it, and which
# held uploads it takes for stuck in `starting`.
REPLICA_SCRIPT = """
import json, sys, time
from storage import held, leases
from storage.db import Store, database_url
store = Store(database_url(sys.argv[1]))
try:
    clock = time.time()
    took = store.call(leases.take, sys.argv[2], "skewed-replica", 30.0)
    found = store.call(leases.holder, sys.argv[2])
    stuck = store.call(held.stuck_starting, float(sys.argv[3]))
    print(json.dumps({
        "clock": clock,
        "took": took,
        "holder": found.holder if found else None,
        "stuck": [h.upload_key for h in stuck],
    }))
finally:
    store.close()
"""


def skewed_env(ahead_s: float) -> dict[str, str]:
    """The environment of a child process whose wall clock runs `ahead_s` seconds fast."""
    return {
        "PYTHONPATH": os.pathsep.join([str(SKEWED_CLOCK), str(REPO_ROOT)]),
        "TEST_CLOCK_AHEAD_S": str(ahead_s),
        "TZ": "UTC",
    }


def as_skewed_replica(url: str, ahead_s: float, lease: str, stale_s: float) -> dict:
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", **skewed_env(ahead_s)}
    before = time.time()
    done = subprocess.run(
        [sys.executable, "-c", REPLICA_SCRIPT, url, lease, str(stale_s)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["clock"] - before > ahead_s - 5, f"the child's clock is not ahead: {seen}"
    return seen


@pytest.fixture
def store(postgres_url):
    s = Store(database_url(postgres_url))
    yield s
    s.close()


def starting_upload(key: str) -> HeldUpload:
    now = time.time()
    return HeldUpload(
        upload_key=key,
        team_id=TEAM,
        channel="C1",
        ts="1700000000.000100",
        account="brand",
        source_url="https://cdn.example.com/v.mp4",
        post={"privacy_level": "SELF_ONLY"},
        hold_s=0.0,
        created_at=now,
        starts_at=now,
    )


def test_a_replica_60_s_ahead_cannot_take_a_live_lease(store, postgres_url):
    name = f"cancel:{TEAM}:{PID}"
    assert store.call(leases.take, name, "live-holder", 30.0)  # 30 s left on its clock

    seen = as_skewed_replica(postgres_url, 60.0, name, 120.0)
    assert seen["took"] is False, "a replica 60 s ahead took a lease with 30 s left"
    assert seen["holder"] == "live-holder", "a replica 60 s ahead saw a live lease as run out"
    assert store.call(leases.holder, name).holder == "live-holder"


def test_a_replica_far_ahead_does_not_call_a_live_start_stuck(store, postgres_url):
    """A start claimed a moment ago (held → starting) is live, however far ahead a replica's
    clock runs; the "stuck starting" check counts from the claim by the database's clock."""
    key = "run-clock"
    assert store.call(store_held.insert, starting_upload(key))
    assert store.call(store_held.move, TEAM, key, ("held",), state="starting") is not None

    seen = as_skewed_replica(postgres_url, 180.0, "unused", 120.0)
    assert seen["stuck"] == [], "a replica 180 s ahead took a live start for stuck"
    # by the database's clock the claim is a few seconds old: with a 1 s limit it is stuck,
    # whatever the checking replica's clock says
    time.sleep(1.1)
    assert as_skewed_replica(postgres_url, 180.0, "unused", 1.0)["stuck"] == [key]


# --- end to end: two bot processes, one with a clock running 60 s ahead ----------------------


@pytest.fixture
async def replicas(slack, tiktok, tmp_path, session, postgres_url):
    """Replica A (a right clock) and B (60 s ahead) on one fresh schema; SIGKILLed after."""
    a = BotProcess(slack, tiktok, tmp_path / "a", session, DATABASE_URL=postgres_url, TZ="UTC")
    b = a.replica(tmp_path / "b")
    b.env.update(skewed_env(60.0))
    before = time.time()
    await asyncio.gather(a.start(), b.start())
    yield a, b, (before, time.time())
    for process in (a, b):
        await process.close()


def first_log_time(bot: BotProcess) -> float:
    """When, by the replica's own clock, it wrote its first log line (during start-up)."""
    first = LOG_TIME.search(bot.log_text())
    assert first is not None, bot.log_tail()
    stamp = datetime.strptime(first.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return stamp.timestamp() + int(first.group(2)) / 1000


async def test_a_replica_60_s_ahead_cannot_take_a_cancel_in_flight_on_another(replicas):
    """A's cancel holds the upload's claim (17 s) while TikTok answers; B, whose clock is a
    minute fast, gets the same cancel: it must see the claim as live, make no TikTok call and
    say the cancel is under way."""
    a, b, (before, started) = replicas
    # B's clock is a minute fast: it logged its start-up ~60 s after it really happened
    assert before + 50 < first_log_time(b) < started + 70, "B's clock is not 60 s ahead"
    assert before - 2 < first_log_time(a) < started + 2
    await a.link(user_id="U1", open_id="open-1")
    await b.link(user_id="U2", open_id="open-1")  # U2 could cancel it too, through B
    a.tiktok.add_upload(PID, open_id="open-1")
    hold = a.tiktok.hold("cancel")
    try:
        await a.send_command(f"{PID} from A", user_id="U1")
        await hold.wait_arrived(timeout=10)
        url_b = await b.send_command(f"{PID} from B", user_id="U2")
        # B answers, or (the bug) its own cancel reaches TikTok: whichever comes first
        await wait_until(
            lambda: b.slack.responses.get(url_b) or len(a.tiktok.calls_to("cancel")) > 1,
            20,
            "B neither answered nor called TikTok",
        )
        assert len(a.tiktok.calls_to("cancel")) == 1, "B took a live claim: a second cancel"
        said = text_of(await b.answer(url_b))
    finally:
        hold.release()
    assert "already under way" in said, said
    assert "<@U1> asked to cancel it" in said, said
    for bot in (a, b):
        assert "Traceback" not in bot.log_text(), bot.log_tail()


async def test_a_replica_60_s_ahead_approves_an_upload_still_in_time(replicas):
    """An upload whose approval deadline is 40 s away by the database's clock: B, whose own
    clock says the deadline passed 20 s ago, opens the post page and takes the approval,
    and the upload starts once. (Only the database's clock decides "expired".)"""
    a, b, _ = replicas
    await link_brand(a)
    payload = approval_body(APPROVAL_KEY)
    headers = {"Authorization": f"Bearer {a.env['UPLOAD_TOKEN']}"}
    async with a.session.post(a.url + "/uploads", json=payload, headers=headers) as resp:
        assert resp.status == 202, await resp.text()
    with a._engine().begin() as conn:  # noqa: SLF001 - the test's own reader
        conn.exec_driver_sql(
            "UPDATE held_uploads SET approve_by = EXTRACT(EPOCH FROM clock_timestamp()) + 40 "
            "WHERE upload_key = %(key)s",
            {"key": APPROVAL_KEY},
        )
    await open_post_page(b, ALICE, APPROVAL_KEY)
    before = len(b.posts_to(ALICE))
    status, ack = await b.driver.submit_view(ALICE, privacy="SELF_ONLY")
    assert status == 200 and ack is None
    await wait_until(lambda: len(b.posts_to(ALICE)) > before, 20, "no answer to ALICE")
    said = text_of(msg(b.posts_to(ALICE)[before]))
    assert "Started: TikTok accepted" in said, said
    (row,) = a.rows("SELECT state FROM held_uploads WHERE upload_key = ?", APPROVAL_KEY)
    assert row["state"] == "started"
    assert len(a.tiktok.calls_to("init")) == 1
    for bot in (a, b):
        assert "Traceback" not in bot.log_text(), bot.log_tail()
