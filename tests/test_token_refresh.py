"""Token refresh: renewing a link's access token with its refresh token. Before a cancel when
it is about to expire, or once when TikTok refuses it, the rotated pair stored; one refresh
shared by concurrent cancels (a person's link or a team account).

A refresh that fails must not cost anyone their link: every fault of TikTok's token endpoint,
with an access token that still works (near expiry) and with one that has expired, through the
real `/tiktok-cancel <id>` over HTTP. Then the races: a refresh that loses to a relink never
deletes the winner, and one that returns after disconnect, relink or `team remove` never writes.

Each test reads what the person sees, the audit row, and the `links` table.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from cryptography.fernet import Fernet
from slack_sdk.models.blocks import Block

from sandbox.fakes.server import Reply
from sandbox.fakes.tiktok import oauth_error
from tests.accounts import (
    ADMIN,
    BOB,
    CAROL,
    assert_connect_button,
    cancel_calls,
    cancel_rows,
    current_grant,
    decrypt,
    grant_of,
    stored_tokens,
    team_links,
    team_with_bob,
)
from tests.conftest import (
    NOTIFY,
    buttons,
    db_bytes,
    db_execute,
    db_rows,
    text_of,
)
from tests.upload_helpers import wait_until

PID = "v_pub_url~v2.555000111"
PID2 = "v_pub_url~v2.987654321"

# What a person reads when TikTok had trouble renewing (their link is kept).
UNAVAILABLE = "TikTok is having trouble renewing our access to Brand Social."
MISCONFIGURED = (
    "TikTok didn't accept this bot's own TikTok app settings when we renewed our access to"
)
STILL_RUNNING_YES = (
    "*Still running:* yes \u2014 nothing was sent to TikTok, so it carries on unless TikTok has "
    "already finished it"
)


def html_page() -> Reply:
    return Reply(200, body="<html><body>Gateway</body></html>", content_type="text/html")


# Each fault: how the token endpoint answers, and the code the bot's log/audit should carry.
FAULTS = {
    "503-plain": lambda: Reply(503, body="Service Unavailable", content_type="text/plain"),
    "500-oauth-shape": lambda: Reply(500, json=oauth_error("server_error", "try later")),
    "429": lambda: Reply(429, json=oauth_error("rate_limit_exceeded", "slow down")),
    "non-json": html_page,
    "hang": lambda: Reply(hang=True),
    "reset-mid-body": lambda: Reply(200, json={"access_token": "x" * 80}, reset=True),
    "unknown-code": lambda: Reply(400, json=oauth_error("brand_new_code_2027", "new")),
}


def links(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM links ORDER BY kind, owner")


def tombstones(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM forgotten_links ORDER BY kind, owner")


def stored_refresh_token(h, kind: str = "user", owner: str = "U1") -> str:
    (row,) = db_rows(h, "SELECT * FROM links WHERE kind = ? AND owner = ?", kind, owner)
    fernet = Fernet(h.settings.token_encryption_key.encode())
    return fernet.decrypt(row["refresh_token"].encode()).decode()


def refresh_calls(h) -> list:
    return [c for c in h.tiktok.calls_to("token") if c.body.get("grant_type") == "refresh_token"]


def age_access_token(h, state: str, kind: str = "user") -> None:
    """`near`: 2 minutes left (still works at TikTok); `expired`: gone at TikTok and here."""
    sql = "UPDATE links SET access_expires_at = ? WHERE kind = ?"
    if state == "near":
        db_execute(h, sql, time.time() + 120, kind)
        return
    db_execute(h, sql, time.time() - 10, kind)
    for grant in h.tiktok.grants:
        h.tiktok.expire_access_token(grant.access_token)


def cancels(h) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] == "cancel"]


@pytest.fixture
async def linked(h):
    await h.restart(admin_users=frozenset({ADMIN}))
    await h.link("U1", "open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    return h


# --- a refresh that works: once, before the cancel or after a refusal, shared --------------------


async def test_access_token_invalid_says_renewal_worked_and_tiktok_still_refused(h):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script_error("cancel", 401, "access_token_invalid", times=2)
    text = text_of(await h.command(PID))
    refreshes = [c for c in h.tiktok.calls_to("token") if c.body["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1, "renewed once before bothering anyone"
    assert "We renewed the access, which worked, and TikTok still refused it" in text
    assert "Still running:* yes" in text


async def test_access_token_invalid_refreshes_once_retries_and_stores_the_rotated_pair(h):
    await h.link("U1", "open-1", "Brand Social")
    old = current_grant(h)
    h.tiktok.expire_access_token(old.access_token)
    h.tiktok.add_upload(PID, open_id="open-1")
    h.tiktok.add_upload(PID2, open_id="open-1")

    answer = await h.command(PID)

    assert "TikTok is stopping" in text_of(answer)
    flow = [c for c in h.tiktok.calls if c.name == "cancel" or c in refresh_calls(h)]
    assert [(c.name, c.status) for c in flow] == [("cancel", 401), ("token", 200), ("cancel", 200)]
    assert flow[0].response["error"]["code"] == "access_token_invalid"
    assert flow[1].body["refresh_token"] == old.refresh_token
    new = current_grant(h)
    assert new is not old
    assert flow[2].token == new.access_token
    assert h.tiktok.refresh_count == 1
    assert stored_tokens(h) == (new.access_token, new.refresh_token)
    assert h.tiktok.grant_for(old.refresh_token).refresh_revoked  # rotated: old one is dead
    raw = db_bytes(h)
    assert new.access_token.encode() not in raw and new.refresh_token.encode() not in raw
    assert h.last_audit()["outcome"] == "ok"

    second = await h.command(PID2)

    assert "TikTok is stopping" in text_of(second)
    assert h.tiktok.refresh_count == 1
    last_cancel = h.tiktok.calls_to("cancel")[-1]
    assert (last_cancel.token, last_cancel.status) == (new.access_token, 200)
    assert len(h.tiktok.calls_to("cancel")) == 3


async def test_refresh_refused_tells_the_person_to_reconnect(h):
    await h.link("U1", "open-1", "Brand Social")
    h.tiktok.expire_access_token(current_grant(h).access_token)
    h.tiktok.script_error("token", 400, "invalid_grant")
    h.tiktok.add_upload(PID, open_id="open-1")

    answer = await h.command(PID)

    text = text_of(answer)
    assert "your TikTok link stopped working and needs to be made again" in text
    assert "Still running:* yes" in text
    assert_connect_button(h, answer)
    assert len(refresh_calls(h)) == 1
    assert len(h.tiktok.calls_to("cancel")) == 1  # the refused one; no retry without a token
    entry = h.last_audit()
    assert (entry["action"], entry["outcome"], entry["publish_id"]) == (
        "cancel",
        "link_expired",
        PID,
    )
    assert h.tiktok.uploads[PID].status == "PROCESSING_DOWNLOAD"


async def test_token_about_to_expire_is_refreshed_before_the_cancel(h):
    await h.link("U1", "open-1", "Brand Social")
    old = current_grant(h)
    db_execute(h, "UPDATE links SET access_expires_at = ?", time.time() + 120)
    h.tiktok.add_upload(PID, open_id="open-1")

    answer = await h.command(PID)

    assert "TikTok is stopping" in text_of(answer)
    flow = [c for c in h.tiktok.calls if c.name == "cancel" or c in refresh_calls(h)]
    assert [(c.name, c.status) for c in flow] == [("token", 200), ("cancel", 200)]
    assert flow[0].body["refresh_token"] == old.refresh_token
    new = current_grant(h)
    assert flow[1].token == new.access_token
    assert stored_tokens(h) == (new.access_token, new.refresh_token)
    (row,) = links(h)
    assert row["access_expires_at"] == pytest.approx(time.time() + 86400, abs=60)


async def test_concurrent_cancels_of_one_user_share_a_single_refresh(h):
    await h.link("U1", "open-1", "Brand Social")
    h.tiktok.expire_access_token(current_grant(h).access_token)
    h.tiktok.add_upload(PID, open_id="open-1")
    h.tiktok.add_upload(PID2, open_id="open-1")

    first, second = await asyncio.gather(h.command(PID), h.command(PID2))

    assert "TikTok is stopping" in text_of(first)
    assert "TikTok is stopping" in text_of(second)
    assert h.tiktok.refresh_count == 1
    assert len(refresh_calls(h)) == 1
    new = current_grant(h)
    ok = [c for c in h.tiktok.calls_to("cancel") if c.status == 200]
    assert sorted(c.body["publish_id"] for c in ok) == sorted([PID, PID2])
    assert {c.token for c in ok} == {new.access_token}
    assert stored_tokens(h) == (new.access_token, new.refresh_token)
    outcomes = [r["outcome"] for r in h.audit_rows() if r["action"] == "cancel"]
    assert outcomes == ["ok", "ok"]


async def test_a_refused_refresh_forgets_the_dead_link(h):
    await h.link()
    (grant,) = h.tiktok.grants
    h.tiktok.expire_access_token(grant.access_token)
    h.tiktok.script_error("token", 400, "invalid_grant")
    await h.command("v_pub_url~v2.1")
    assert links(h) == []
    answer = await h.command("whoami")
    text = text_of(answer)
    assert "haven't linked" not in text  # the bot forgot it: it stopped working
    assert "Your TikTok link to *Brand Social* stopped working" in text
    assert "TikTok refused to renew it" in text
    assert_connect_button(h, answer)


# --- a shared refresh of a team account ----------------------------------------------------------


@pytest.fixture
async def ha(h):
    """The harness with UADMIN in ADMIN_USERS and POST /notifications enabled."""
    await h.restart(admin_users=frozenset({ADMIN}), notify_token=NOTIFY)
    return h


async def test_two_people_using_one_stale_team_token_share_one_refresh(ha):
    h = ha
    await team_with_bob(h)
    await h.command(f"team grant brand <@{CAROL}>", user_id=ADMIN)
    stale = grant_of(h, "open-brand")
    h.tiktok.expire_access_token(stale.access_token)
    h.tiktok.add_upload(PID, open_id="open-brand")
    h.tiktok.add_upload(PID2, open_id="open-brand")

    first, second = await asyncio.gather(
        h.command(f"as brand {PID}", user_id=BOB),
        h.command(f"as brand {PID2}", user_id=CAROL),
    )

    assert "TikTok is stopping" in text_of(first)
    assert "TikTok is stopping" in text_of(second)
    assert h.tiktok.refresh_count == 1
    assert len(refresh_calls(h)) == 1
    fresh = grant_of(h, "open-brand")
    assert fresh.access_token != stale.access_token
    ok = [c for c in cancel_calls(h) if c.status == 200]
    assert sorted(c.body["publish_id"] for c in ok) == sorted([PID, PID2])
    assert {c.token for c in ok} == {fresh.access_token}
    (row,) = team_links(h)
    assert decrypt(h, row["access_token"]) == fresh.access_token
    assert decrypt(h, row["refresh_token"]) == fresh.refresh_token
    assert [r["outcome"] for r in cancel_rows(h)] == ["ok", "ok"]


async def test_a_dead_team_link_points_at_the_admins_not_at_the_users_own_connect(ha):
    """TikTok refuses the team account's refresh token: the granted user can't fix that by
    linking their own account; an admin has to run `team connect brand` again."""
    h = ha
    await team_with_bob(h)
    h.tiktok.expire_access_token(grant_of(h, "open-brand").access_token)
    h.tiktok.script_error("token", 400, "invalid_grant")
    h.tiktok.add_upload(PID, open_id="open-brand")

    answer = await h.command(f"as brand {PID}", user_id=BOB)

    shown = text_of(answer)
    assert "Couldn't cancel" in shown
    assert [b for b in buttons(answer) if b.get("action_id") == "connect_tiktok"] == []
    assert "brand" in shown.replace("`", "")
    assert f"<@{ADMIN}>" in shown  # who can link it again
    assert db_rows(h, "SELECT * FROM oauth_states WHERE user_id = ?", BOB) == []


# --- every fault, with a token that still works: the cancel goes through on it ----------------


@pytest.mark.parametrize("fault", [*FAULTS, "invalid_client"])
async def test_refresh_fault_with_a_still_valid_token_cancels_and_keeps_the_link(linked, fault):
    h = linked
    refresh_token = stored_refresh_token(h)
    age_access_token(h, "near")
    if fault == "invalid_client":
        h.tiktok.script_error("token", 401, "invalid_client")
    else:
        h.tiktok.script("token", FAULTS[fault]())

    answer = await h.command(PID)

    text = text_of(answer)
    assert "TikTok is stopping" in text, text
    assert len(refresh_calls(h)) == 1
    (cancel,) = h.tiktok.calls_to("cancel")
    assert cancel.status == 200
    assert h.tiktok.uploads[PID].status == "FAILED"
    (row,) = links(h)
    assert row["owner"] == "U1" and row["open_id"] == "open-1"
    assert stored_refresh_token(h) == refresh_token  # kept as it was
    assert tombstones(h) == []
    assert cancels(h)[-1]["outcome"] == "ok"


# --- every fault, with an expired token: nothing is sent, the link is kept, asking again works --


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_refresh_fault_with_an_expired_token_keeps_the_link_and_says_tiktok_has_trouble(
    linked, fault
):
    h = linked
    refresh_token = stored_refresh_token(h)
    age_access_token(h, "expired")
    h.tiktok.script("token", FAULTS[fault]())

    answer = await h.command(PID)

    text = text_of(answer)
    assert f"Couldn't cancel upload `{PID}`: {UNAVAILABLE}" in text, text
    assert "Your link is kept" in text
    assert "asking again is safe" in text
    assert STILL_RUNNING_YES in text
    assert "haven't linked" not in text and "expired" not in text
    assert not [b for b in buttons(answer) if b.get("action_id") == "connect_tiktok"]
    assert h.tiktok.calls_to("cancel") == []  # the cancel was never sent
    assert h.tiktok.uploads[PID].status == "PROCESSING_DOWNLOAD"
    entry = cancels(h)[-1]
    assert (entry["outcome"], entry["publish_id"], entry["state"]) == (
        "refresh_unavailable",
        PID,
        "finished",
    )
    assert entry["account"] == "Brand Social"
    (row,) = links(h)
    assert row["owner"] == "U1"
    assert stored_refresh_token(h) == refresh_token
    assert tombstones(h) == []

    # TikTok is fine again: asking again cancels, with the same link.
    again = await h.command(PID)

    assert "TikTok is stopping" in text_of(again)
    assert h.tiktok.uploads[PID].status == "FAILED"
    assert [r["outcome"] for r in cancels(h)] == ["refresh_unavailable", "ok"]
    assert len(links(h)) == 1


async def test_invalid_client_keeps_the_link_and_names_the_admins(linked):
    h = linked
    refresh_token = stored_refresh_token(h)
    age_access_token(h, "expired")
    h.tiktok.script_error("token", 401, "invalid_client")

    answer = await h.command(PID)

    text = text_of(answer)
    assert f"Couldn't cancel upload `{PID}`: {MISCONFIGURED} Brand Social." in text, text
    assert "our configuration, not your account: your link is kept" in text
    assert "TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET" in text
    assert f"Ask an admin (<@{ADMIN}>) to check TIKTOK_CLIENT_KEY" in text
    assert STILL_RUNNING_YES in text
    assert "the person who installed" not in text
    for block in answer["blocks"]:
        Block.parse(block).validate_json()
    assert h.tiktok.calls_to("cancel") == []
    assert cancels(h)[-1]["outcome"] == "refresh_misconfigured"
    assert len(links(h)) == 1
    assert stored_refresh_token(h) == refresh_token
    assert tombstones(h) == []


async def test_invalid_client_on_a_status_check_names_the_admins_too(linked):
    h = linked
    age_access_token(h, "expired")
    h.tiktok.script_error("token", 401, "invalid_client")

    answer = await h.command(f"status {PID}")

    text = text_of(answer)
    assert f"Couldn't check upload `{PID}`: {MISCONFIGURED} Brand Social." in text
    assert f"Ask an admin (<@{ADMIN}>) to check TIKTOK_CLIENT_KEY" in text
    assert h.tiktok.calls_to("status") == []
    assert len(links(h)) == 1


async def test_status_check_during_a_refresh_outage_keeps_the_link(linked):
    h = linked
    age_access_token(h, "expired")
    h.tiktok.script("token", Reply(502, body="Bad Gateway", content_type="text/html"))

    answer = await h.command(f"status {PID}")

    assert f"Couldn't check upload `{PID}`: {UNAVAILABLE}" in text_of(answer)
    assert h.tiktok.calls_to("status") == []
    assert len(links(h)) == 1 and tombstones(h) == []


async def test_tiktok_unreachable_keeps_the_link(linked):
    h = linked
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    await h.restart(tiktok_api_url=closed, admin_users=frozenset({ADMIN}))
    age_access_token(h, "expired")

    answer = await h.command(PID)

    text = text_of(answer)
    assert UNAVAILABLE in text and STILL_RUNNING_YES in text
    assert cancels(h)[-1]["outcome"] == "refresh_unavailable"
    assert len(links(h)) == 1 and tombstones(h) == []


# --- invalid_grant: the one definite refusal -------------------------------------------------


async def test_invalid_grant_with_an_expired_token_forgets_the_link_and_says_so(linked):
    h = linked
    age_access_token(h, "expired")
    h.tiktok.script_error("token", 400, "invalid_grant")

    answer = await h.command(PID)

    text = text_of(answer)
    assert (
        f"Couldn't cancel upload `{PID}`: your TikTok link stopped working and needs to be "
        "made again." in text
    )
    assert "*Still running:* yes" in text
    assert [b for b in buttons(answer) if b.get("action_id") == "connect_tiktok"]
    assert h.tiktok.calls_to("cancel") == []
    assert cancels(h)[-1]["outcome"] == "link_expired"
    assert links(h) == []
    (tomb,) = tombstones(h)
    assert (tomb["kind"], tomb["owner"], tomb["reason"]) == ("user", "U1", "refresh_refused")
    assert tomb["display_name"] == "Brand Social"

    # Asking again: not "you haven't linked a TikTok account yet", and no TikTok call.
    calls = len(h.tiktok.calls)
    again = await h.command(PID)

    text = text_of(again)
    assert "haven't linked" not in text
    assert "your TikTok link stopped working and needs to be made again" in text
    assert [b for b in buttons(again) if b.get("action_id") == "connect_tiktok"]
    assert len(h.tiktok.calls) == calls
    assert cancels(h)[-1]["outcome"] == "link_expired"


async def test_invalid_grant_with_a_still_valid_token_cancels_then_forgets_the_link(linked):
    h = linked
    age_access_token(h, "near")
    h.tiktok.script_error("token", 400, "invalid_grant")

    answer = await h.command(PID)

    assert "TikTok is stopping" in text_of(answer)  # the token still worked: the cancel went out
    assert h.tiktok.uploads[PID].status == "FAILED"
    assert links(h) == []  # but TikTok refused the refresh token: the link is dead
    assert [t["reason"] for t in tombstones(h)] == ["refresh_refused"]
    whoami = text_of(await h.command("whoami"))
    assert "Your TikTok link to *Brand Social* stopped working" in whoami
    assert "haven't linked" not in whoami


async def test_relinking_after_a_forgotten_link_clears_the_tombstone(linked):
    h = linked
    age_access_token(h, "expired")
    h.tiktok.script_error("token", 400, "invalid_grant")
    await h.command(PID)
    assert tombstones(h)

    await h.link("U1", "open-1", "Brand Social")

    assert tombstones(h) == []
    assert "TikTok is stopping" in text_of(await h.command(PID))


# --- team accounts ---------------------------------------------------------------------------


@pytest.fixture
async def team(h):
    await h.restart(admin_users=frozenset({ADMIN}))
    await h.link_team("brand", ADMIN, "open-brand", "Brand Team")
    await h.command("team grant brand <@U2>", user_id=ADMIN)
    h.tiktok.add_upload(PID, open_id="open-brand")
    return h


async def test_team_account_refresh_outage_keeps_the_team_link(team):
    h = team
    age_access_token(h, "expired", kind="team")
    h.tiktok.script("token", Reply(503, body="down", content_type="text/plain"))

    answer = await h.command(f"as brand {PID}", user_id="U2")

    text = text_of(answer)
    assert "TikTok is having trouble renewing our access to Brand Team." in text
    assert STILL_RUNNING_YES in text
    assert [r["owner"] for r in links(h)] == ["brand"]
    assert cancels(h)[-1]["outcome"] == "refresh_unavailable"
    assert "TikTok is stopping" in text_of(await h.command(f"as brand {PID}", user_id="U2"))


async def test_team_account_refused_refresh_says_relink_not_no_such_account(team):
    h = team
    age_access_token(h, "expired", kind="team")
    h.tiktok.script_error("token", 400, "invalid_grant")

    first = text_of(await h.command(f"as brand {PID}", user_id="U2"))
    assert "the team account brand stopped working and needs to be linked again" in first
    assert links(h) == []
    second = text_of(await h.command(f"as brand {PID}", user_id="U2"))

    assert "the team account brand stopped working and needs to be linked again" in second
    assert "there is no team account" not in second
    assert f"<@{ADMIN}>" in second  # who can link it again
    first_row, second_row = cancels(h)[-2:]
    assert (first_row["outcome"], first_row["account_kind"]) == ("link_expired", "team")
    assert second_row["outcome"] == "team_link_expired"  # nothing sent: the bot knew


# --- races: driven by holding TikTok's token endpoint ---------------------------------------


@pytest.fixture
async def racing(h):
    """Longer TikTok timeouts, so a held refresh waits for the test and not for the clock."""
    await h.restart(
        admin_users=frozenset({ADMIN}), tiktok_request_timeout=8.0, cancel_deadline=12.0
    )
    await h.link("U1", "open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    return h


async def held_cancel(h, text: str, user_id: str = "U1"):
    """Start `/tiktok-cancel <text>` with refreshes held; returns (hold, response_url)."""
    hold = h.tiktok.hold("token", grant_type="refresh_token")
    started = await h.command(text, user_id=user_id, wait=False)
    await hold.wait_arrived()
    return hold, started["response_url"]


async def answer_of(h, url: str) -> dict:
    (answer,) = await h.slack.wait_for_responses(url, 1, timeout=20)
    return answer


async def test_a_refused_refresh_that_lost_to_a_relink_never_deletes_the_winner(racing):
    h = racing
    age_access_token(h, "expired")
    hold, url = await held_cancel(h, PID)
    await h.link("U1", "open-1", "Brand Social")  # a newer link, made while the refresh waits
    newer = stored_refresh_token(h)
    h.tiktok.script_error("token", 400, "invalid_grant")  # the held refresh is refused

    hold.release()
    answer = await answer_of(h, url)

    assert "TikTok is stopping" in text_of(answer)  # carried on with the winner
    (row,) = links(h)
    assert row["owner"] == "U1"
    assert stored_refresh_token(h) == newer
    assert tombstones(h) == []
    assert cancels(h)[-1]["outcome"] == "ok"


async def test_a_refusal_never_deletes_the_pair_another_replica_is_storing(racing, caplog):
    """Two replicas refresh the same token: TikTok renews one and refuses the other. The
    refused one must not delete the link while the winner is still storing its new pair."""
    h = racing
    caplog.set_level("INFO", logger="bot.accounts.tokens")
    age_access_token(h, "expired")
    hold, url = await held_cancel(h, PID)
    winner = h.tiktok.issue_token("open-1")  # what the other replica's refresh got
    h.tiktok.script_error("token", 400, "invalid_grant")

    hold.release()
    await wait_until(  # our refusal is in (the bot logs it); the other replica stores its pair
        lambda: any(r.getMessage() == "tiktok.refresh_failed" for r in caplog.records),
        what="the refused refresh",
    )
    fernet = Fernet(h.settings.token_encryption_key.encode())
    db_execute(
        h,
        "UPDATE links SET access_token = ?, refresh_token = ?, access_expires_at = ? "
        "WHERE kind = 'user' AND owner = 'U1'",
        fernet.encrypt(winner.access_token.encode()).decode(),
        fernet.encrypt(winner.refresh_token.encode()).decode(),
        time.time() + 86400,
    )
    answer = await answer_of(h, url)

    assert "TikTok is stopping" in text_of(answer)  # with the winner's token
    assert h.tiktok.calls_to("cancel")[-1].token == winner.access_token
    assert stored_refresh_token(h) == winner.refresh_token
    assert tombstones(h) == []


async def test_a_refresh_that_returns_after_disconnect_never_brings_the_link_back(racing):
    h = racing
    age_access_token(h, "expired")
    hold, url = await held_cancel(h, PID)
    disconnected = text_of(await h.command("disconnect"))
    assert "Unlinked" in disconnected
    h.tiktok.script("token", h.tiktok.token_reply("open-1"))  # TikTok renews all the same

    hold.release()
    answer = await answer_of(h, url)

    assert links(h) == []
    assert tombstones(h) == []  # unlinked on purpose: no "stopped working"
    assert "haven't linked a TikTok account" in text_of(answer)
    assert h.tiktok.calls_to("cancel") == []
    assert "haven't linked" in text_of(await h.command("whoami"))


async def test_a_status_check_whose_link_was_unlinked_meanwhile_offers_to_link_again(racing):
    """The same race on `status`: the link is gone by the time the refresh returns, so the
    answer offers Connect, as a cancel's does, and never says linking isn't set up."""
    h = racing
    age_access_token(h, "expired")
    hold, url = await held_cancel(h, f"status {PID}")
    assert "Unlinked" in text_of(await h.command("disconnect"))
    h.tiktok.script("token", h.tiktok.token_reply("open-1"))

    hold.release()
    answer = await answer_of(h, url)

    assert "haven't linked a TikTok account" in text_of(answer)
    (connect,) = [b for b in buttons(answer) if b.get("text", {}).get("text") == "Connect TikTok"]
    assert connect["url"].startswith(h.settings.tiktok_authorize_url + "?")
    assert "Linking isn't set up" not in text_of(answer)
    assert h.tiktok.calls_to("status") == []


async def test_a_refresh_that_returns_after_a_relink_never_overwrites_the_new_link(racing):
    h = racing
    h.tiktok.add_user("open-2", "Second Account")
    age_access_token(h, "expired")
    hold, url = await held_cancel(h, PID)
    await h.link("U1", "open-2", "Second Account")
    newer = stored_refresh_token(h)
    h.tiktok.script("token", h.tiktok.token_reply("open-1"))  # the old account's renewal

    hold.release()
    await answer_of(h, url)

    (row,) = links(h)
    assert (row["open_id"], row["display_name"]) == ("open-2", "Second Account")
    assert stored_refresh_token(h) == newer
    whoami = text_of(await h.command("whoami"))
    assert "Second Account" in whoami and "open-2" in whoami


async def test_a_refresh_that_returns_after_team_remove_never_brings_the_team_account_back(
    racing,
):
    h = racing
    await h.link_team("brand", ADMIN, "open-brand", "Brand Team")
    await h.command("team grant brand <@U2>", user_id=ADMIN)
    h.tiktok.add_upload("v_pub_url~v2.777", open_id="open-brand")
    age_access_token(h, "expired", kind="team")
    hold, url = await held_cancel(h, "as brand v_pub_url~v2.777", user_id="U2")
    removed = text_of(await h.command("team remove brand", user_id=ADMIN))
    assert "Removed" in removed
    h.tiktok.script("token", h.tiktok.token_reply("open-brand"))

    hold.release()
    await answer_of(h, url)

    assert [r["kind"] for r in links(h)] == ["user"]  # U1's own link only
    accounts = text_of(await h.command("accounts", user_id=ADMIN))
    assert "No team accounts are linked yet." in accounts
