"""`python -m bot check`, run as a person would: the settings validated, Slack (and its scopes) and
TikTok called once, and the database named (SQLite or PostgreSQL, reachable or not) without its
password."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.ops.check import describe_database
from bot.slack.scopes import BOT_SCOPES
from tests.cli_env import clean_env, cli, env_for, run_bot_cli, run_cli


async def test_check_reports_all_good_against_working_services(h, tmp_path):
    code, out, _ = await run_cli(tmp_path, env_for(h.settings), "check")
    assert code == 0, out
    assert "slack: auth.test ok" in out
    assert "ok       slack: the token has every scope manifest.yml asks for" in out
    assert "tiktok: reachable" in out and "client accepted" in out
    assert "all good" in out


async def test_check_names_what_is_wrong_and_exits_non_zero(h, tmp_path):
    env = env_for(h.settings, TIKTOK_CLIENT_SECRET="wrong-secret", SLACK_BOT_TOKEN="xoxb-wrong")
    code, out, err = await run_cli(tmp_path, env, "check")
    assert code == 1
    assert "PROBLEM  slack: auth.test failed (invalid_auth)" in out
    assert "PROBLEM  tiktok: reachable, but it refuses the client (invalid_client)" in out
    assert "wrong-secret" not in out + err and "xoxb-wrong" not in out + err


async def test_check_names_the_slack_scopes_the_token_lacks(h, tmp_path):
    """A workspace that installed an older manifest: list and the App Home need the
    *:read scopes to tell who may see an upload's channel, the confirm page users:read.email."""
    h.slack.bot_scopes = ["commands", "chat:write", "chat:write.public", "im:write", "users:read"]
    code, out, _ = await run_cli(tmp_path, env_for(h.settings), "check")
    assert code == 1
    assert (
        "PROBLEM  slack: the token lacks users:read.email, channels:read, groups:read, "
        "mpim:read, im:read, usergroups:read; add "
        "them under OAuth & Permissions (manifest.yml lists them) and reinstall the app to "
        "the workspace"
    ) in out


def test_the_scopes_check_asks_for_exactly_what_manifest_yml_lists():
    manifest = (Path(__file__).resolve().parents[1] / "manifest.yml").read_text()
    block = manifest.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    listed = tuple(re.findall(r"^\s+- ([\w:.]+)", block, re.MULTILINE))
    assert listed == BOT_SCOPES


async def test_check_with_tiktok_unreachable(h, tmp_path):
    env = env_for(h.settings, TIKTOK_API_URL="http://127.0.0.1:9")
    code, out, _ = await run_cli(tmp_path, env, "check")
    assert code == 1
    assert "PROBLEM  tiktok: not reachable" in out


async def test_check_with_bad_settings_exits_2(tmp_path):
    env = clean_env()
    code, _, err = await run_cli(tmp_path, env, "check")
    assert code == 2
    assert "SLACK_BOT_TOKEN is not set" in err


def where(url: str) -> str:
    """How `check` should name the test server, worked out from the URL by hand."""
    parts = urlsplit(url)
    return f"PostgreSQL {parts.path.lstrip('/')} on {parts.hostname}:{parts.port}"


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
