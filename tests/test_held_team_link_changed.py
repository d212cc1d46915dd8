"""A held upload whose team account changed between the announcement and the start.

Relinked to another TikTok account: the start never happens (`account_changed`), nothing
goes to TikTok. Relinked to the same one: it starts. Removed, unreadable (the key rotated
away), no longer offering the post's privacy, or its renewal refused or failing at the start:
each ends said in the announcement and its thread, written in the audit trail, with the
TikTok calls counted here. Only the account_changed words are pinned; the other states are
checked by their state, code and key facts.
"""

from __future__ import annotations

import asyncio
import time

from cryptography.fernet import Fernet

from sandbox.fakes.server import Reply
from tests.conftest import NOTIFY, UPLOAD, buttons, db_execute, text_of
from tests.held_helpers import (
    ADMIN,
    BOB,
    assert_valid_blocks,
    body,
    held_harness,
    msg,
    row,
    submit,
    until,
)
from tests.test_app_home import open_home, view_text
from tests.upload_helpers import thread_posts, updates

# What the announcement and its thread say when the team account was relinked elsewhere.
CHANGED_HEADLINE = (
    "\u201cSpring teaser\u201d was not started: the team account brand is now linked to a "
    "different TikTok account than the one it was announced with (Brand Social TT)."
)
CHANGED_NEXT = (
    "*Next step:* If it should go out as the account brand is linked to now, have your upload "
    "pipeline send the video again with a new upload_key"
)


async def pipeline_status(h, key: str = "run-1", token: str = UPLOAD) -> tuple[int, dict]:
    """GET /uploads/<upload_key>, as the pipeline asks where its upload stands."""
    headers = {"Authorization": f"Bearer {token}"}
    async with h.session.get(f"{h.url}/uploads/{key}", headers=headers) as resp:
        return resp.status, await resp.json()


def calls_since(h, before: int) -> list[str]:
    """The endpoints the fake TikTok was asked for after the first `before` calls."""
    return [c.name for c in h.tiktok.calls[before:]]


def starts(h) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] == "start_held"]


async def held_then(h):
    """The held harness and one upload held for 10 minutes; the TikTok calls made so far."""
    await held_harness(h)
    status, answer = await submit(h, body(hold_s=600))
    assert status == 202
    assert row(h)["open_id"] == "open-brand"  # bound to the account it was announced with
    return answer, len(h.tiktok.calls)


async def relink(h, open_id: str, display_name: str = "Other Brand") -> None:
    removed = await h.command("team remove brand", user_id=ADMIN)
    assert "brand" in text_of(removed)
    await h.link_team("brand", admin=ADMIN, open_id=open_id, display_name=display_name)


def last_update(h, ts: str) -> dict:
    return msg(updates(h, ts)[-1])


async def test_relinked_to_another_tiktok_account_it_never_starts(h):
    answer, _ = await held_then(h)
    await relink(h, "open-other")
    before = len(h.tiktok.calls)

    reply = await h.click("start_held", "run-1", user_id=ADMIN)

    assert CHANGED_HEADLINE in text_of(reply)
    assert calls_since(h, before) == []  # no creator_info, no init, no refresh
    stored = row(h)
    assert (stored["state"], stored["code"], stored["publish_id"]) == (
        "account_changed",
        "account_changed",
        "",
    )
    shown = last_update(h, answer["ts"])
    assert_valid_blocks(shown)
    assert CHANGED_HEADLINE in text_of(shown) and CHANGED_NEXT in text_of(shown)
    assert buttons(shown) == []  # neither Cancel nor Start now: it is over
    (thread,) = thread_posts(h, answer["ts"])
    assert CHANGED_HEADLINE in text_of(msg(thread)) and CHANGED_NEXT in text_of(msg(thread))
    (attempt,) = starts(h)
    assert (attempt["state"], attempt["outcome"], attempt["open_id"]) == (
        "finished",
        "account_changed",
        "open-brand",
    )
    assert attempt["publish_id"] in (None, "")

    again = await h.click("start_held", "run-1", user_id=ADMIN)  # and it stays so
    assert "Nothing changed" in text_of(again)
    assert calls_since(h, before) == [] and len(starts(h)) == 1
    listed = text_of(await h.command("list", user_id=ADMIN))
    assert "Spring teaser" not in listed  # not offered to start any more
    home = view_text(await open_home(h, ADMIN))  # the admin's own trail says it too
    assert "not sent to TikTok: the team account was linked to another TikTok account" in home


