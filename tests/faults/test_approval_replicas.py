"""Approval before posting on two replicas (two real processes) on one PostgreSQL schema: an
upload waiting for approval starts exactly once, whichever replicas its approvers, a Cancel
and the expiry of its deadline reach at the same moment. Approvals are rows, written while the
upload still waits (by the database's clock); the last approval needed moves the upload to
`approved` in the same transaction, so a second approval, an expiry or a rejection can only
come before it (and the approval is refused) or after it (and finds it approved).

Overlaps are made by holding a stand-in's answer: `usergroups.users.list` holds approvers
(members of a user group) after they pressed submit and before their approval is written;
the approval's reply in the upload's thread, or a card update, holds one replica after the
database decided, while the other replica acts."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.approval_helpers import ALICE, CAROL, LEADS, approval_body, open_post_page
from tests.conftest import text_of
from tests.faults.conftest import ADMIN, BotProcess, wait_until
from tests.faults.test_held_kill import link_brand
from tests.faults.test_held_replicas import assert_clean_logs, held_row, start_rows
from tests.held_helpers import msg

pytestmark = pytest.mark.needs_postgres

KEY = "run-approve"
ANSWER_S = 20.0
# What the approvers and the pressers of Cancel are told (bot/messages), in the words a test
# can look for.
STARTED = "Started: TikTok accepted"
ALREADY_STARTED = "already has the approvals it needed"
COUNTED = "Your approval of"
EXPIRED = "expired: its deadline passed"
WAS_CANCELLED = "was cancelled, so it can't be approved"
CANCELLED = "Cancelled:"
NOTHING_CHANGED = "Nothing changed"


@pytest.fixture
async def replicas(slack, tiktok, tmp_path, session, postgres_url):
    """Replicas A and B of one deployment on a fresh schema, started, the team account
    "brand" linked, ALICE and CAROL in the user group LEADS; SIGKILLed after."""
    a = BotProcess(slack, tiktok, tmp_path / "a", session, DATABASE_URL=postgres_url)
    b = a.replica(tmp_path / "b")
    await asyncio.gather(a.start(), b.start())
    await link_brand(a)
    slack.set_usergroup(LEADS, handle="social-leads", users=[ALICE, CAROL])
    yield a, b
    for process in (a, b):
        await process.close()


async def submit(bot: BotProcess, approvers=(ALICE, CAROL), needed=1) -> dict:
    """The pipeline sends an upload that waits for approval (deadline: 24 h)."""
    payload = approval_body(KEY, approvers=approvers, needed=needed)
    headers = {"Authorization": f"Bearer {bot.env['UPLOAD_TOKEN']}"}
    async with bot.session.post(bot.url + "/uploads", json=payload, headers=headers) as resp:
        answer = await resp.json()
        assert resp.status == 202, answer
    return held_row(bot, KEY)


def dms(bot: BotProcess, user_id: str) -> list[str]:
    """What the bot said to `user_id` by direct message, in order."""
    return [text_of(msg(c)) for c in bot.posts_to(user_id)]


class Answers:
    """The next direct message each person gets from now on: the answer to what they do."""

    def __init__(self, bot: BotProcess, *people: str):
        self.bot = bot
        self.before = {p: len(dms(bot, p)) for p in people}

    async def of(self, user_id: str) -> str:
        n = self.before[user_id]
        await wait_until(
            lambda: len(dms(self.bot, user_id)) > n, ANSWER_S, f"no answer to {user_id}"
        )
        return dms(self.bot, user_id)[n]


def thread(bot: BotProcess, row: dict) -> list[str]:
    """The replies in the upload's thread, in order."""
    posts = bot.posts_to(row["channel"])
    return [text_of(msg(c)) for c in posts if c.params.get("thread_ts") == row["ts"]]


def card(bot: BotProcess, row: dict) -> dict:
    """The upload's channel message as Slack shows it now (updates applied as answered)."""
    return bot.slack.messages[(row["channel"], row["ts"])]


def approval_rows(bot: BotProcess) -> list[dict]:
    return bot.rows("SELECT * FROM approvals WHERE upload_key = ? ORDER BY user_id", KEY)


def action_ids(message: dict) -> list[str]:
    return [
        e.get("action_id")
        for b in message.get("blocks", [])
        if b.get("type") == "actions"
        for e in b.get("elements", [])
    ]


