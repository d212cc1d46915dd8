"""Two replicas of the bot (two real processes) on one PostgreSQL schema, sharing the fakes.

What coordinates lives in the database, so any replica may take any request: a link made
through one is used by the other; one TikTok cancel per upload whichever replicas the
requests land on (the `leases` row "cancel:<team>:<publish_id>"); a replica killed mid-call
leaves its attempt visible as unfinished and its claim expires; each due status poll is done
by one replica; a webhook delivered to both applies once; both may start at once on an empty
schema.

The processes run with the budgets a person gets (`Settings` defaults, which no environment
variable changes): a cancel's claim lasts cancel_deadline + 5 s = 17 s, and the first status
poll after TikTok's `ok` comes 15 s later. Those two waits are most of this file's time.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from sandbox.fakes import Reply
from tests.conftest import text_of
from tests.faults.conftest import BotProcess, wait_until

pytestmark = pytest.mark.needs_postgres

PID = "v_pub_url~v2.8100001"
NEXT_PID = "v_pub_url~v2.8100002"
TEAM = "T0001"  # the team of every fake Slack request
CLAIM = f"cancel:{TEAM}:{PID}"
CLAIM_S = 12.0 + 5.0  # Settings.cancel_deadline + 5 s
STOPPING_POLL_DELAY_S = 15.0  # after TikTok's `ok`, the first status poll


@pytest.fixture
async def replicas(slack, tiktok, tmp_path, session, postgres_url):
    """Replicas A and B of one deployment on a fresh schema; not started; SIGKILLed after."""
    a = BotProcess(slack, tiktok, tmp_path / "a", session, DATABASE_URL=postgres_url)
    b = a.replica(tmp_path / "b")
    yield a, b
    for process in (a, b):
        await process.close()


async def start_both(a: BotProcess, b: BotProcess) -> None:
    await asyncio.gather(a.start(), b.start())


def lease(bot: BotProcess, name: str) -> dict | None:
    rows = bot.rows("SELECT name, detail, expires_at FROM leases WHERE name = ?", name)
    return rows[0] if rows else None


async def announce(bot: BotProcess, publish_id: str = PID) -> dict:
    async with bot.session.post(
        bot.url + "/notifications",
        json={"publish_id": publish_id, "channel": "C1", "title": "Spring teaser"},
        headers={"Authorization": f"Bearer {bot.env['NOTIFY_TOKEN']}"},
    ) as resp:
        assert resp.status == 201, await resp.text()
        return await resp.json()


def status_calls(bot: BotProcess, publish_id: str = PID) -> list:
    return [c for c in bot.tiktok.calls_to("status") if c.body.get("publish_id") == publish_id]


def thread_posts(bot: BotProcess, ts: str) -> list:
    return [c for c in bot.posts_to("C1") if c.params.get("thread_ts") == ts]


def assert_clean_logs(*bots: BotProcess) -> None:
    for bot in bots:
        assert "Traceback" not in bot.log_text(), bot.log_tail()


# --- a link made through one replica is used by the other -----------------------------------


async def test_an_account_linked_through_one_replica_cancels_through_the_other(replicas):
    a, b = replicas
    await start_both(a, b)
    await a.link(user_id="U1", open_id="open-1")  # OAuth callback and confirm POST on A
    a.tiktok.add_upload(PID, open_id="open-1")

    answer = await b.command(f"{PID} wrong cut")
    assert "TikTok is stopping" in text_of(answer), text_of(answer)
    (call,) = b.tiktok.calls_to("cancel")
    assert b.tiktok.grant_for(call.token).open_id == "open-1"
    (row,) = b.cancel_rows(PID)
    assert (row["state"], row["outcome"], row["user_id"], row["open_id"]) == (
        "finished",
        "ok",
        "U1",
        "open-1",
    )
    assert "cancel.finished" in b.log_text()
    assert "cancel.finished" not in a.log_text()
    assert lease(b, CLAIM) is None, "the claim was not given back"
    assert_clean_logs(a, b)


# --- the same cancel sent to both at once: one TikTok call ------------------------------------


async def test_the_same_cancel_on_both_replicas_makes_one_tiktok_call(replicas):
    a, b = replicas
    await start_both(a, b)
    await a.link(user_id="U1", open_id="open-1")
    await b.link(user_id="U2", open_id="open-1")
    a.tiktok.add_upload(PID, open_id="open-1")
    hold = a.tiktok.hold("cancel")  # TikTok answers the first cancel only once both are in

    url_a, url_b = await asyncio.gather(
        a.send_command(f"{PID} from A", user_id="U1"),
        b.send_command(f"{PID} from B", user_id="U2"),
    )
    await hold.wait_arrived(timeout=10)
    winner = lease(a, CLAIM)["detail"]
    assert winner in ("U1", "U2")
    loser = "U2" if winner == "U1" else "U1"
    urls = {"U1": (a, url_a), "U2": (b, url_b)}
    loser_bot, loser_url = urls[loser]
    answers = {loser: text_of(await loser_bot.answer(loser_url))}  # while TikTok holds on
    hold.release()
    winner_bot, winner_url = urls[winner]
    answers[winner] = text_of(await winner_bot.answer(winner_url))

    assert "TikTok is stopping" in answers[winner], answers[winner]
    assert "already under way" in answers[loser], answers[loser]
    assert f"<@{winner}> asked to cancel it" in answers[loser], answers[loser]
    assert "didn't send a second request" in answers[loser]
    assert len(a.tiktok.calls_to("cancel")) == 1
    rows = {r["user_id"]: r for r in a.cancel_rows(PID)}
    assert (rows[winner]["state"], rows[winner]["outcome"]) == ("finished", "ok")
    assert (rows[loser]["state"], rows[loser]["outcome"]) == ("finished", "in_flight")
    assert lease(a, CLAIM) is None, "the claim was not given back"
    # the audit channel hears about the one attempt that reached TikTok, once
    await wait_until(lambda: a.posts_to("CAUDIT"), 5, "no audit channel post")
    # a clean shutdown of both waits for their audit posts: none comes after it
    assert await a.stop() == 0 and await b.stop() == 0
    assert len(a.posts_to("CAUDIT")) == 1
    assert_clean_logs(a, b)


# --- one replica SIGKILLed mid-call ----------------------------------------------------------


async def test_a_replica_killed_mid_call_leaves_the_attempt_unfinished_and_the_other_serves(
    replicas,
):
    a, b = replicas
    await start_both(a, b)
    await a.link(user_id="U1", open_id="open-1")
    a.tiktok.add_upload(PID, open_id="open-1")
    a.tiktok.script("cancel", Reply(hang=True))
    taken = time.time()
    await a.send_command(f"{PID} mid-call")
    await wait_until(lambda: a.tiktok.calls_to("cancel"), 10, "the cancel never reached TikTok")
    await wait_until(lambda: a.cancel_rows(PID), 5, "no started row")
    assert await a.kill() == -signal.SIGKILL

    (unfinished,) = b.cancel_rows(PID)
    assert (unfinished["state"], unfinished["outcome"]) == ("started", None)
    claim = lease(b, CLAIM)
    assert claim is not None and claim["detail"] == "U1"
    assert taken + CLAIM_S - 1 < claim["expires_at"] < time.time() + CLAIM_S + 1

    # B keeps serving: help, a status check, a cancel of another upload
    assert "/tiktok-cancel status" in text_of(await b.command("help"))
    assert "still downloading" in text_of(await b.command(f"status {PID}"))
    b.tiktok.add_upload(NEXT_PID, open_id="open-1")
    assert "TikTok is stopping" in text_of(await b.command(f"{NEXT_PID} other one"))
    # while the dead replica's claim runs, the same upload is "under way", with no call
    busy = text_of(await b.command(f"{PID} again", user_id="U1"))
    assert "already under way" in busy, busy
    assert len(b.tiktok.calls_to("cancel")) == 2  # A's hung call and NEXT_PID's

    # once the claim has expired, a new cancel of the same upload works on B
    await wait_until(
        lambda: time.time() > claim["expires_at"] + 0.2, CLAIM_S + 2, "the claim never expired"
    )
    answer = text_of(await b.command(f"{PID} after the crash"))
    assert "TikTok is stopping" in answer, answer
    assert len(b.tiktok.calls_to("cancel")) == 3
    outcomes = [(r["state"], r["outcome"]) for r in b.cancel_rows(PID)]
    assert outcomes == [("started", None), ("finished", "in_flight"), ("finished", "ok")]
    assert_clean_logs(b)


# --- the poller: each due poll once, whichever replicas run ------------------------------------


async def test_a_due_status_poll_is_made_by_one_replica_only(replicas):
    a, b = replicas
    await a.start()
    await a.link(user_id="U1", open_id="open-1")
    a.tiktok.add_upload(PID, open_id="open-1")
    await announce(a)
    # TikTok's `ok` makes the upload "stopping": its first poll is due 15 s later
    assert "TikTok is stopping" in text_of(await a.click("cancel_upload", PID))
    await wait_until(
        lambda: (
            a.rows("SELECT cancel_by FROM announcements WHERE publish_id = ?", PID)[0]["cancel_by"]
            == "U1"
        ),
        5,
        lambda: f"not stopping: {a.rows('SELECT * FROM announcements')}\n{a.log_tail(20)}",
    )
    due_at = a.rows("SELECT next_poll_at FROM announcements WHERE publish_id = ?", PID)[0][
        "next_poll_at"
    ]
    # B starts now, so both pollers sleep until the same due time and ask at the same moment
    await b.start()
    assert time.time() < due_at - 3, "B started too late to race for the poll"

    await wait_until(lambda: status_calls(a), STOPPING_POLL_DELAY_S + 5, "nobody polled")
    # each replica has since made a whole pass begun after the poll fell due: the other
    # replica's poll, had it made one, would be in by then. A new announcement on each wakes
    # its poller, so a replica whose timer fired a hair early (and then found the poll claimed)
    # makes such a pass too, instead of sleeping until its next poll is due.
    for replica, sentinel in ((a, "v_pub_url~v2.sentinel-a"), (b, "v_pub_url~v2.sentinel-b")):
        await announce(replica, sentinel)
        await replica.wait_for_pass("poller.pass", due_at)
    assert len(status_calls(a)) == 1
    (row,) = a.rows("SELECT final, status, poll_count FROM announcements WHERE publish_id = ?", PID)
    assert (row["final"], row["status"]) == (1, "FAILED")
    assert_clean_logs(a, b)


# --- a webhook delivered to both replicas applies once -----------------------------------------


async def test_a_webhook_delivered_to_both_replicas_is_applied_once(replicas):
    a, b = replicas
    await start_both(a, b)
    await a.link(user_id="U1", open_id="open-1")
    a.tiktok.add_upload(PID, open_id="open-1")
    announced = await announce(a)
    assert "TikTok is stopping" in text_of(await b.click("cancel_upload", PID))
    await wait_until(lambda: thread_posts(a, announced["ts"]), 5, "no thread reply for the cancel")
    before = len(thread_posts(a, announced["ts"]))

    body = a.tiktok.webhook_body(
        "post.publish.failed", {"publish_id": PID, "reason": "publish_cancelled"}
    )
    headers = {"TikTok-Signature": a.tiktok.sign_webhook(body), "Content-Type": "application/json"}

    async def deliver(bot: BotProcess) -> int:
        async with bot.session.post(bot.url + "/tiktok/webhook", data=body, headers=headers) as r:
            return r.status

    assert await asyncio.gather(deliver(a), deliver(b)) == [200, 200]
    await wait_until(
        lambda: len(thread_posts(a, announced["ts"])) > before, 5, "the webhook was not applied"
    )
    # a clean shutdown of both waits for the webhook work under way: none comes after it
    assert await a.stop() == 0 and await b.stop() == 0
    new = thread_posts(a, announced["ts"])[before:]
    assert len(new) == 1, [text_of(c.params) for c in new]
    assert "cancelled" in text_of(new[0].params).lower()
    assert len(a.rows("SELECT event_key FROM webhook_events")) == 1
    (row,) = a.rows("SELECT final, status FROM announcements WHERE publish_id = ?", PID)
    assert (row["final"], row["status"]) == (1, "FAILED")
    assert_clean_logs(a, b)


# --- both starting at once on an empty schema ------------------------------------------------


async def test_both_replicas_start_at_once_on_an_empty_schema(replicas):
    a, b = replicas
    assert (
        a.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        == []
    )
    await start_both(a, b)  # each waits for GET /healthz to answer 200
    for bot in (a, b):
        async with bot.session.get(bot.url + "/healthz") as resp:
            assert resp.status == 200
    versions = a.rows("SELECT version FROM schema_migrations ORDER BY version")
    assert versions == [{"version": v} for v in (1, 2, 3, 4, 5, 6, 7, 8)]
    assert "bot.started" in a.log_text() and "bot.started" in b.log_text()
    assert_clean_logs(a, b)
