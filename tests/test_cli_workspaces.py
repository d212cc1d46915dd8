"""The operator's view of many workspaces, run as a person would: `python -m bot workspaces`
lists what installed the app (who, when, whether its token rotates and until when; never a
token) and says when the deployment serves one workspace; `check` asks Slack whether the
app's client ID and secret are accepted and `auth.test`s every installed workspace's token."""

from __future__ import annotations

import re

import pytest

from tests.cli_env import env_for, run_cli
from tests.conftest import REDIRECT_URI
from tests.install_helpers import many_harness

TEAM_B = "T0002"
TEAM_C = "T0003"


@pytest.fixture
async def hm(slack, tiktok, settings):
    async with many_harness(slack, tiktok, settings) as harness:
        yield harness


def many_env(h, **extra: str) -> dict[str, str]:
    """The environment of a many-workspace deployment (no SLACK_BOT_TOKEN)."""
    values = {
        "SLACK_BOT_TOKEN": "",
        "SLACK_CLIENT_ID": h.slack.client_id,
        "SLACK_CLIENT_SECRET": h.slack.client_secret,
        "TIKTOK_REDIRECT_URI": REDIRECT_URI,
        **extra,
    }
    return env_for(h.settings, **values)


async def install_two(h):
    b = h.slack.add_workspace(TEAM_B, "Brand Two", installed=False)
    c = h.slack.add_workspace(TEAM_C, "Brand <Three>", installed=False, rotation=True)
    assert (await h.driver.install(team_id=TEAM_B, installer="U9"))[0] == 200
    assert (await h.driver.install(team_id=TEAM_C, installer="U8"))[0] == 200
    return b, c


ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


async def test_workspaces_lists_each_install_without_a_token(hm, tmp_path):
    b, c = await install_two(hm)
    code, out, err = await run_cli(tmp_path, many_env(hm), "workspaces")
    assert (code, err) == (0, ""), err
    lines = out.splitlines()
    assert lines[0] == "Installed workspaces:"
    assert re.fullmatch(
        rf"  {TEAM_B}  Brand Two: installed {ISO} by U9; token does not expire", lines[1]
    ), lines[1]
    assert re.fullmatch(
        rf"  {TEAM_C}  Brand <Three>: installed {ISO} by U8; token rotates, current one "
        rf"expires {ISO}",
        lines[2],
    ), lines[2]
    assert len(lines) == 3
    for secret in (b.bot_token, c.bot_token, c.refresh_token, hm.slack.client_secret):
        assert secret not in out


async def test_workspaces_with_none_installed_says_how_to_add_one(hm, tmp_path):
    code, out, _ = await run_cli(tmp_path, many_env(hm), "workspaces")
    assert code == 0
    assert out == (
        "Installed workspaces:\n"
        "  none yet (Add to Slack: open /slack/install on the bot's public address)\n"
    )


async def test_workspaces_with_one_workspace_says_so(h, tmp_path):
    code, out, _ = await run_cli(tmp_path, env_for(h.settings), "workspaces")
    assert code == 0
    assert out.startswith("This deployment serves one workspace, the one SLACK_BOT_TOKEN")
    assert h.settings.slack_bot_token not in out


async def test_check_with_many_workspaces_calls_auth_test_with_each_token(hm, tmp_path):
    b, c = await install_two(hm)
    code, out, _ = await run_cli(tmp_path, many_env(hm), "check")
    assert code == 0, out
    assert "ok       slack: the app's client ID and secret are accepted (Add to Slack works)" in out
    works = "its token works (as tiktokcancel)"
    assert f"ok       slack: workspace {TEAM_B} (Brand Two): {works}" in out
    assert f"ok       slack: workspace {TEAM_C} (Brand <Three>): its token works" in out
    assert "many workspaces (Add to Slack at /slack/install)" in out
    assert "all good" in out
    tested = {call.token for call in hm.slack.calls_to("auth.test")}
    assert {b.bot_token, c.bot_token} <= tested

    hm.slack.uninstall(TEAM_C)  # removed at Slack, the bot not told yet
    code, out, _ = await run_cli(tmp_path, many_env(hm), "check")
    assert code == 1
    assert f"ok       slack: workspace {TEAM_B} (Brand Two): its token works" in out
    assert (
        f"PROBLEM  slack: workspace {TEAM_C} (Brand <Three>): Slack refuses its token "
        "(token_revoked); add the app to the workspace again (/slack/install)"
    ) in out
    for secret in (b.bot_token, c.bot_token, c.refresh_token, hm.slack.client_secret):
        assert secret not in out


async def test_check_with_many_workspaces_names_refused_app_credentials(hm, tmp_path):
    env = many_env(hm, SLACK_CLIENT_SECRET="not-the-client-secret")
    code, out, err = await run_cli(tmp_path, env, "check")
    assert code == 1
    assert (
        "PROBLEM  slack: oauth.v2.access refused the app (bad_client_secret); check "
        "SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_API_URL"
    ) in out
    assert "info     slack: no workspace has installed the app yet (open /slack/install)" in out
    assert "not-the-client-secret" not in out + err