async def both_schedulers_passed(a: BotProcess, b: BotProcess, moment: float) -> None:
    """Each replica's held scheduler made a whole pass begun after `moment`: a start or an
    expiry either would make about what was due then has been made."""
    await asyncio.gather(*(r.wait_for_pass("held.scheduler_pass", moment) for r in (a, b)))


def assert_started_once(bot: BotProcess, row: dict) -> None:
    """One init, one finished start, the card is the TikTok upload's, one accepted reply."""
    after = held_row(bot, KEY)
    assert after["state"] == "started", after
    assert len(bot.tiktok.calls_to("init")) == 1
    (started,) = start_rows(bot)
    assert (started["outcome"], started["publish_id"]) == ("ok", after["publish_id"])
    shown = text_of(card(bot, row))
    assert "TikTok upload" in shown and after["publish_id"] in shown, shown
    assert "review_upload" not in action_ids(card(bot, row))
    accepted = [t for t in thread(bot, row) if "TikTok accepted" in t]
    assert len(accepted) == 1, thread(bot, row)
    assert not any("expired" in t for t in thread(bot, row)), thread(bot, row)


def assert_never_sent(bot: BotProcess, row: dict, state: str) -> None:
    after = held_row(bot, KEY)
    assert after["state"] == state, after
    assert bot.tiktok.calls_to("init") == [] and start_rows(bot) == []
    assert not any("TikTok accepted" in t for t in thread(bot, row)), thread(bot, row)
    assert action_ids(card(bot, row)) == [], card(bot, row)


async def hold_group_lookups(bot: BotProcess, count: int):
    """Approvers who are members of LEADS stop, once they pressed submit, where the bot asks
    Slack who is in the group: before anything of their approval is written."""
    return bot.slack.hold("usergroups.users.list", count=count, usergroup=LEADS)


async def test_two_approvers_at_once_on_two_replicas_start_it_once(replicas):
    a, b = replicas
    row = await submit(a, approvers=(LEADS,), needed=1)
    await open_post_page(a, ALICE, KEY)
    await open_post_page(b, CAROL, KEY)
    answers = Answers(a, ALICE, CAROL)
    lookups = await hold_group_lookups(a, 2)
    try:
        await asyncio.gather(
            a.driver.submit_view(ALICE, privacy="SELF_ONLY"),
            b.driver.submit_view(CAROL, privacy="SELF_ONLY"),
        )
        await wait_until(lambda: lookups.held == 2, ANSWER_S, "both approvals were not held")
    finally:
        lookups.release()  # both approvals go on at the same moment, one on each replica
    said = {who: await answers.of(who) for who in (ALICE, CAROL)}
    winners = [who for who, text in said.items() if STARTED in text]
    losers = [who for who, text in said.items() if ALREADY_STARTED in text]
    assert len(winners) == 1 and len(losers) == 1, said
    await both_schedulers_passed(a, b, time.time())
    assert_started_once(a, row)
    # the approval that started it is the one recorded and the one the thread names
    assert [r["user_id"] for r in approval_rows(a)] == winners
    approved = [t for t in thread(a, row) if "approved" in t and "TikTok accepted" not in t]
    assert len(approved) == 1 and f"<@{winners[0]}>" in approved[0], thread(a, row)
    assert_clean_logs(a, b)


async def test_two_needed_approvals_at_once_on_two_replicas_start_it_once(replicas):
    a, b = replicas
    row = await submit(a, approvers=(LEADS,), needed=2)
    await open_post_page(a, ALICE, KEY)
    await open_post_page(b, CAROL, KEY)
    answers = Answers(a, ALICE, CAROL)
    lookups = await hold_group_lookups(a, 2)
    try:
        await asyncio.gather(
            a.driver.submit_view(ALICE, privacy="SELF_ONLY"),
            b.driver.submit_view(CAROL, privacy="MUTUAL_FOLLOW_FRIENDS"),
        )
        await wait_until(lambda: lookups.held == 2, ANSWER_S, "both approvals were not held")
    finally:
        lookups.release()
    said = {who: await answers.of(who) for who in (ALICE, CAROL)}
    # neither approval was lost: one made the count and started it, the other was counted
    started = [who for who, text in said.items() if STARTED in text]
    counted = [who for who, text in said.items() if COUNTED in text and "is in" in text]
    assert len(started) == 1 and len(counted) == 1, said
    await both_schedulers_passed(a, b, time.time())
    assert_started_once(a, row)
    assert [r["user_id"] for r in approval_rows(a)] == [ALICE, CAROL]
    # the post is the one the approval that started it chose
    (init,) = a.tiktok.calls_to("init")
    chosen = {ALICE: "SELF_ONLY", CAROL: "MUTUAL_FOLLOW_FRIENDS"}[started[0]]
    assert init.body["post_info"]["privacy_level"] == chosen
    assert_clean_logs(a, b)


