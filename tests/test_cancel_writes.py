"""A cancel's two writes (storage/cancels.py), on SQLite and on PostgreSQL (one statement each
there, sent without a transaction): the claim comes with its "started" row or not at all; the
"finished" row, the claim given back and the follow begun come together. No claim is taken
for an upload whose cancel is settled (followed, stopping or final), judged in the claim's own
statement: on PostgreSQL another replica can settle it after the request read it, and the
last test makes that happen end to end. Two `Store`s on one database are two replicas.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import psycopg

from storage import announcements, cancels, followed
from storage.announcements import Announcement
from storage.audit import AuditFinish, AuditStart
from storage.db import Store
from storage.followed import FollowedCancel
from tests.conftest import db_rows, text_of
from tests.upload_helpers import wait_until

TEAM = "T1"
PID = "v_pub_url~v2.5100001"
NAME = f"cancel:{TEAM}:{PID}"
ENTRY = AuditStart(
    action="cancel", team_id=TEAM, user_id="U1", publish_id=PID, source="command", reason="r"
)
FINISHED = AuditFinish(outcome="ok", http_status=200, log_id="log-1", latency_ms=12, attempts=1)


def follow(user_id: str = "U1", **changes) -> FollowedCancel:
    made = FollowedCancel(
        publish_id=PID,
        team_id=TEAM,
        user_id=user_id,
        link_kind="user",
        link_owner=user_id,
        asked_at=1000.0,
        next_poll_at=1015.0,
    )
    return replace(made, **changes)


def rows(store: Store, sql: str):
    return store.run(lambda db: db.query(sql))


def claim(holder: str, user_id: str = "U1"):
    def run(db):
        return cancels.claim_and_start(db, (NAME, holder, 30.0, user_id), ENTRY)

    run.single_write = True  # as CancelService._prepare is
    return run


async def test_the_claim_comes_with_its_started_row_and_a_held_claim_writes_nothing(store_replicas):
    a, b = store_replicas
    first = await a.run(claim("holder-a"))
    assert isinstance(first, int)
    assert await b.run(claim("holder-b", "U2")) is None  # held by the other replica
    audit_rows = await rows(a, "SELECT id, state, user_id, publish_id, reason FROM audit")
    assert audit_rows == [
        {"id": first, "state": "started", "user_id": "U1", "publish_id": PID, "reason": "r"}
    ]
    leases = await rows(b, "SELECT name, holder, detail FROM leases")
    assert leases == [{"name": NAME, "holder": "holder-a", "detail": "U1"}]


async def test_a_claim_whose_holder_ran_out_is_taken_over_with_a_new_row(store_replicas):
    a, b = store_replicas
    await a.run(claim("holder-a"))
    await a.run(lambda db: db.execute("UPDATE leases SET expires_at = 1.0"))  # holder died
    second = await b.run(claim("holder-b", "U2"))
    assert isinstance(second, int)
    assert [r["holder"] for r in await rows(a, "SELECT holder FROM leases")] == ["holder-b"]
    assert len(await rows(a, "SELECT id FROM audit")) == 2


async def test_finishing_writes_the_row_gives_the_claim_back_and_begins_following(store_replicas):
    a, b = store_replicas
    audit_id = await a.run(claim("holder-a"))
    following = await a.run(
        cancels.finish_unannounced, audit_id, FINISHED, (NAME, "holder-a"), follow()
    )
    assert following is True
    row = (await rows(b, "SELECT * FROM audit"))[0]
    assert (row["state"], row["outcome"], row["http_status"], row["log_id"]) == (
        "finished",
        "ok",
        200,
        "log-1",
    )
    assert (row["latency_ms"], row["attempts"]) == (12, 1)
    assert await rows(b, "SELECT name FROM leases") == []
    followed = await rows(
        b, "SELECT team_id, publish_id, user_id, next_poll_at FROM followed_cancels"
    )
    assert followed == [
        {"team_id": TEAM, "publish_id": PID, "user_id": "U1", "next_poll_at": 1015.0}
    ]


async def test_an_upload_already_followed_keeps_its_row_and_the_claim_is_still_given_back(
    store_replicas,
):
    a, b = store_replicas
    first = await a.run(claim("holder-a"))
    await a.run(lambda db: db.execute("UPDATE leases SET expires_at = 1.0"))  # a ran late
    second = await b.run(claim("holder-b", "U2"))  # took over; both calls got TikTok's ok
    assert await a.run(cancels.finish_unannounced, first, FINISHED, (NAME, "holder-a"), follow())
    following = await b.run(
        cancels.finish_unannounced, second, FINISHED, (NAME, "holder-b"), follow("U2")
    )
    assert following is False
    assert [r["user_id"] for r in await rows(a, "SELECT user_id FROM followed_cancels")] == ["U1"]
    assert await rows(a, "SELECT name FROM leases") == []
    assert [r["state"] for r in await rows(a, "SELECT state FROM audit ORDER BY id")] == [
        "finished",
        "finished",
    ]


async def test_without_a_follow_only_the_row_and_the_claim_and_never_anothers_claim(store_replicas):
    a, b = store_replicas
    audit_id = await a.run(claim("holder-a"))
    await a.run(lambda db: db.execute("UPDATE leases SET expires_at = 1.0"))
    await b.run(claim("holder-b", "U2"))  # took the claim over from a holder that ran out
    refused = AuditFinish(outcome="publish_not_cancellable", http_status=400, attempts=1)
    assert (
        await a.run(cancels.finish_unannounced, audit_id, refused, (NAME, "holder-a"), None)
        is False
    )
    assert [r["holder"] for r in await rows(a, "SELECT holder FROM leases")] == ["holder-b"]
    assert await rows(a, "SELECT publish_id FROM followed_cancels") == []
    outcomes = await rows(a, "SELECT outcome FROM audit ORDER BY id")
    assert [r["outcome"] for r in outcomes] == ["publish_not_cancellable", None]


async def test_what_is_known_of_an_upload_is_its_announcement_or_its_follow_or_nothing(
    store_replicas,
):
    a, b = store_replicas
    other = "v_pub_url~v2.5100002"
    assert await a.run(cancels.known, TEAM, PID) is None
    await a.run(followed.start, follow())
    known = await b.run(cancels.known, TEAM, PID)
    assert isinstance(known, FollowedCancel)
    assert (known.publish_id, known.user_id, known.next_poll_at) == (PID, "U1", 1015.0)
    assert await b.run(cancels.known, "T2", PID) is None  # another workspace's upload
    title = "Launch & <b>day</b> 🎉"
    await a.run(
        announcements.insert,
        Announcement(publish_id=other, team_id=TEAM, channel="C1", ts="1.2", title=title),
    )
    announced = await b.run(cancels.known, TEAM, other)
    assert isinstance(announced, Announcement)
    assert (announced.publish_id, announced.channel, announced.title) == (other, "C1", title)
    assert announced.final is False and announced.video == {}


async def test_no_claim_is_taken_for_an_upload_whose_cancel_another_replica_settled(
    store_replicas,
):
    """What `known` read can be stale by the time the claim is taken (on PostgreSQL another
    replica's cancel can record "stopping" and give the claim back in between): the claim
    statement itself refuses when the upload is followed, stopping or final."""
    a, b = store_replicas
    await a.run(followed.start, follow())  # TikTok accepted another replica's cancel
    assert await b.run(claim("holder-b", "U2")) is None
    assert await rows(b, "SELECT id FROM audit") == []
    assert await rows(b, "SELECT name FROM leases") == []


async def test_an_announced_upload_is_claimed_until_it_is_stopping_or_final(store_replicas):
    a, b = store_replicas
    await a.run(
        announcements.insert, Announcement(publish_id=PID, team_id=TEAM, channel="C1", ts="1.2")
    )
    first = await b.run(claim("holder-b"))  # announced, nothing settled: the claim is taken
    assert isinstance(first, int)
    await b.run(cancels.finish_unannounced, first, FINISHED, (NAME, "holder-b"), None)
    await a.run(announcements.update, TEAM, PID, cancel_by="U1", cancel_at=1000.0)  # stopping
    assert await b.run(claim("holder-c", "U3")) is None
    await a.run(announcements.update, TEAM, PID, cancel_by="", final=True, status="PUBLISHED")
    assert await b.run(claim("holder-d", "U4")) is None  # final
    assert [r["holder"] for r in await rows(a, "SELECT holder FROM leases")] == []
    assert len(await rows(a, "SELECT id FROM audit")) == 1


async def test_another_workspaces_settled_upload_with_the_same_id_does_not_refuse_the_claim(
    store_replicas,
):
    a, b = store_replicas
    await a.run(followed.start, follow("U9", team_id="T2"))
    await a.run(
        announcements.insert,
        Announcement(publish_id=PID, team_id="T2", channel="C9", ts="1.3", final=True),
    )
    assert isinstance(await b.run(claim("holder-b")), int)


def waits_for_the_links_table(postgres_url: str) -> bool:
    """A connection of this test's schema waits for a lock on its `links` table."""
    with psycopg.connect(postgres_url) as watcher:
        (waiting,) = watcher.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = 'links'::regclass AND NOT granted"
        ).fetchone()
    return waiting > 0


