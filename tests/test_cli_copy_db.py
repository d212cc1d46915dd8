"""`python -m bot copy-db --to postgresql://…`: a SQLite deployment moved to PostgreSQL.

The SQLite database is made by the real bot over HTTP (links, a team account with a grant, an
announced upload cancelled, a cancel waiting for its "Cancel it now", a link TikTok removed),
copied with the CLI as an operator runs it, then the bot started on PostgreSQL serves the
same links and the same audit. With many workspaces, the installations, workspace settings and
pipeline tokens move too. A non-empty target is refused and left as it was; a wrong or
unreachable target is one line, never a traceback, never the password.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from storage import pipeline_tokens, workspace_settings
from storage.schema import BASELINE
from tests.cli_env import env_for, run_bot_cli
from tests.conftest import NOTIFY, button_urls, buttons, notify, state_of, text_of
from tests.install_helpers import many_harness
from tests.pg import pg_rows

ADMIN = "UADMIN"
ANNOUNCED = "v_pub_url~v2.1001"  # announced, then cancelled with the button
WAITING = "v_pub_url~v2.1002"  # asked for before linking: a pending retry
LATER = "v_pub_url~v2.1003"  # cancelled on PostgreSQL after the move
TEAM_LATER = "v_pub_url~v2.1004"  # cancelled on PostgreSQL with the team account
TABLES = [t.name for t in BASELINE]


async def cli(h, tmp_path, *args, **env) -> tuple[int, str, str]:
    """`python -m bot *args` with the harness's settings on SQLite (DATABASE_PATH) + `env`."""
    base = env_for(h.settings)
    base.pop("DATABASE_URL", None)
    return await run_bot_cli(*args, env={**base, **env}, cwd=tmp_path)


def sqlite_table(path: str, table: str) -> list[dict]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM {table}")]
    finally:
        conn.close()


def pg_table(url: str, table: str) -> list[dict]:
    return pg_rows(url, f"SELECT * FROM {table}")


def by_key(rows: list[dict]) -> list[dict]:
    """Rows in one order whatever the database's collation."""
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def pg_everything(url: str) -> dict[str, list[dict]]:
    return {t: by_key(pg_table(url, t)) for t in TABLES}


def dms_to(h, user_id: str) -> list[dict]:
    return [
        c.params for c in h.slack.calls_to("chat.postMessage") if c.params["channel"] == user_id
    ]


async def populate_on_sqlite(h) -> None:
    """What a deployment accumulates, through the real bot on SQLite."""
    await h.restart(database_url="", admin_users=frozenset({ADMIN}), notify_token=NOTIFY)
    await h.link("U1", "open-1", "Brand Social")
    await h.link_team("brand", ADMIN, "open-brand", "Brand Team")
    grant = await h.command("team grant brand <@U4|dana>", user_id=ADMIN)
    assert "U4" in text_of(grant), grant
    # An announced upload, cancelled with its button: audit rows and announcement state.
    h.tiktok.add_upload(ANNOUNCED)
    status, _ = await notify(h, {"publish_id": ANNOUNCED, "channel": "C1", "title": "Teaser"})
    assert status == 201
    answer = await h.click("cancel_upload", ANNOUNCED)
    assert "TikTok is stopping" in text_of(answer)
    # U2 asks before linking, then links: the "Cancel it now" retry is waiting for them.
    h.tiktok.add_upload(WAITING, open_id="open-2")
    asked = await h.command(WAITING, user_id="U2")
    h.tiktok.add_user(open_id="open-2", display_name="Second Brand")
    code = h.tiktok.issue_code("open-2")
    status, page = await h.consent({"code": code, "state": state_of(button_urls(asked)[0])})
    assert status == 200, page
    # U3's link is removed at TikTok: a forgotten link and a webhook delivery.
    await h.link("U3", "open-3", "Third Brand")
    body = h.tiktok.webhook_body("authorization.removed", {"reason": 1}, "open-3")
    headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        assert resp.status == 200
    await h.bot.parts.webhooks.drain()
    await h.stop()