async def test_the_schedule_finds_the_account_changed_too(h):
    """No click: the window closes by itself; what the pipeline reads back is the state."""
    answer, _ = await held_then(h)
    await relink(h, "open-other")
    before = len(h.tiktok.calls)
    db_execute(h, "UPDATE held_uploads SET starts_at = ? WHERE upload_key = 'run-1'", time.time())
    await until(lambda: row(h)["state"] == "account_changed")
    await until(lambda: len(thread_posts(h, answer["ts"])) == 1)
    assert calls_since(h, before) == []
    assert CHANGED_HEADLINE in text_of(last_update(h, answer["ts"]))
    assert starts(h)[-1]["source"] == "schedule"
    status, said = await pipeline_status(h)
    assert status == 200
    assert (said["upload_key"], said["state"], said["code"]) == (
        "run-1",
        "account_changed",
        "account_changed",
    )
    assert "publish_id" not in said
    assert said["reason"] == (
        "Not started: the team account brand is now linked to a different TikTok account than "
        "the one it was announced with, so nothing was sent to TikTok. To post it as the "
        "account linked now, send it again with a new upload_key."
    )


async def test_the_pipeline_reads_where_a_held_upload_stands(h):
    answer, _ = await held_then(h)
    status, said = await pipeline_status(h)
    assert status == 200
    assert said == {
        "upload_key": "run-1",
        "channel": "C1",
        "ts": answer["ts"],
        "starts_at": answer["starts_at"],
        "state": "held",
    }
    assert (await pipeline_status(h, token="wrong"))[0] == 401
    assert (await pipeline_status(h, token=NOTIFY))[0] == 401  # NOTIFY_TOKEN only announces
    assert (await pipeline_status(h, key="run-404"))[0] == 404
    await h.click("start_held", "run-1", user_id=BOB)
    status, said = await pipeline_status(h)
    assert said["state"] == "started" and said["publish_id"] == row(h)["publish_id"]
    assert "code" not in said and "reason" not in said


async def test_relinked_to_the_same_tiktok_account_it_starts(h):
    answer, _ = await held_then(h)
    await relink(h, "open-brand", "Brand Social")
    before = len(h.tiktok.calls)
    reply = await h.click("start_held", "run-1", user_id=ADMIN)
    assert "Started" in text_of(reply)
    assert calls_since(h, before) == ["creator_info", "init"]
    assert row(h)["state"] == "started"
    assert [r["outcome"] for r in starts(h)] == ["ok"]


async def test_a_refresh_that_hands_back_a_relinked_account_sends_no_init(h):
    """The team account is relinked while the start's token renewal is on its way: the link
    the renewal returns belongs to another TikTok account, so no init is made with it."""
    answer, _ = await held_then(h)
    db_execute(h, "UPDATE links SET access_expires_at = ? WHERE kind = 'team'", time.time() + 60)
    held = h.tiktok.hold("token", grant_type="refresh_token")
    before = len(h.tiktok.calls)
    clicked = asyncio.ensure_future(h.click("start_held", "run-1", user_id=ADMIN))
    await held.wait_arrived()
    await relink(h, "open-other")
    after_relink = len(h.tiktok.calls)
    held.release()
    reply = await clicked
    assert CHANGED_HEADLINE in text_of(reply)
    assert row(h)["state"] == "account_changed"
    assert calls_since(h, before)[0] == "token"  # the renewal, held while it was relinked
    assert calls_since(h, after_relink) == []  # then nothing: no creator_info, no init
    assert [r["outcome"] for r in starts(h)] == ["account_changed"]


# --- the other ways a start fails before TikTok takes the video ------------------------------


async def test_team_account_removed_before_the_start(h):
    answer, _ = await held_then(h)
    await h.command("team remove brand", user_id=ADMIN)
    before = len(h.tiktok.calls)
    await h.click("start_held", "run-1", user_id=ADMIN)
    assert calls_since(h, before) == []
    assert (row(h)["state"], row(h)["code"]) == ("refused", "no_such_account")
    shown = last_update(h, answer["ts"])
    assert_valid_blocks(shown)
    assert "team connect brand" in text_of(shown)  # the way back: link it again
    assert buttons(shown) == []
    (thread,) = thread_posts(h, answer["ts"])
    assert "team connect brand" in text_of(msg(thread))
    (attempt,) = starts(h)
    assert (attempt["state"], attempt["outcome"]) == ("finished", "no_such_account")


async def test_team_link_unreadable_after_the_key_was_rotated_away(h):
    answer, _ = await held_then(h)
    await h.restart(token_encryption_key=Fernet.generate_key().decode())
    before = len(h.tiktok.calls)
    await h.click("start_held", "run-1", user_id=ADMIN)
    assert calls_since(h, before) == []
    assert (row(h)["state"], row(h)["code"]) == ("refused", "link_unreadable")
    shown = text_of(last_update(h, answer["ts"]))
    assert "team connect brand" in shown
    assert "there is no team account" not in shown  # it exists; it can't be read
    (attempt,) = starts(h)
    assert (attempt["state"], attempt["outcome"]) == ("finished", "link_unreadable")