async def test_a_cancel_that_read_the_upload_before_another_replica_settled_it_calls_tiktok_no_more(
    hp, postgres_url
):
    """PostgreSQL, end to end. The request reads what is known of the upload (nothing), then
    another replica's cancel begins following it and gives its claim back, and only then does
    the request take the claim. It is answered from that record; TikTok is not asked again.

    The other replica is a transaction on its own connection that holds `links` locked: the
    request's next read (which link acts) waits for it, so the record is committed between
    the request's first statement and its claim, with no sleep."""
    h = hp
    await h.link("U1", open_id="open-1")
    h.tiktok.add_upload(PID, open_id="open-1")
    other = follow(
        "U2",
        team_id=h.slack.team_id,
        account="Brand Social",
        asked_at=time.time() - 5,
        next_poll_at=time.time() + 3600,
    )
    row = followed.first_row(other)
    insert = (
        f"INSERT INTO followed_cancels ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})"
    )
    with psycopg.connect(postgres_url) as replica:
        replica.execute("LOCK TABLE links IN ACCESS EXCLUSIVE MODE")
        replica.execute(insert, list(row.values()))
        answer = asyncio.create_task(h.command(PID))
        await wait_until(lambda: waits_for_the_links_table(postgres_url), what="the request")
        replica.commit()
    assert "TikTok is already stopping" in text_of(await answer)
    assert h.tiktok.calls_to("cancel") == []
    audit_rows = db_rows(h, "SELECT user_id, outcome FROM audit WHERE publish_id = ?", PID)
    assert audit_rows == [{"user_id": "U1", "outcome": "already_stopping"}]
    assert db_rows(h, "SELECT name FROM leases WHERE name LIKE 'cancel:%'") == []