@pytest.mark.needs_postgres
async def test_copy_moves_everything_and_the_bot_serves_it_on_postgres(h, tmp_path, postgres_url):
    await populate_on_sqlite(h)
    path = h.settings.database_path
    before = {t: by_key(sqlite_table(path, t)) for t in TABLES}
    assert all(before[t] for t in TABLES), {t: len(v) for t, v in before.items()}
    code, sqlite_export, _ = await cli(h, tmp_path, "audit", "export", "--format", "json")
    assert code == 0

    code, out, err = await cli(h, tmp_path, "copy-db", "--to", postgres_url)

    assert (code, err) == (0, ""), out + err
    lines = out.splitlines()
    password = urlsplit(postgres_url).password
    assert lines[0].startswith(f"Copied {sum(len(v) for v in before.values())} rows from {path}")
    # (the test server's password is also its user and database name: look for it as one)
    assert ":***@" in lines[0] and f":{password}@" not in out
    assert "  links: 3" in lines  # U1, U2 and the team account; U3's is forgotten
    assert "  grants: 2" in lines  # the admin who linked brand, and U4
    assert "  announcements: 1" in lines
    assert "  forgotten_links: 1" in lines
    assert "  pending_retries: 1" in lines
    assert "  webhook_events: 1" in lines
    for table in TABLES:
        assert f"  {table}: {len(before[table])}" in lines
    assert lines[-1].startswith("Next: set DATABASE_URL")
    # Every row, as it was: tokens still the same ciphertext, audit ids kept.
    assert pg_everything(postgres_url) == before
    for token in h.tiktok.all_secrets():
        assert token not in out + err
        assert token not in json.dumps(pg_everything(postgres_url), default=str)
    code, pg_export, _ = await cli(
        h, tmp_path, "audit", "export", "--format", "json", DATABASE_URL=postgres_url
    )
    assert code == 0 and json.loads(pg_export) == json.loads(sqlite_export)
    actions = [row["action"] for row in json.loads(pg_export)]
    assert actions == [
        "connect",
        "team_connect",
        "grant",
        "cancel",
        "cancel",
        "connect",
        "connect",
        "authorization_removed",
    ]
    last_id = max(row["id"] for row in json.loads(pg_export))

    # The bot on PostgreSQL: the same links work without relinking.
    await h.start(database_url=postgres_url)
    calls = len(h.tiktok.calls_to("cancel"))
    h.tiktok.add_upload(LATER)
    assert "TikTok is stopping" in text_of(await h.command(LATER))
    h.tiktok.add_upload(TEAM_LATER, open_id="open-brand")
    assert "TikTok is stopping" in text_of(await h.command(f"as brand {TEAM_LATER}", user_id="U4"))
    (retry,) = [
        b for dm in dms_to(h, "U2") for b in buttons(dm) if b["action_id"] == "retry_cancel_key"
    ]
    assert "TikTok is stopping" in text_of(
        await h.click("retry_cancel_key", retry["value"], user_id="U2")
    )
    assert len(h.tiktok.calls_to("cancel")) == calls + 3
    # New audit rows follow the copied ones: the id sequence was moved past them.
    new = pg_rows(
        postgres_url, "SELECT id, publish_id FROM audit WHERE id > :id ORDER BY id", id=last_id
    )
    assert new == [
        {"id": last_id + 1, "publish_id": LATER},
        {"id": last_id + 2, "publish_id": TEAM_LATER},
        {"id": last_id + 3, "publish_id": WAITING},
    ]
    await h.stop()

    # A second copy into the now non-empty target is refused and changes nothing.
    target_before = pg_everything(postgres_url)
    code, out, err = await cli(h, tmp_path, "copy-db", "--to", postgres_url)
    assert code == 1 and out == ""
    assert err.startswith("tiktok-cancel: copy-db refused: ")
    assert "the target already holds data (links: 3, oauth_states:" in err
    assert "nothing was copied" in err and len(err.splitlines()) == 1
    assert f":{password}@" not in err
    assert pg_everything(postgres_url) == target_before


@pytest.mark.needs_postgres
async def test_a_row_in_any_table_makes_the_target_non_empty(h, tmp_path, postgres_url):
    await h.restart(database_url="")
    await h.link()
    await h.stop()
    empty = tmp_path / "empty.sqlite3"
    code, out, err = await cli(
        h, tmp_path, "copy-db", "--to", postgres_url, DATABASE_PATH=str(empty)
    )  # a file that does not exist: nothing to copy, and the target stays untouched
    assert code == 1 and out == ""
    assert err == (
        f"tiktok-cancel: copy-db: no SQLite database at {empty} "
        "(set DATABASE_PATH to the file the bot uses)\n"
    )
    sqlite3.connect(empty).close()  # now an empty file: migrated, copied, 0 rows
    code, out, err = await cli(
        h, tmp_path, "copy-db", "--to", postgres_url, DATABASE_PATH=str(empty)
    )
    assert code == 0, err
    assert out.startswith("Copied 0 rows from")
    pg_rows(
        postgres_url,
        "INSERT INTO pending_retries (retry_key, team_id, user_id, publish_id, reason, created_at)"
        " VALUES ('k', 'T1', 'U9', 'p', '', 0)",
    )
    code, out, err = await cli(h, tmp_path, "copy-db", "--to", postgres_url)
    assert code == 1 and out == ""
    assert "the target already holds data (pending_retries: 1); nothing was copied" in err
    assert pg_rows(postgres_url, "SELECT count(*) AS n FROM links") == [{"n": 0}]