async def test_an_approval_in_time_is_not_undone_by_the_deadline_passing_before_it_starts(
    replicas,
):
    """ALICE's approval is written in time on B; before B starts the upload, the deadline
    passes (by the database's clock) and both schedulers look for expired uploads. It was
    approved in time: it starts once and nothing says it expired."""
    a, b = replicas
    row = await submit(a)
    await open_post_page(b, ALICE, KEY)
    answers = Answers(a, ALICE)
    reply = a.slack.hold("chat.postMessage", count=1, thread_ts=row["ts"])
    try:
        await b.driver.submit_view(ALICE, privacy="SELF_ONLY")
        await reply.wait_arrived(timeout=ANSWER_S)  # the approval is written; not yet started
        passed = time.time()
        set_deadline_to_now(a)
        await both_schedulers_passed(a, b, passed)
    finally:
        reply.release()
    said = await answers.of(ALICE)
    assert STARTED in said, said
    await both_schedulers_passed(a, b, time.time())
    assert_started_once(a, row)
    assert a.rows("SELECT * FROM audit WHERE action = 'expire_upload'") == []
    assert_clean_logs(a, b)


def set_deadline_to_now(bot: BotProcess) -> None:
    """The upload's approval deadline is now, by the database's clock."""
    with bot._engine().begin() as conn:  # noqa: SLF001 - the test's own reader
        conn.exec_driver_sql(
            "UPDATE held_uploads SET approve_by = EXTRACT(EPOCH FROM clock_timestamp()) "
            "WHERE upload_key = %(key)s",
            {"key": KEY},
        )


async def test_an_approval_while_the_other_replica_expires_it_is_refused(replicas):
    """The deadline passed; one replica's scheduler is expiring the upload (its card update
    held). ALICE approves on the other replica meanwhile: refused as expired, nothing
    written, never started; the card, the thread and the pipeline say it expired."""
    a, b = replicas
    row = await submit(a)
    for bot, who in ((a, ALICE), (b, CAROL)):
        await open_post_page(bot, who, KEY)
    expiring = a.slack.hold("chat.update", count=1, ts=row["ts"])
    try:
        set_deadline_to_now(a)
        await expiring.wait_arrived(timeout=ANSWER_S)
        held_at = time.time()
        assert held_row(a, KEY)["state"] == "expired"
        # the replica that is not stuck in its expiry makes the next whole pass: ALICE
        # approves there, while the other one still expires the upload
        await wait_until(
            lambda: any(r.passes_begun_after("held.scheduler_pass", held_at) for r in (a, b)),
            ANSWER_S,
            "no scheduler pass on the other replica",
        )
        other = a if a.passes_begun_after("held.scheduler_pass", held_at) else b
        who = ALICE if other is a else CAROL
        answers = Answers(a, who)
        await other.driver.submit_view(who, privacy="SELF_ONLY")
        said = await answers.of(who)
    finally:
        expiring.release()
    assert EXPIRED in said and NOTHING_CHANGED in said, said
    await both_schedulers_passed(a, b, time.time())
    assert approval_rows(a) == []
    assert_never_sent(a, row, "expired")
    assert "expired" in text_of(card(a, row))
    assert any("expired" in t for t in thread(a, row))
    assert not any("approved" in t for t in thread(a, row)), thread(a, row)
    assert_clean_logs(a, b)


async def cancel_on(bot: BotProcess, user_id: str = ADMIN) -> str:
    """`user_id` presses Cancel on the card, through `bot`; what they are told."""
    return text_of(await bot.click("cancel_held", KEY, user_id=user_id))


