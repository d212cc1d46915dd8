"""A workspace that uninstalls the app (or revokes the bot's token) is forgotten, in either event
order: its Slack tokens at once, its held uploads cancelled (never started), its TikTok links
revoked at TikTok and deleted, its settings and pipeline tokens gone; its audit kept, retired,
for AUDIT_RETENTION_DAYS. The other workspace is untouched. A reinstall starts clean."""

from __future__ import annotations

import json

import pytest

from tests.conftest import db_execute, db_rows
from tests.held_helpers import body, submit, until
from tests.workspaces_helpers import install, many_workspaces, pipeline_token, store_link

TA = "T0001"  # the fake Slack's default workspace
TB = "TB0002"
FORGOTTEN = "workspace_forgotten"


@pytest.fixture
async def two(h):
    """Many workspaces: TA (the fake's default) and TB installed, each with a team account
    "brand", a person's own link for U1, a pipeline token and an upload held for ten minutes
    under the same upload_key."""
    await many_workspaces(h)
    workspace = h.slack.add_workspace(TB, "Beta")
    await install(h, TB, workspace.bot_token, "Beta")
    h.grants = {}
    h.pipeline = {}
    for team, tag in ((TA, "a"), (TB, "b")):
        h.grants[team] = await store_link(h, team, "team", "brand", f"open-brand-{tag}")
        await store_link(h, team, "user", "U1", f"open-u1-{tag}")
        h.pipeline[team] = await pipeline_token(h, team)
        status, answer = await submit(h, body(hold_s=600), token=h.pipeline[team])
        assert status == 202, answer
    return h


def forgotten_entries(h, team_id: str) -> list[dict]:
    return db_rows(h, "SELECT * FROM audit WHERE team_id = ? AND action = ?", team_id, FORGOTTEN)


async def forgotten(h, team_id: str) -> None:
    """Until the workspace's forgetting finished (its last act: the links revoked at TikTok)."""
    await until(lambda: forgotten_entries(h, team_id))
    tag = "-a" if team_id == TA else "-b"
    tokens = {g.access_token for g in h.tiktok.grants if g.open_id.endswith(tag)}
    await until(lambda: tokens <= set(h.tiktok.revoked))


def rows_of(h, table: str, team_id: str) -> list[dict]:
    return db_rows(h, f"SELECT * FROM {table} WHERE team_id = ?", team_id)


def assert_untouched(h, team_id: str) -> None:
    assert len(rows_of(h, "slack_installations", team_id)) == 1
    assert len(rows_of(h, "links", team_id)) == 2
    assert [r["state"] for r in rows_of(h, "held_uploads", team_id)] == ["held"]
    assert len(rows_of(h, "pipeline_tokens", team_id)) == 1
    assert all(r["retired_at"] is None for r in rows_of(h, "audit", team_id))


def assert_forgotten(h, team_id: str) -> None:
    for table in (
        "slack_installations",
        "links",
        "held_uploads",
        "pipeline_tokens",
        "workspace_settings",
        "grants",
        "announcements",
    ):
        assert rows_of(h, table, team_id) == [], table
    entries = rows_of(h, "audit", team_id)
    assert entries and all(r["retired_at"] is not None for r in entries)
    (cancelled,) = [r for r in entries if r["action"] == "cancel_held"]
    assert cancelled["outcome"] == "held_back" and cancelled["source"] == "uninstall"
    assert "run-1" in cancelled["reason"]
    assert len(forgotten_entries(h, team_id)) == 1


@pytest.mark.parametrize(
    "order",
    [("app_uninstalled", "tokens_revoked"), ("tokens_revoked", "app_uninstalled")],
    ids=["uninstalled-first", "revoked-first"],
)
async def test_uninstall_forgets_the_workspace_in_either_event_order(two, order):
    h = two
    statuses = await h.driver.uninstall(TB, order=order)
    assert statuses == [200, 200]
    await forgotten(h, TB)
    assert_forgotten(h, TB)
    assert_untouched(h, TA)
    # both of TB's TikTok links were revoked at TikTok; none of TA's
    revoked = set(h.tiktok.revoked)
    tb_grants = [g for g in h.tiktok.grants if g.open_id.endswith("-b")]
    ta_grants = [g for g in h.tiktok.grants if g.open_id.endswith("-a")]
    assert {g.access_token for g in tb_grants} <= revoked
    assert not {g.access_token for g in ta_grants} & revoked
    # nothing was ever sent to TikTok to start TB's held upload
    assert h.tiktok.calls_to("post/publish/video/init") == []


async def test_the_second_event_finds_nothing_left_to_forget(two):
    h = two
    await h.driver.send_app_uninstalled(TB)
    await forgotten(h, TB)
    assert await h.driver.send_tokens_revoked(TB) == 200
    await h.stop()  # finishes the work the acked events started
    assert len(forgotten_entries(h, TB)) == 1
    assert_forgotten(h, TB)
    assert_untouched(h, TA)


