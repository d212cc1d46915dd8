"""The operator tools on PostgreSQL (DATABASE_URL set): `audit export`, `accounts`, `check`,
`rotate-key` and `announce`, each run once as a person would, against the bot's data there;
and `check` naming the database it uses, reachable or not, never with its password."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet

from bot.ops.check import describe_database
from tests.cli_env import env_for, run_bot_cli
from tests.conftest import NOTIFY, text_of
from tests.pg import pg_rows

ADMIN = "UADMIN"
PID = "v_pub_url~v2.2001"
ANNOUNCED = "v_pub_url~v2.2002"


@pytest.fixture
async def hp(h, postgres_url):
    """The bot on a fresh PostgreSQL schema, whatever the suite's default database."""
    await h.restart(database_url=postgres_url, admin_users=frozenset({ADMIN}), notify_token=NOTIFY)
    return h


async def cli(h, tmp_path, *args, **env) -> tuple[int, str, str]:
    """`python -m bot *args` with the harness's settings, DATABASE_URL included."""
    assert h.settings.database_url
    return await run_bot_cli(*args, env=env_for(h.settings, **env), cwd=tmp_path)


def where(url: str) -> str:
    """How `check` should name the test server, worked out from the URL by hand."""
    parts = urlsplit(url)
    return f"PostgreSQL {parts.path.lstrip('/')} on {parts.hostname}:{parts.port}"


@pytest.mark.needs_postgres
async def test_audit_export_reads_postgres(hp, tmp_path):
    h = hp
    await h.link()
    h.tiktok.add_upload(PID)
    assert "TikTok is stopping" in text_of(await h.command(f"{PID} wrong video"))

    code, out, err = await cli(h, tmp_path, "audit", "export", "--format", "json")

    assert code == 0, err
    rows = json.loads(out)
    assert [(r["action"], r["publish_id"], r["outcome"]) for r in rows] == [
        ("connect", "", "ok"),
        ("cancel", PID, "ok"),
    ]
    assert rows[1]["reason"] == "wrong video" and rows[1]["account"] == "Brand Social"
    code, out, err = await cli(h, tmp_path, "audit", "export")
    assert code == 0, err
    assert out.splitlines()[0].startswith("id,started_at,finished_at,state,action,")
    assert len(out.splitlines()) == 3


@pytest.mark.needs_postgres
async def test_accounts_lists_postgres_links_and_grants_without_tokens(hp, tmp_path):
    h = hp
    await h.link("U1", "open-1", "Brand Social")
    await h.link_team("brand", ADMIN, "open-brand", "Brand Team")
    assert "U4" in text_of(await h.command("team grant brand <@U4|dana>", user_id=ADMIN))

    code, out, err = await cli(h, tmp_path, "accounts")

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Linked TikTok accounts:"
    assert any("user U1: Brand Social (open_id open-1," in line for line in lines)
    assert any("team account brand: Brand Team (open_id open-brand," in line for line in lines)
    grants = lines[lines.index("Grants:") + 1 :]
    assert len(grants) == 2
    assert any(f"brand: {ADMIN} (granted by {ADMIN}" in line for line in grants)
    assert any(f"brand: U4 (granted by {ADMIN}" in line for line in grants)
    for secret in h.tiktok.all_secrets():
        assert secret not in out + err


@pytest.mark.needs_postgres
async def test_check_names_postgres_and_says_it_is_reachable(hp, tmp_path, postgres_url):
    code, out, err = await cli(hp, tmp_path, "check")

    assert code == 0, out + err
    assert f"ok       database: {where(postgres_url)}: reachable and up to date" in out.splitlines()
    assert "all good" in out
    assert f":{urlsplit(postgres_url).password}@" not in out + err


async def test_check_with_postgres_unreachable_is_a_problem_line_without_the_password(h, tmp_path):
    url = "postgresql://someone:secret-pass-0815@127.0.0.1:9/nodb"
    code, out, err = await run_bot_cli(
        "check", env=env_for(h.settings, DATABASE_URL=url), cwd=tmp_path
    )

    assert code == 1
    (line,) = [line for line in out.splitlines() if "database:" in line]
    assert line == (
        "PROBLEM  database: PostgreSQL nodb on 127.0.0.1:9: can't be used: connection failed: "
        'connection to server at "127.0.0.1", port 9 failed: Connection refused'
    )
    assert "secret-pass-0815" not in out + err and "Traceback" not in out + err
    assert "1 problem(s)" in out


async def test_reading_tools_with_postgres_unreachable_say_so_in_one_line(h, tmp_path):
    url = "postgresql://someone:secret-pass-0815@127.0.0.1:9/nodb"
    for args in (("audit", "export"), ("accounts",)):
        code, out, err = await run_bot_cli(
            *args, env=env_for(h.settings, DATABASE_URL=url), cwd=tmp_path
        )
        assert (code, out) == (1, ""), err
        assert err == (
            "tiktok-cancel: can't use the database (PostgreSQL nodb on 127.0.0.1:9): "
            'connection failed: connection to server at "127.0.0.1", port 9 failed: '
            "Connection refused\n"
        )


def test_describe_database_names_each_kind_without_the_password():
    assert describe_database("sqlite:///data/tiktok-cancel.sqlite3") == (
        "SQLite file data/tiktok-cancel.sqlite3"
    )
    assert describe_database("postgresql+psycopg://bot:pw-77@db.internal:5433/tiktok") == (
        "PostgreSQL tiktok on db.internal:5433"
    )
    assert describe_database("postgresql+psycopg://bot@/tiktok?host=/run/postgresql") == (
        "PostgreSQL tiktok on /run/postgresql"
    )


@pytest.mark.needs_postgres
async def test_rotate_key_reencrypts_postgres_tokens(hp, tmp_path, postgres_url):
    h = hp
    await h.link()
    await h.stop()
    old_key = h.settings.token_encryption_key
    new_key = Fernet.generate_key().decode()

    code, out, err = await cli(
        h, tmp_path, "rotate-key", TOKEN_ENCRYPTION_KEY=new_key, OLD_TOKEN_ENCRYPTION_KEY=old_key
    )

    assert code == 0, out + err
    assert "re-encrypted 1 linked account(s) with the new key" in out
    (row,) = pg_rows(postgres_url, "SELECT access_token, refresh_token FROM links")
    for value in row.values():
        Fernet(new_key.encode()).decrypt(value.encode())
    await h.start(token_encryption_key=new_key)
    h.tiktok.add_upload(PID)
    assert "TikTok is stopping" in text_of(await h.command(PID))


@pytest.mark.needs_postgres
async def test_announce_writes_the_announcement_to_postgres(hp, tmp_path, postgres_url):
    h = hp
    code, out, err = await cli(
        h, tmp_path, "announce", "--channel", "C1", ANNOUNCED, "--title", "CLI teaser"
    )

    assert code == 0, err
    printed = json.loads(out)
    assert (printed["channel"], printed["status"]) == ("C1", "posted")
    rows = pg_rows(postgres_url, "SELECT publish_id, channel, ts, title FROM announcements")
    assert rows == [
        {"publish_id": ANNOUNCED, "channel": "C1", "ts": printed["ts"], "title": "CLI teaser"}
    ]
    h.tiktok.add_upload(ANNOUNCED)
    await h.link()
    answer = await h.click("cancel_upload", ANNOUNCED)
    assert "TikTok is stopping \u201cCLI teaser\u201d." in text_of(answer)
