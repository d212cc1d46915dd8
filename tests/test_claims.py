"""Claiming work across replicas (bot/claims.py): every lease kind is registered with its
name, duration and what it guards; `holding` lets one holder at a time do the work, on
whichever replica, and the others wait their turn or wait it out. Two `Store`s on one database
(a SQLite file, or this test's PostgreSQL schema) are two replicas.
"""

from __future__ import annotations

import asyncio
import time

from bot.claims import KINDS, Lease, holding, wait_out
from bot.keyed_locks import KeyedLocks
from tests.conftest import db_execute
from tests.upload_helpers import wait_until

TEAM = "T1"
PID = "v_pub_url~v2.777000111"
PID2 = "v_pub_url~v2.777000222"


def test_every_kind_of_lease_is_registered_with_its_name_duration_and_purpose():
    assert sorted(KINDS) == [
        "announce",
        "announcement",
        "cancel",
        "poll-rate",
        "refresh",
        "slack-token",
    ]
    assert all(kind.guards and kind.seconds > 0 for kind in KINDS.values())
    assert Lease.cancel(TEAM, PID).name == f"cancel:{TEAM}:{PID}"
    assert Lease.cancel(TEAM, PID, seconds=17.0).seconds == 17.0
    assert Lease.refresh((TEAM, "user", "U1")).name == f"refresh:{TEAM}:user:U1"
    assert Lease.refresh((TEAM, "user", "U1")).seconds == 20.0
    assert Lease.announce(TEAM, PID).name == f"announce:{TEAM}:{PID}"
    assert Lease.announcement(TEAM, PID).name == f"announcement:{TEAM}:{PID}"
    assert Lease.announcement(TEAM, PID).seconds == 30.0
    assert Lease.poll_rate("T|team|brand").name == "poll-rate:T|team|brand"
    assert (KINDS["poll-rate"].slots, KINDS["poll-rate"].seconds) == (20, 60.0)
    assert Lease.slack_token(TEAM).name == f"slack-token:{TEAM}"
    assert Lease.slack_token(TEAM).seconds == 20.0
    assert (
        Lease.announce(TEAM, PID).holder != Lease.announce(TEAM, PID).holder
    )  # each claim its own


async def test_one_replica_holds_a_lease_and_the_other_waits_its_turn(store_replicas):
    a, b = store_replicas
    events: list[str] = []

    async def second() -> None:
        async with holding(b, Lease.announcement(TEAM, PID), KeyedLocks()) as mine:
            events.append(f"b holds ({mine})")

    async with holding(a, Lease.announcement(TEAM, PID), KeyedLocks()) as mine:
        events.append(f"a holds ({mine})")
        waiting = asyncio.create_task(second())
        async with holding(b, Lease.announcement(TEAM, PID), wait=False) as also:
            assert also is False  # asked once, while `a` holds it
        events.append("a gives back")
    await asyncio.wait_for(waiting, 10)

    assert events == ["a holds (True)", "a gives back", "b holds (True)"]
    assert await b.run(Lease.announcement(TEAM, PID).current) is None  # given back after the body


async def test_a_replica_that_did_not_get_the_lease_waits_it_out_then_carries_on(store_replicas):
    a, b = store_replicas
    lease = Lease.refresh((TEAM, "user", "U1"))
    events: list[str] = []

    async def other() -> None:
        async with holding(b, Lease.refresh((TEAM, "user", "U1")), wait=False) as mine:
            events.append(f"b asked ({mine})")
            if not mine:
                await wait_out(b, lease)
                events.append("b waited it out")

    async with holding(a, lease, wait=False) as mine:
        assert mine is True
        waiting = asyncio.create_task(other())
        await wait_until(lambda: events == ["b asked (False)"], 10, "b asking")
        assert (await b.run(lease.current)).holder == lease.holder
        events.append("a gives back")
    await asyncio.wait_for(waiting, 10)

    assert events == ["b asked (False)", "a gives back", "b waited it out"]


async def test_a_cancel_claim_says_who_holds_it_and_only_its_holder_gives_it_back(store_replicas):
    a, b = store_replicas
    first, second = Lease.cancel(TEAM, PID), Lease.cancel(TEAM, PID)
    assert await a.run(first.take, "U1") is True
    assert await b.run(second.take, "U2") is False
    assert (await b.run(second.current)).detail == "U1"
    await b.run(second.give_back)  # not its claim: nothing happens
    assert (await a.run(first.current)).holder == first.holder
    await a.run(first.give_back)
    assert await b.run(second.take, "U2") is True


async def test_a_lease_whose_holder_died_is_taken_over_when_its_time_runs_out(store_replicas):
    a, b = store_replicas
    dead = Lease.announce(TEAM, PID)
    assert await a.run(dead.take) is True
    await a.run(
        lambda db: db.execute("UPDATE leases SET expires_at = ? WHERE name = ?", [0, dead.name])
    )
    async with holding(b, Lease.announce(TEAM, PID), KeyedLocks()) as mine:
        assert mine is True


async def test_one_refresh_per_link_in_a_process_and_no_lock_left_after_it(h):
    """Two cancels on one link with an expired token: one refresh at TikTok (the other waits
    for it in this process), and the per-link lock is gone once both are answered."""
    await h.restart()
    await h.link("U1", "open-1", "Brand Social")
    for pid in (PID, PID2):
        h.tiktok.add_upload(pid, open_id="open-1")
    db_execute(h, "UPDATE links SET access_expires_at = ?", time.time() - 10)
    for grant in h.tiktok.grants:
        h.tiktok.expire_access_token(grant.access_token)
    tokens = h.bot.parts.tokens

    hold = h.tiktok.hold("token", grant_type="refresh_token")
    first = await h.command(PID, wait=False)
    await hold.wait_arrived()
    second = await h.command(PID2, wait=False)
    assert len(tokens.locks) == 1  # the one link's refresh, under way
    hold.release()
    for started in (first, second):
        await h.slack.wait_for_responses(started["response_url"], 1, timeout=20)

    refreshes = [
        c for c in h.tiktok.calls_to("token") if c.body.get("grant_type") == "refresh_token"
    ]
    assert len(refreshes) == 1
    assert len(h.tiktok.calls_to("cancel")) == 2
    assert len(tokens.locks) == 0  # was one entry per link, forever