async def test_team_account_no_longer_offers_the_posts_privacy(h):
    answer, _ = await held_then(h)
    h.tiktok.creator_for("open-brand").privacy_level_options = ["SELF_ONLY"]
    before = len(h.tiktok.calls)
    await h.click("start_held", "run-1", user_id=BOB)
    assert calls_since(h, before) == ["creator_info"]  # asked, and no init
    assert (row(h)["state"], row(h)["code"]) == ("refused", "privacy_level_option_mismatch")
    shown = last_update(h, answer["ts"])
    assert_valid_blocks(shown)
    assert "privacy_level_option_mismatch" in text_of(shown) and buttons(shown) == []
    (thread,) = thread_posts(h, answer["ts"])
    assert "privacy_level_option_mismatch" in text_of(msg(thread))
    (attempt,) = starts(h)
    assert (attempt["state"], attempt["outcome"]) == ("finished", "privacy_level_option_mismatch")


def expire_team_access(h) -> None:
    db_execute(h, "UPDATE links SET access_expires_at = ? WHERE kind = 'team'", time.time() - 10)
    for grant in h.tiktok.grants:
        h.tiktok.expire_access_token(grant.access_token)


async def test_renewal_refused_at_the_start_invalid_grant(h):
    answer, _ = await held_then(h)
    expire_team_access(h)
    h.tiktok.script_error("token", 400, "invalid_grant")
    before = len(h.tiktok.calls)
    await h.click("start_held", "run-1", user_id=BOB)
    assert calls_since(h, before) == ["token"]  # the one renewal; no creator_info, no init
    assert (row(h)["state"], row(h)["code"]) == ("refused", "link_expired")
    shown = last_update(h, answer["ts"])
    assert "team connect brand" in text_of(shown) and buttons(shown) == []
    (attempt,) = starts(h)
    assert (attempt["state"], attempt["outcome"]) == ("finished", "link_expired")


async def test_renewal_failing_at_the_start_5xx_may_be_started_again(h):
    answer, _ = await held_then(h)
    expire_team_access(h)
    h.tiktok.script("token", Reply(503, body="Service Unavailable", content_type="text/plain"))
    before = len(h.tiktok.calls)
    await h.click("start_held", "run-1", user_id=BOB)
    assert calls_since(h, before) == ["token"]
    assert (row(h)["state"], row(h)["code"]) == ("retry", "refresh_unavailable")
    shown = last_update(h, answer["ts"])
    assert [b["action_id"] for b in buttons(shown)] == ["cancel_held", "start_held"]
    assert [r["outcome"] for r in starts(h)] == ["refresh_unavailable"]

    before = len(h.tiktok.calls)  # TikTok renews again: Start now works, one init
    reply = await h.click("start_held", "run-1", user_id=BOB)
    assert "Started" in text_of(reply)
    assert calls_since(h, before) == ["token", "creator_info", "init"]
    assert row(h)["state"] == "started"
    assert [r["outcome"] for r in starts(h)] == ["refresh_unavailable", "ok"]


def test_a_held_upload_stored_before_the_open_id_is_bound_to_the_account_linked_then(settings):
    """The migration that adds `held_uploads.open_id` to a database of the release before
    (SQLite and PostgreSQL): rows already held take the TikTok account their team account
    is linked to; a row whose team account is gone gets '' (it will never start)."""
    import sqlalchemy as sa

    from storage.db import create
    from storage.migrations import migrate

    engine = create(settings.store_url)
    try:
        migrate(engine, settings.database_path if not settings.database_url else None)
        with engine.begin() as conn:  # the database as the release before left it
            conn.execute(sa.text("ALTER TABLE held_uploads DROP COLUMN open_id"))
            conn.execute(sa.text("DELETE FROM schema_migrations WHERE version >= 4"))
            conn.execute(
                sa.text(
                    "INSERT INTO links (team_id, kind, owner, open_id) "
                    "VALUES ('T1', 'team', 'brand', 'open-brand')"
                )
            )
            for key, account in (("old-1", "brand"), ("old-2", "gone")):
                conn.execute(
                    sa.text(
                        "INSERT INTO held_uploads (upload_key, team_id, channel, ts, account, "
                        "source_url, post, video, nickname, hold_s, created_at, starts_at, "
                        "state, updated_at) VALUES (:k, 'T1', 'C1', '1.2', :a, "
                        "'https://x.example/v.mp4', '{}', '{}', '', 60, 0, 60, 'held', 0)"
                    ),
                    {"k": key, "a": account},
                )
        assert migrate(engine) == 8  # steps 4 to 8 ran again
        with engine.connect() as conn:
            bound = conn.execute(
                sa.text("SELECT upload_key, open_id FROM held_uploads ORDER BY upload_key")
            ).all()
        assert [tuple(r) for r in bound] == [("old-1", "open-brand"), ("old-2", "")]
    finally:
        engine.dispose()


async def test_the_pipelines_status_route_is_off_while_its_token_is_unset(h):
    await h.restart(notify_token=NOTIFY)  # NOTIFY_TOKEN alone does not open it
    for headers in ({}, {"Authorization": f"Bearer {NOTIFY}"}):
        async with h.session.get(f"{h.url}/uploads/run-1", headers=headers) as resp:
            assert resp.status == 404
