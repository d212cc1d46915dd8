"""Each workspace its own world: two workspaces with the same user ids, channel id, account name,
publish_id and upload_key (tests/isolation_helpers.py), and every entry point acted from one of
them never shows, touches or even hints at the other.

The table: each ENTRY POINT (slash commands, buttons, modal submissions, the App Home, the
pipeline routes, the web post page, the audit export), acted from TA and again from TB, x WHAT
MUST NOT LEAK OR CHANGE:
  1. no Slack Web API call is made with the other workspace's token, and none is made with the
     acting one's token for the other's things (`wrong_team`);
  2. every row of the other workspace, in every table, is the same before and after;
  3. nothing the acting workspace sees (answers, posts, updates, DMs, views, HTTP bodies, CLI
     output, what TikTok is sent) or keeps (its own rows) carries a marker of the other
     (`markers`), unless the person typed it themselves;
  4. TikTok is called only with the acting workspace's tokens.
From TB, a representative part of the table (`MIRRORED`), TA then being the one to hide.
Each case also checks it did reach its own workspace's things (its own marker, its own ts), so
a case that silently did nothing can't pass. Then the TikTok webhook, which names only a
publish_id: it updates both announcements, each with its own workspace's token; and a cancel in
flight in one workspace never holds up the same publish_id's cancel in the other.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli_env import run_cli_with_database
from tests.conftest import Harness, db_execute, db_rows, text_of
from tests.fuzz.blockkit import problems_in
from tests.held_helpers import assert_valid_blocks, until
from tests.isolation_helpers import (
    APPROVAL_KEY,
    CHANNEL,
    KEY,
    PID,
    PID2,
    TA,
    TB,
    U1,
    UADMIN,
    Side,
    Watch,
    World,
    leaks,
    markers,
    rows_of,
    two_worlds,
)
from tests.post_page_helpers import choices, get_page, post_form
from tests.upload_helpers import signed_webhook, webhook
from tests.workspaces_helpers import store_link

STOPPING = "TikTok is stopping"
PID3 = "v_pub_url~v2.6464"  # known to neither workspace before a case cancels it


@pytest.fixture
async def world(h) -> World:
    return await two_worlds(h)


@dataclass
class Ctx:
    """One case as it runs: the bot, the acting side, the other, and what the case adds to
    what the acting side saw (HTTP bodies, CLI output) or typed itself (echoes allowed)."""

    h: Harness
    me: Side
    other: Side
    tmp_path: Path
    seen: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)

    async def command(self, text: str, user: str = U1) -> str:
        """`/tiktok-cancel <text>` in the acting workspace; the answer's text (Block Kit
        checked)."""
        answer = await self.h.driver.command(text, user_id=user, team_id=self.me.team)
        assert_valid_blocks(answer)
        return text_of(answer)

    async def click(self, action_id: str, value: str, ts: str = "", user: str = U1) -> str:
        """A button on a message in C1 (by default the acting side's announcement); the
        answer's text."""
        answer = await self.h.driver.click(
            action_id,
            value,
            user_id=user,
            team_id=self.me.team,
            channel_id=CHANNEL,
            message_ts=ts or self.me.announced_ts,
        )
        assert_valid_blocks(answer)
        return text_of(answer)

    def tiktok_knows_pid_as_mine(self) -> None:
        """At TikTok, PID is an upload of the acting side's team account (the fake knows one
        owner per publish_id), so its cancel goes through."""
        self.h.tiktok.add_upload(PID, open_id=self.me.brand)

    def calls_of_mine(self, method: str) -> list:
        return self.h.slack.calls_for(self.me.team, method)

    async def http(self, method: str, path: str, token: str = "", **kw) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.h.session.request(method, self.h.url + path, headers=headers, **kw) as r:
            text = await r.text()
        self.seen.append(text)
        return r.status, text


Act = Callable[[Ctx], Awaitable[None]]


# --- slash commands ----------------------------------------------------------------------------


async def cancel_command(c: Ctx) -> None:
    c.tiktok_knows_pid_as_mine()
    assert STOPPING in await c.command(f"{PID} {c.me.mark} reason")


async def status_command(c: Ctx) -> None:
    c.tiktok_knows_pid_as_mine()
    assert PID in await c.command(f"status {PID}")


async def cancel_of_an_upload_not_announced(c: Ctx) -> None:
    """An upload neither workspace announced: its audit entry goes to this workspace's audit
    channel, if it has one, and the cancel is followed here."""
    c.h.tiktok.add_upload(PID3, open_id=c.me.own)
    assert STOPPING in await c.command(f"{PID3} {c.me.mark} reason")


async def cancel_of_what_the_other_announced(c: Ctx) -> None:
    """A publish_id only the other workspace announced is, here, an upload not announced."""
    c.typed.append(c.other.only)
    c.h.tiktok.add_upload(c.other.only, open_id=c.me.own)
    assert STOPPING in await c.command(f"{c.other.only} {c.me.mark}")


async def status_of_what_the_other_announced(c: Ctx) -> None:
    c.typed.append(c.other.only)
    c.h.tiktok.add_upload(c.other.only, open_id=c.me.own)
    assert c.other.only in await c.command(f"status {c.other.only}")


async def cancel_button_of_what_the_other_announced(c: Ctx) -> None:
    c.typed.append(c.other.only)
    c.h.tiktok.add_upload(c.other.only, open_id=c.me.own)
    assert STOPPING in await c.click("cancel_upload", c.other.only)


async def cancel_of_a_followed_cancel(c: Ctx) -> None:
    """PID2, followed in both workspaces since the set-up: "already stopping" is this
    workspace's own word."""
    c.h.tiktok.add_upload(PID2, open_id=c.me.own)
    assert "already stopping" in await c.command(f"{PID2} {c.me.mark} again")


async def status_of_a_followed_cancel(c: Ctx) -> None:
    assert PID2 in await c.command(f"status {PID2}")


async def list_command(c: Ctx) -> None:
    shown = await c.command("list")
    assert f"{c.me.mark} title" in shown and f"{c.me.mark} approval" in shown
    assert "1 waiting for approval, 1 held, 2 still running" in shown  # nothing counted twice


async def accounts_command(c: Ctx) -> None:
    assert "brand" in await c.command("accounts")


async def accounts_as_admin(c: Ctx) -> None:
    shown = await c.command("accounts", UADMIN)
    assert shown.count("\u2022 `brand`") == 1 and c.me.brand in shown


async def whoami_command(c: Ctx) -> None:
    assert c.me.own in await c.command("whoami")


async def as_brand_command(c: Ctx) -> None:
    c.tiktok_knows_pid_as_mine()
    assert STOPPING in await c.command(f"as brand {PID} {c.me.mark}")


async def team_grant(c: Ctx) -> None:
    assert "U2" in await c.command("team grant brand <@U2>", UADMIN)


async def team_revoke(c: Ctx) -> None:
    assert "brand" in await c.command(f"team revoke brand <@{U1}>", UADMIN)


async def team_remove(c: Ctx) -> None:
    assert "brand" in await c.command("team remove brand", UADMIN)
    assert c.h.tiktok.revoked  # revoked at TikTok (check 4: with the acting side's token)


async def team_approvers(c: Ctx) -> None:
    assert "brand" in await c.command(f"team approvers brand <@{UADMIN}> needed 1", UADMIN)


async def team_approvers_none(c: Ctx) -> None:
    assert "brand" in await c.command("team approvers brand none", UADMIN)


async def team_connect(c: Ctx) -> None:
    assert "brand" in await c.command("team connect brand", UADMIN)


async def settings_shown(c: Ctx) -> None:
    shown = await c.command("settings", UADMIN)
    assert c.me.token_id in shown and shown.count("`pt_") == 1


async def settings_admins(c: Ctx) -> None:
    assert UADMIN in await c.command(f"settings admins <@{UADMIN}>", UADMIN)


async def settings_audit(c: Ctx) -> None:
    assert CHANNEL in await c.command(f"settings audit <#{CHANNEL}>", UADMIN)


async def settings_by_the_others_named_admin(c: Ctx) -> None:
    """UBONLY is a bot admin in TB only (its `settings admins`): in TA, a person like any."""
    assert c.me.team == TA  # TB alone names admins (not in the mirror)
    c.typed.append("UBONLY")  # their own id, as Slack sends it
    theirs = await c.command("settings admins <@UBONLY>", "UBONLY")
    anyone = await c.command("settings admins <@U0NOBODY>", "U0NOBODY")
    assert theirs.replace("UBONLY", "U0NOBODY") == anyone


async def settings_pipeline_token(c: Ctx) -> None:
    assert "Made the pipeline token" in await c.command("settings pipeline-token", UADMIN)


async def settings_revoke_the_others_token(c: Ctx) -> None:
    """The other's token id, typed here: answered exactly as an id nobody ever made."""
    c.typed.append(c.other.token_id)
    theirs = await c.command(f"settings pipeline-token revoke {c.other.token_id}", UADMIN)
    made_up = await c.command("settings pipeline-token revoke pt_0badf00d", UADMIN)
    assert theirs.replace(c.other.token_id, "pt_0badf00d") == made_up


async def settings_revoke_own_token(c: Ctx) -> None:
    shown = await c.command(f"settings pipeline-token revoke {c.me.token_id}", UADMIN)
    assert c.me.token_id in shown


async def explain_command(c: Ctx) -> None:
    assert "cancel" in (await c.command("explain publish_cancelled")).lower()


async def help_command(c: Ctx) -> None:
    assert "/tiktok-cancel" in await c.command("help")


async def connect_command(c: Ctx) -> None:
    assert "Connect" in await c.command("connect")


async def disconnect_command(c: Ctx) -> None:
    assert "Account" in await c.command("disconnect")


# --- buttons and modals -----------------------------------------------------------------------


async def cancel_button(c: Ctx) -> None:
    c.tiktok_knows_pid_as_mine()
    assert STOPPING in await c.click("cancel_upload", PID)


async def cancel_button_naming_the_others_message(c: Ctx) -> None:
    """A click whose payload names the other workspace's message ts (same channel id)."""
    c.tiktok_knows_pid_as_mine()
    c.typed.append(c.other.announced_ts)
    assert STOPPING in await c.click("cancel_upload", PID, ts=c.other.announced_ts)


async def retry_button(c: Ctx) -> None:
    c.tiktok_knows_pid_as_mine()
    value = json.dumps({"publish_id": PID, "reason": f"{c.me.mark} again"})
    assert STOPPING in await c.click("retry_cancel", value)


async def cancel_it_now_own_key(c: Ctx) -> None:
    c.tiktok_knows_pid_as_mine()
    assert STOPPING in await c.click("retry_cancel_key", c.me.retry_key)


async def cancel_it_now_the_others_key(c: Ctx) -> None:
    """The other workspace's key for the same person: as unknown as a key never made."""
    c.typed.append(c.other.retry_key)
    cancels = len(c.h.tiktok.calls_to("cancel"))
    theirs = await c.click("retry_cancel_key", c.other.retry_key)
    assert theirs == await c.click("retry_cancel_key", "k" * 22)
    assert len(c.h.tiktok.calls_to("cancel")) == cancels


async def held_cancel_button(c: Ctx) -> None:
    await c.click("cancel_held", KEY, ts=c.me.held_ts)
    rows = db_rows(
        c.h, "SELECT state FROM held_uploads WHERE team_id = ? AND upload_key = ?", c.me.team, KEY
    )
    assert rows == [{"state": "cancelled"}]


async def held_start_now_button(c: Ctx) -> None:
    await c.click("start_held", KEY, ts=c.me.held_ts)
    await until(lambda: c.h.tiktok.calls_to("init"))


async def review_button(c: Ctx) -> None:
    sent = await c.h.driver.send_click(
        "review_upload", APPROVAL_KEY, user_id=U1, team_id=c.me.team, channel_id=CHANNEL
    )
    assert sent.status == 200
    (shown,) = await c.h.slack.wait_for_view(U1, "approve_upload", team_id=c.me.team)
    assert c.me.mark in json.dumps(shown.view)


async def reject_button(c: Ctx) -> None:
    sent = await c.h.driver.send_click(
        "reject_upload", APPROVAL_KEY, user_id=U1, team_id=c.me.team, channel_id=CHANNEL
    )
    assert sent.status == 200
    await c.h.slack.wait_for_view(U1, "reject_upload_reason", team_id=c.me.team)


async def approve_in_the_modal(c: Ctx) -> None:
    await review_button(c)
    status, ack = await c.h.driver.submit_view(U1, team_id=c.me.team, privacy="SELF_ONLY")
    assert (status, ack) == (200, None)
    await until(lambda: c.h.tiktok.calls_to("init"))


async def reject_in_the_modal(c: Ctx) -> None:
    await reject_button(c)
    status, ack = await c.h.driver.submit_view(
        U1, team_id=c.me.team, reason=f"{c.me.mark} not this one"
    )
    assert (status, ack) == (200, None)
    await until(
        lambda: [d for d in c.calls_of_mine("chat.postMessage") if d.params["channel"] == U1][-1:]
    )


async def home_click(c: Ctx, action_id: str, value: str) -> None:
    before = len(c.calls_of_mine("views.publish"))
    sent = await c.h.driver.send_click(action_id, value, user_id=U1, team_id=c.me.team, home=True)
    assert sent.status == 200
    await until(lambda: len(c.calls_of_mine("views.publish")) > before)


async def cancel_from_the_home(c: Ctx) -> None:
    c.tiktok_knows_pid_as_mine()
    await home_click(c, "cancel_upload", PID)


async def disconnect_from_the_home(c: Ctx) -> None:
    await home_click(c, "disconnect_tiktok", "")


async def stale_button(c: Ctx) -> None:
    assert await c.click("no_such_button", PID)


async def open_home(c: Ctx, user: str) -> None:
    before = len(c.calls_of_mine("views.publish"))
    assert await c.h.driver.open_home(user, team_id=c.me.team) == 200
    await until(lambda: len(c.calls_of_mine("views.publish")) > before)
    shown = text_of(c.calls_of_mine("views.publish")[-1].params["view"])
    assert f"{c.me.mark} title" in shown and "*Uploads still running* (2)" in shown


async def home_opened(c: Ctx) -> None:
    await open_home(c, U1)


async def home_opened_by_an_admin(c: Ctx) -> None:
    await open_home(c, UADMIN)


# --- pipeline routes, the web post page, the CLI ---------------------------------------------


async def notify_again(c: Ctx) -> None:
    body = {"publish_id": PID, "channel": CHANNEL, "title": "again"}
    status, text = await c.http("POST", "/notifications", c.me.pipeline, json=body)
    assert status == 200 and json.loads(text)["ts"] == c.me.announced_ts


async def upload_again(c: Ctx) -> None:
    body = {
        "upload_key": KEY,
        "channel": CHANNEL,
        "account": "brand",
        "source_url": "https://cdn.example.com/other.mp4",
        "post": {"title": "again", "privacy_level": "SELF_ONLY"},
    }
    status, text = await c.http("POST", "/uploads", c.me.pipeline, json=body)
    assert status == 200 and json.loads(text)["ts"] == c.me.held_ts


async def upload_state(c: Ctx) -> None:
    status, text = await c.http("GET", f"/uploads/{KEY}", c.me.pipeline)
    assert status == 200 and json.loads(text)["state"] == "held"
    status, text = await c.http("GET", f"/uploads/{APPROVAL_KEY}", c.me.pipeline)
    assert status == 200 and json.loads(text)["state"] == "awaiting_approval"


async def web_post_page(c: Ctx) -> None:
    page = await get_page(c.h, c.me.approval_path)
    c.seen.append(page.html)
    assert page.status == 200 and f"{c.me.mark} approval" in page.html
    done = await post_form(c.h, c.me.approval_path, choices(page.form_token, "SELF_ONLY"))
    c.seen.append(done.html)
    assert done.status == 200 and "Started" in done.text


async def audit_export(c: Ctx) -> None:
    done = await run_cli_with_database(
        c.h, c.tmp_path, "audit", "export", "--team", c.me.team, "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    c.seen += [done.stdout, done.stderr]
    entries = json.loads(done.stdout)
    assert {e["team_id"] for e in entries} == {c.me.team}
    assert any(c.me.mark in (e["reason"] or "") for e in entries)


# --- the bot's own work for one workspace: a held window closing, a deadline, a poll, uninstall --


def make_due(c: Ctx, table: str, column: str, key_column: str, key: str) -> None:
    db_execute(
        c.h,
        f"UPDATE {table} SET {column} = ? WHERE team_id = ? AND {key_column} = ?",
        time.time() - 1,
        c.me.team,
        key,
    )


def held_state(c: Ctx, key: str) -> str:
    sql = "SELECT state FROM held_uploads WHERE team_id = ? AND upload_key = ?"
    return db_rows(c.h, sql, c.me.team, key)[0]["state"]


async def held_window_closes(c: Ctx) -> None:
    make_due(c, "held_uploads", "starts_at", "upload_key", KEY)
    c.h.bot.parts.held_scheduler.wake()
    await until(lambda: held_state(c, KEY) == "started")


async def approval_deadline_passes(c: Ctx) -> None:
    make_due(c, "held_uploads", "approve_by", "upload_key", APPROVAL_KEY)
    c.h.bot.parts.held_scheduler.wake()
    await until(lambda: held_state(c, APPROVAL_KEY) == "expired")


async def status_polled(c: Ctx) -> None:
    c.tiktok_knows_pid_as_mine()
    c.h.tiktok.set_status(PID, "PUBLISH_COMPLETE")
    make_due(c, "announcements", "next_poll_at", "publish_id", PID)
    c.h.bot.parts.poller.wake()
    sql = "SELECT final FROM announcements WHERE team_id = ? AND publish_id = ?"
    await until(lambda: db_rows(c.h, sql, c.me.team, PID) == [{"final": 1}])


async def uninstalled(c: Ctx) -> None:
    assert await c.h.driver.uninstall(c.me.team) == [200, 200]
    sql = "SELECT id FROM audit WHERE team_id = ? AND action = 'workspace_forgotten'"
    await until(lambda: db_rows(c.h, sql, c.me.team))


ENTRY_POINTS: dict[str, Act] = {
    "command: <publish_id>": cancel_command,
    "command: status": status_command,
    "command: <publish_id> not announced": cancel_of_an_upload_not_announced,
    "command: <publish_id> followed in both": cancel_of_a_followed_cancel,
    "command: <publish_id> only the other announced": cancel_of_what_the_other_announced,
    "command: status of what only the other announced": status_of_what_the_other_announced,
    "command: status of a followed cancel": status_of_a_followed_cancel,
    "command: list": list_command,
    "command: accounts": accounts_command,
    "command: accounts (admin)": accounts_as_admin,
    "command: whoami": whoami_command,
    "command: as brand": as_brand_command,
    "command: team grant": team_grant,
    "command: team revoke": team_revoke,
    "command: team remove": team_remove,
    "command: team approvers": team_approvers,
    "command: team approvers none": team_approvers_none,
    "command: team connect": team_connect,
    "command: settings": settings_shown,
    "command: settings admins": settings_admins,
    "command: settings audit": settings_audit,
    "command: settings admins by the other's named admin": settings_by_the_others_named_admin,
    "command: settings pipeline-token": settings_pipeline_token,
    "command: settings pipeline-token revoke (the other's id)": settings_revoke_the_others_token,
    "command: settings pipeline-token revoke (its own)": settings_revoke_own_token,
    "command: explain": explain_command,
    "command: help": help_command,
    "command: connect": connect_command,
    "command: disconnect": disconnect_command,
    "button: cancel_upload": cancel_button,
    "button: cancel_upload naming the other's message": cancel_button_naming_the_others_message,
    "button: cancel_upload of what only the other announced": (
        cancel_button_of_what_the_other_announced
    ),
    "button: retry_cancel": retry_button,
    "button: Cancel it now (its own key)": cancel_it_now_own_key,
    "button: Cancel it now (the other's key)": cancel_it_now_the_others_key,
    "button: held Cancel": held_cancel_button,
    "button: held Start now": held_start_now_button,
    "button: review_upload": review_button,
    "button: reject_upload": reject_button,
    "modal: post page submitted": approve_in_the_modal,
    "modal: rejection submitted": reject_in_the_modal,
    "home: cancel_upload": cancel_from_the_home,
    "home: disconnect_tiktok": disconnect_from_the_home,
    "button: one the bot doesn't know": stale_button,
    "home: opened": home_opened,
    "home: opened by an admin": home_opened_by_an_admin,
    "http: POST /notifications (shared publish_id)": notify_again,
    "http: POST /uploads (shared upload_key)": upload_again,
    "http: GET /uploads/<key>": upload_state,
    "web: GET and POST /approve/<token>": web_post_page,
    "cli: audit export --team": audit_export,
    "scheduler: a held window closes": held_window_closes,
    "scheduler: an approval deadline passes": approval_deadline_passes,
    "poller: an announcement's status": status_polled,
    "events: app_uninstalled and tokens_revoked": uninstalled,
}


# The mirror, TB acting and TA the one that must not show: a representative part of the table
# (each kind of entry point, and every one that names the other's things), to keep the runtime.
MIRRORED = (
    "command: <publish_id>",
    "command: <publish_id> only the other announced",
    "command: list",
    "command: whoami",
    "command: as brand",
    "command: team remove",
    "command: settings",
    "command: settings pipeline-token revoke (the other's id)",
    "button: cancel_upload naming the other's message",
    "button: Cancel it now (the other's key)",
    "button: held Start now",
    "modal: post page submitted",
    "home: opened by an admin",
    "http: POST /notifications (shared publish_id)",
    "http: POST /uploads (shared upload_key)",
    "http: GET /uploads/<key>",
    "web: GET and POST /approve/<token>",
    "cli: audit export --team",
    "scheduler: a held window closes",
    "poller: an announcement's status",
    "events: app_uninstalled and tokens_revoked",
)
CASES = [pytest.param(entry, "a", id=f"{entry}-from-TA") for entry in ENTRY_POINTS] + [
    pytest.param(entry, "b", id=f"{entry}-from-TB") for entry in MIRRORED
]


def test_the_mirror_names_entry_points_of_the_table():
    assert set(MIRRORED) <= set(ENTRY_POINTS)


@pytest.mark.parametrize(("entry", "acting"), CASES)
async def test_an_entry_point_never_shows_or_touches_the_other_workspace(
    h, world, tmp_path, entry, acting
):
    me, other = world.pair(acting)
    hidden = markers(h, other)
    before = rows_of(h, other.team)
    watch = Watch(h)
    ctx = Ctx(h, me, other, tmp_path)
    with h.slack.expect_team(me.team):
        await ENTRY_POINTS[entry](ctx)
        await h.stop()  # everything the case started is finished (posts, updates, DMs)

    calls = watch.slack_calls()
    # 1. Slack: only the acting workspace's token, and only for its own things
    assert [(c.method, c.token_team) for c in calls if c.token_team != me.team] == []
    assert [(c.method, c.owners) for c in calls if c.wrong_team] == []
    # 2. the other workspace's rows, every table, unchanged
    assert rows_of(h, other.team) == before
    # 3. nothing the acting workspace saw gives the other away (what it typed may be echoed)
    shown = [m for m in hidden if not any(m in typed for typed in ctx.typed)]
    assert leaks(watch.seen(ctx.seen), shown) == []
    assert leaks(json.dumps(rows_of(h, me.team)), shown) == []  # nor in what it keeps
    # 4. TikTok: only the acting workspace's accounts
    assert watch.tiktok_accounts() <= {me.brand, me.own}
    # and every message sent is valid Block Kit
    problems = [p for c in calls for p in problems_in(c.method, c.params)]
    problems += [p for b in watch.answers() for p in problems_in("response_url", b)]
    assert problems == []


# --- the set-up the table relies on ---------------------------------------------------------

WORKSPACE_TABLES = (
    "links",
    "grants",
    "announcements",
    "held_uploads",
    "approval_links",
    "account_approvers",
    "followed_cancels",
    "pending_retries",
    "oauth_states",
    "audit",
    "pipeline_tokens",
    "slack_installations",
)


async def test_both_workspaces_hold_the_same_ids_with_their_own_data(h, world):
    for side in (world.a, world.b):
        rows = rows_of(h, side.team)
        assert [t for t in WORKSPACE_TABLES if not rows[t]] == [], side.team
        announced = db_rows(h, "SELECT * FROM announcements WHERE team_id = ?", side.team)
        assert sorted((a["publish_id"], a["title"]) for a in announced) == sorted(
            [(PID, f"{side.mark} title"), (side.only, f"{side.mark} only")]
        )
        keys = db_rows(h, "SELECT upload_key FROM held_uploads WHERE team_id = ?", side.team)
        assert sorted(r["upload_key"] for r in keys) == sorted([KEY, APPROVAL_KEY])
        followed = db_rows(
            h, "SELECT publish_id FROM followed_cancels WHERE team_id = ?", side.team
        )
        assert followed == [{"publish_id": PID2}]
    assert rows_of(h, TB)["workspace_settings"] and not rows_of(h, TA)["workspace_settings"]
    # the markers are there to be found: each side's own show in what it was shown
    assert world.a.announced_ts in markers(h, world.a) and world.b.held_ts in markers(h, world.b)


# --- TikTok's news names only a publish_id: each workspace that announced it hears it --------


async def test_a_tiktok_webhook_updates_both_announcements_each_with_its_own_token(h, world):
    watch = Watch(h)
    content = {"publish_id": PID}
    assert await signed_webhook(h, "post.publish.complete", content, world.a.brand) == 200
    await h.stop()

    calls = watch.slack_calls()
    assert [(c.method, c.owners) for c in calls if c.wrong_team] == []
    updates = [c for c in calls if c.method == "chat.update"]
    assert sorted((c.params["ts"], c.token_team) for c in updates) == sorted(
        [(world.a.announced_ts, TA), (world.b.announced_ts, TB)]
    )
    threads = [c for c in calls if c.method == "chat.postMessage"]
    assert sorted((c.params["thread_ts"], c.token_team) for c in threads) == sorted(
        [(world.a.announced_ts, TA), (world.b.announced_ts, TB)]
    )
    for side, other in ((world.a, world.b), (world.b, world.a)):
        mine = [json.dumps(c.params) for c in calls if c.token_team == side.team]
        assert any(f"{side.mark} title" in text for text in mine)
        assert leaks(mine, markers(h, other)) == []
    finals = db_rows(
        h, "SELECT team_id, status, final FROM announcements WHERE publish_id = ?", PID
    )
    assert sorted((r["team_id"], r["status"], r["final"]) for r in finals) == [
        (TA, "PUBLISH_COMPLETE", 1),
        (TB, "PUBLISH_COMPLETE", 1),
    ]
    assert watch.tiktok() == []  # the news came with everything needed


async def test_tiktok_removing_one_workspaces_account_forgets_it_there_only(h, world):
    before = rows_of(h, TB)
    watch = Watch(h)
    body = h.tiktok.webhook_body("authorization.removed", {"reason": 1}, world.a.brand)
    with h.slack.expect_team(TA):
        assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200
        await h.stop()

    assert rows_of(h, TB) == before
    forgotten = db_rows(h, "SELECT team_id, owner FROM forgotten_links")
    assert forgotten == [{"team_id": TA, "owner": "brand"}]
    calls = watch.slack_calls()
    assert calls and {c.token_team for c in calls} == {TA}
    assert [c for c in calls if c.wrong_team] == []
    assert leaks(watch.seen(), markers(h, world.b)) == []


async def test_one_tiktok_account_linked_in_both_is_forgotten_in_each_told_in_each(h, world):
    """An agency links the same TikTok account in both workspaces; TikTok removes the app's
    access: both links go, and each workspace hears it from its own bot, its own people only
    (TB's named admins included, TA's Slack admin who linked it)."""
    for side in (world.a, world.b):
        await store_link(h, side.team, "team", "shared", "open-shared")
    watch = Watch(h)
    body = h.tiktok.webhook_body("authorization.removed", {"reason": 1}, "open-shared")
    assert await webhook(h, body, h.tiktok.sign_webhook(body)) == 200
    await h.stop()

    forgotten = db_rows(h, "SELECT team_id, owner FROM forgotten_links")
    assert sorted((r["team_id"], r["owner"]) for r in forgotten) == [(TA, "shared"), (TB, "shared")]
    calls = watch.slack_calls()
    assert [c for c in calls if c.wrong_team] == []
    dms = {(c.token_team, c.params["channel"]) for c in calls if c.method == "chat.postMessage"}
    assert dms == {(TA, UADMIN), (TB, UADMIN), (TB, "UBONLY")}
    for side, other in ((world.a, world.b), (world.b, world.a)):
        mine = [json.dumps(c.params) for c in calls if c.token_team == side.team]
        assert leaks(mine, markers(h, other)) == []


# --- one publish_id, two workspaces, two cancels at once -------------------------------------


async def test_a_cancel_in_flight_in_one_workspace_never_holds_up_the_others(h, world):
    """TB's cancel of PID is at TikTok (held there) when TA's arrives: TA's is not "already
    under way", it goes to TikTok with TA's token; each answer is its own."""
    h.tiktok.add_upload(PID, open_id=world.a.brand)

    def cancels() -> list:
        return [c for c in h.tiktok.calls_to("cancel") if c.body.get("publish_id") == PID]

    held = h.tiktok.hold("cancel", publish_id=PID)
    try:
        tb = asyncio.ensure_future(h.driver.command(PID, user_id=U1, team_id=TB))
        await held.wait_arrived()
        ta = asyncio.ensure_future(h.driver.command(PID, user_id=U1, team_id=TA))
        await until(lambda: len(cancels()) == 2)
    finally:
        held.release()
    ta_answer, tb_answer = text_of(await ta), text_of(await tb)

    accounts = [h.tiktok.grant_for(c.token).open_id for c in cancels()]
    assert accounts == [world.b.brand, world.a.brand]
    assert STOPPING in ta_answer and STOPPING not in tb_answer  # TikTok: not TB's upload
    assert leaks([ta_answer], markers(h, world.b)) == []
    assert leaks([tb_answer], markers(h, world.a)) == []