def assert_cancel_or_start_agree(bot: BotProcess, row: dict, approver: str, canceller: str):
    """Either the cancel won (never sent, and the card, the approver and the canceller say
    so) or the approval did (started once, the cancel changed nothing); never both."""
    if held_row(bot, KEY)["state"] == "cancelled":
        assert_never_sent(bot, row, "cancelled")
        assert "cancelled" in text_of(card(bot, row)).lower()
        assert CANCELLED in canceller and "never sent to TikTok" in canceller, canceller
        assert WAS_CANCELLED in approver, approver
        assert bot.rows("SELECT * FROM audit WHERE action = 'cancel_held'") != []
    else:
        assert_started_once(bot, row)
        assert STARTED in approver, approver
        assert canceller.startswith(NOTHING_CHANGED), canceller
        assert bot.rows("SELECT * FROM audit WHERE action = 'cancel_held'") == []


async def test_cancel_on_one_replica_while_the_approval_on_the_other_is_not_yet_started(
    replicas,
):
    """The approval is in (the upload approved, its start not yet claimed: its thread reply
    held) when Cancel is pressed on the other replica: the cancel wins and nothing is sent."""
    a, b = replicas
    row = await submit(a)
    await open_post_page(a, ALICE, KEY)
    answers = Answers(a, ALICE)
    reply = a.slack.hold("chat.postMessage", count=1, thread_ts=row["ts"])
    try:
        await a.driver.submit_view(ALICE, privacy="SELF_ONLY")
        await reply.wait_arrived(timeout=ANSWER_S)
        canceller = await cancel_on(b)
    finally:
        reply.release()
    approver = await answers.of(ALICE)
    await both_schedulers_passed(a, b, time.time())
    assert held_row(a, KEY)["state"] == "cancelled"
    assert_cancel_or_start_agree(a, row, approver, canceller)
    assert_clean_logs(a, b)


async def test_cancel_on_one_replica_while_the_other_starts_the_approved_upload(replicas):
    """The approval's first card update (the card of whatever the approval did) is held
    when Cancel is pressed on the other replica: whichever won, the card shown at the end,
    the approver's answer and the canceller's agree."""
    a, b = replicas
    row = await submit(a)
    await open_post_page(a, ALICE, KEY)
    answers = Answers(a, ALICE)
    update = a.slack.hold("chat.update", count=1, ts=row["ts"])
    try:
        await a.driver.submit_view(ALICE, privacy="SELF_ONLY")
        await update.wait_arrived(timeout=ANSWER_S)
        canceller = await cancel_on(b)
    finally:
        update.release()
    approver = await answers.of(ALICE)
    await both_schedulers_passed(a, b, time.time())
    assert_cancel_or_start_agree(a, row, approver, canceller)
    assert_clean_logs(a, b)


async def test_approval_and_cancel_pressed_at_once_on_two_replicas(replicas):
    a, b = replicas
    row = await submit(a)
    await open_post_page(a, ALICE, KEY)
    answers = Answers(a, ALICE)
    _, canceller = await asyncio.gather(
        a.driver.submit_view(ALICE, privacy="SELF_ONLY"), cancel_on(b, CAROL)
    )
    approver = await answers.of(ALICE)
    await both_schedulers_passed(a, b, time.time())
    assert_cancel_or_start_agree(a, row, approver, canceller)
    assert_clean_logs(a, b)


async def test_a_counted_approval_never_leaves_a_stale_card(replicas):
    """Two approvals needed. ALICE's (the first) is counted on A, and A's card update
    ("1 of 2") is slow; CAROL's on B makes the count and starts the upload meanwhile. When
    A's update lands last, the card must still end as the started upload, not "waiting"."""
    a, b = replicas
    row = await submit(a, needed=2)
    await open_post_page(a, ALICE, KEY)
    await open_post_page(b, CAROL, KEY)
    answers = Answers(a, ALICE, CAROL)
    update = a.slack.hold("chat.update", count=1, ts=row["ts"])
    try:
        await a.driver.submit_view(ALICE, privacy="SELF_ONLY")
        await update.wait_arrived(timeout=ANSWER_S)
        await b.driver.submit_view(CAROL, privacy="SELF_ONLY")
        assert STARTED in await answers.of(CAROL)
    finally:
        update.release()
    said = await answers.of(ALICE)
    assert COUNTED in said and "is in" in said, said
    await both_schedulers_passed(a, b, time.time())
    assert_started_once(a, row)
    assert_clean_logs(a, b)
