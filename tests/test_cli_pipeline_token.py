"""`python -m bot pipeline-token --team T… [--revoke ID | --list]`: an operator makes a pipeline
token for one installed workspace (printed once), lists or revokes them; many workspaces only.
Run as a subprocess against the bot's database (SQLite, or PostgreSQL with TEST_DATABASE_URL)
while the bot serves, whose routes then take (or refuse) the token."""

from __future__ import annotations

import json

import pytest

from storage import pipeline_tokens
from tests.cli_env import env_for, run_bot_cli
from tests.conftest import db_rows, notify, text_of
from tests.workspaces_helpers import CLIENT_ID, CLIENT_SECRET, many_workspaces

OWNER = "U0OWNER"
PID = "v_pub_url~v2.7401"


@pytest.fixture
async def many(h):
    await many_workspaces(h)
    h.slack.set_user(OWNER, is_owner=True)
    return h


async def run_token(h, cwd, *args: str, many: bool = True) -> tuple[int, str, str]:
    mode = (
        {"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET}
        if many
        else {"SLACK_BOT_TOKEN": h.slack.bot_token}
    )
    env = env_for(h.settings, **mode)
    return await run_bot_cli("pipeline-token", *args, env=env, cwd=cwd, timeout=30)


def tokens(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM pipeline_tokens ORDER BY made_at")


async def test_made_on_the_command_line_printed_once_and_works_until_revoked(many, tmp_path):
    h = many
    team = h.slack.team_id

    code, out, err = await run_token(h, tmp_path, "--team", team)

    assert code == 0, err
    printed = json.loads(out)
    assert set(printed) == {"team_id", "token_id", "token"}
    assert printed["team_id"] == team and printed["token"].startswith("tcp_")
    assert "is shown this once" in err and "Authorization: Bearer <token>" in err
    assert printed["token"] not in err
    (row,) = tokens(h)
    assert (row["token_id"], row["team_id"], row["made_by"]) == (printed["token_id"], team, "cli")
    assert row["token_hash"] == pipeline_tokens.digest(printed["token"])
    (entry,) = [r for r in h.audit_rows() if r["action"] == "pipeline_token_made"]
    assert (entry["team_id"], entry["user_id"], entry["source"], entry["reason"]) == (
        team,
        "",
        "cli",
        printed["token_id"],
    )
    status, _ = await notify(h, {"publish_id": PID, "channel": "C1"}, token=printed["token"])
    assert status == 201
    shown = text_of(await h.command("settings", user_id=OWNER))
    assert f"`{printed['token_id']}`, made on the bot's command line" in shown

    code, out, err = await run_token(h, tmp_path, "--team", team, "--list")
    assert code == 0, err
    listed = json.loads(out)
    assert listed["team_id"] == team
    assert [t["token_id"] for t in listed["tokens"]] == [printed["token_id"]]
    assert listed["tokens"][0]["made_by"] == "cli"
    assert printed["token"] not in out

    code, out, err = await run_token(h, tmp_path, "--team", team, "--revoke", printed["token_id"])
    assert code == 0, err
    assert json.loads(out) == {
        "team_id": team,
        "token_id": printed["token_id"],
        "status": "revoked",
    }
    status, _ = await notify(h, {"publish_id": PID, "channel": "C1"}, token=printed["token"])
    assert status == 401
    code, out, err = await run_token(h, tmp_path, "--team", team, "--revoke", printed["token_id"])
    assert (code, out) == (1, "")
    assert f"has no working pipeline token {printed['token_id']}" in err
    actions = [r["action"] for r in h.audit_rows() if r["action"].startswith("pipeline_token")]
    assert actions == ["pipeline_token_made", "pipeline_token_revoked"]


async def test_a_workspace_that_has_not_installed_the_app_gets_none(many, tmp_path):
    h = many
    code, out, err = await run_token(h, tmp_path, "--team", "T0NOTHERE")
    assert (code, out) == (1, "")
    assert "tiktok-cancel: pipeline-token: workspace T0NOTHERE has not installed the app" in err
    assert tokens(h) == []


async def test_one_workspace_exits_2_pointing_at_notify_and_upload_tokens(h, tmp_path):
    code, out, err = await run_token(h, tmp_path, "--team", h.slack.team_id, many=False)
    assert (code, out) == (2, "")
    assert "serves one workspace" in err
    assert "NOTIFY_TOKEN and UPLOAD_TOKEN" in err
    assert tokens(h) == []


async def test_bad_arguments_exit_2_and_change_nothing(many, tmp_path):
    h = many
    code, _, err = await run_token(h, tmp_path, "--team", h.slack.team_id, "--revoke", "nope")
    assert code == 2 and "--revoke takes a token's id, like pt_3f9a1c2b" in err
    code, _, err = await run_token(h, tmp_path)
    assert code == 2 and "--team" in err
    args = ("--team", h.slack.team_id, "--list", "--revoke", "pt_3f9a1c2b")
    code, _, err = await run_token(h, tmp_path, *args)
    assert code == 2 and "not allowed with" in err
    assert tokens(h) == []


async def test_a_workspace_with_twenty_working_tokens_gets_no_more(many, tmp_path):
    h = many
    for _ in range(20):
        await h.bot.parts.store.run(pipeline_tokens.make, h.slack.team_id, OWNER)
    code, out, err = await run_token(h, tmp_path, "--team", h.slack.team_id)
    assert (code, out) == (1, "")
    assert "already has 20 working pipeline tokens" in err
    assert len(tokens(h)) == 20