@pytest.mark.needs_postgres
async def test_a_wrong_password_is_one_line_without_it(h, tmp_path, needs_postgres):
    await h.restart(database_url="")  # a SQLite file to copy
    await h.stop()
    parts = urlsplit(needs_postgres)
    wrong = needs_postgres.replace(f":{parts.password}@", ":not-the-password-4711@")
    code, out, err = await cli(h, tmp_path, "copy-db", "--to", wrong)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"tiktok-cancel: copy-db: can't use postgresql://{parts.username}:***@")
    assert "password authentication failed" in err
    assert "not-the-password-4711" not in err


@pytest.mark.parametrize(
    ("to", "code", "line"),
    [
        (
            "postgresql://someone:secret-pass-0815@127.0.0.1:9/nodb",
            1,
            "tiktok-cancel: copy-db: can't use postgresql://someone:***@127.0.0.1:9/nodb: "
            'connection failed: connection to server at "127.0.0.1", port 9 failed: '
            "Connection refused",
        ),
        (
            "mysql://someone:secret-pass-0815@127.0.0.1/nodb",
            2,
            "tiktok-cancel: copy-db: --to must look like postgresql://USER:PASSWORD@HOST:PORT/DB "
            "(libpq form); for a socket: postgresql://USER@/DB?host=/run/postgresql",
        ),
        (
            "postgresql://someone:secret-pass-0815@127.0.0.1:port/nodb",
            2,
            "tiktok-cancel: copy-db: --to can't be read as one libpq URL: percent-encode ",
        ),
    ],
)
async def test_a_wrong_or_unreachable_target_is_one_line(h, tmp_path, to, code, line):
    await h.restart(database_url="")
    await h.link()
    await h.stop()
    status, out, err = await cli(h, tmp_path, "copy-db", "--to", to)
    assert status == code and out == ""
    assert err.startswith(line) and len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "secret-pass-0815" not in err


WORKSPACE_TABLES = ("slack_installations", "workspace_settings", "pipeline_tokens")


@pytest.mark.needs_postgres
async def test_copy_moves_installations_workspace_settings_and_pipeline_tokens(
    slack, tiktok, settings, tmp_path, postgres_url
):
    """Many workspaces: what Add to Slack, `settings` and `settings pipeline-token` stored
    moves too, and the bot on PostgreSQL answers the workspace and its pipeline at once."""
    team = "T0002"
    sqlite = replace(settings, database_url="")
    async with many_harness(slack, tiktok, sqlite) as h:
        ws = slack.add_workspace(team, "Brand Two", installed=False, rotation=True)
        assert (await h.driver.install(team_id=team, installer="U9"))[0] == 200
        store = h.bot.parts.store
        await store.run(workspace_settings.set_admins, team, ["U7"], "U9")
        await store.run(workspace_settings.set_audit_channel, team, "CAUDIT", "U9")
        _, secret = await store.run(pipeline_tokens.make, team, "U9")
        await h.stop()
        path = sqlite.database_path
        before = {t: by_key(sqlite_table(path, t)) for t in WORKSPACE_TABLES}
        assert all(len(rows) == 1 for rows in before.values()), before

        code, out, err = await cli(h, tmp_path, "copy-db", "--to", postgres_url, SLACK_BOT_TOKEN="")

        assert (code, err) == (0, ""), out + err
        for table in WORKSPACE_TABLES:
            assert f"  {table}: 1" in out.splitlines()
            assert by_key(pg_table(postgres_url, table)) == before[table]
        moved = json.dumps([pg_table(postgres_url, t) for t in WORKSPACE_TABLES], default=str)
        for value in (ws.bot_token, ws.refresh_token, secret):
            assert value not in out and value not in moved

        await h.start(database_url=postgres_url)
        answer = await h.driver.command("help", team_id=team)
        assert "How to use /tiktok-cancel" in text_of(answer)
        assert {c.token for c in slack.calls_for(team, "auth.test")} == {ws.bot_token}
        status, body = await notify(h, {"publish_id": LATER, "channel": "C1"}, token=secret)
        assert status == 201, body