async def test_a_user_token_revoked_forgets_nothing(two):
    h = two
    assert await h.driver.send_tokens_revoked(TB, oauth=["U1"]) == 200
    await h.stop()  # finishes the work the acked event started
    assert_untouched(h, TB)


async def test_a_link_mid_refresh_is_not_kept_and_its_new_pair_is_revoked(two):
    h = two
    old = await store_link(h, TB, "user", "U2", "open-u2-b", expires_in=5)  # refreshed on use
    # TikTok's answer to the refresh: a new pair, issued now, its delivery held
    h.tiktok.script("token", h.tiktok.token_reply("open-u2-b"))
    renewed = h.tiktok.grants[-1]
    held = h.tiktok.hold("token", grant_type="refresh_token")
    try:
        sent = await h.driver.send_command("status v_pub_url~v2.42", team_id=TB, user_id="U2")
        assert sent.status == 200
        await held.wait_arrived()  # TikTok has the refresh; its answer is held
        await h.driver.uninstall(TB)
        await until(lambda: forgotten_entries(h, TB))
        await until(lambda: old.access_token in h.tiktok.revoked)
    finally:
        held.release()
    # the pair TikTok gave for the refresh is never stored, and is revoked too
    await until(lambda: renewed.access_token in h.tiktok.revoked)
    assert rows_of(h, "links", TB) == []
    assert_untouched(h, TA)


async def test_after_uninstall_the_pipeline_token_and_commands_stop_working(two):
    h = two
    await h.driver.uninstall(TB)
    await forgotten(h, TB)
    status, _ = await submit(h, body(key="run-2"), token=h.pipeline[TB])
    assert status == 401
    async with h.session.get(
        h.url + "/uploads/run-1", headers={"Authorization": f"Bearer {h.pipeline[TB]}"}
    ) as resp:
        assert resp.status == 401
    before = len(h.slack.calls)
    sent = await h.driver.send_command("help", team_id=TB, user_id="U1")
    assert sent.status == 200  # Bolt answers "not installed" itself; the bot acts on nothing
    answer = await h.command("whoami")  # a later request, from TA
    assert "open-u1-a" in json.dumps(answer)
    assert [c for c in h.slack.calls[before:] if c.token_team == TB] == []


async def test_a_reinstall_starts_clean_and_the_old_audit_stays_for_export(two):
    h = two
    await h.driver.send_command("whoami", team_id=TB, user_id="U1")  # an entry in U1's Home
    await h.driver.uninstall(TB)
    await forgotten(h, TB)
    again = h.slack.install_tokens(h.slack.workspace(TB), ["commands", "chat:write"])
    await install(h, TB, again["access_token"], "Beta")
    assert await h.driver.open_home("U1", team_id=TB) == 200
    await until(lambda: [c for c in h.slack.calls_to("views.publish") if c.team_id == TB])
    (view,) = [c for c in h.slack.calls_to("views.publish") if c.team_id == TB]
    shown = json.dumps(view.params)
    assert "Your last" not in shown  # the retired entries are never shown in Slack again
    assert "Connect" in shown  # no link: U1 is asked to connect again
    assert rows_of(h, "links", TB) == [] and rows_of(h, "held_uploads", TB) == []
    old = rows_of(h, "audit", TB)
    assert old and all(r["retired_at"] is not None for r in old)


async def test_retired_entries_are_deleted_after_the_retention_period(two):
    h = two
    await h.driver.uninstall(TB)
    await forgotten(h, TB)
    entries = rows_of(h, "audit", TB)
    old, recent = entries[0]["id"], entries[-1]["id"]
    day = 86400.0
    db_execute(h, "UPDATE audit SET retired_at = retired_at - ? WHERE id = ?", 91 * day, old)
    db_execute(h, "UPDATE audit SET retired_at = retired_at - ? WHERE id = ?", 89 * day, recent)
    assert await h.bot.parts.retired_audit.prune() == 1
    ids = [r["id"] for r in rows_of(h, "audit", TB)]
    assert old not in ids and recent in ids
    assert all(r["retired_at"] is None for r in rows_of(h, "audit", TA))


async def test_one_workspace_ignores_uninstall_events(h):
    await h.link()
    assert await h.driver.send_app_uninstalled() == 200
    assert await h.driver.send_tokens_revoked() == 200
    await h.stop()
    assert len(db_rows(h, "SELECT * FROM links")) == 1
    assert db_rows(h, "SELECT * FROM audit WHERE action = ?", FORGOTTEN) == []
    assert all(r["retired_at"] is None for r in db_rows(h, "SELECT * FROM audit"))
