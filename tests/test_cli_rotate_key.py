"""`python -m bot rotate-key`: every stored token re-encrypted with the new key, both keys needed,
and a wrong old key naming who must reconnect; installed workspaces' Slack tokens too (many
workspaces); on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests.cli_env import cli, env_for, run_cli
from tests.conftest import db_rows, text_of
from tests.install_helpers import many_harness
from tests.pg import pg_rows


async def test_rotate_key_reencrypts_every_token_and_links_keep_working(h, tmp_path):
    await h.link()
    await h.link(user_id="U2", open_id="open-2", display_name="Second")
    await h.stop()
    old_key = h.settings.token_encryption_key
    new_key = Fernet.generate_key().decode()
    env = env_for(h.settings, TOKEN_ENCRYPTION_KEY=new_key, OLD_TOKEN_ENCRYPTION_KEY=old_key)
    code, out, _ = await run_cli(tmp_path, env, "rotate-key")
    assert code == 0, out
    assert "re-encrypted 2 linked account(s)" in out
    rows = db_rows(h, "SELECT access_token, refresh_token FROM links")
    assert len(rows) == 2
    for access, refresh in (r.values() for r in rows):
        Fernet(new_key.encode()).decrypt(access.encode())
        Fernet(new_key.encode()).decrypt(refresh.encode())
    await h.start(token_encryption_key=new_key)
    h.tiktok.add_upload("v_pub_url~v2.42")
    assert "TikTok is stopping" in text_of(await h.command("v_pub_url~v2.42"))
    # running it again is harmless: everything is already under the new key
    code, out, _ = await run_cli(tmp_path, env, "rotate-key")
    assert code == 0 and "re-encrypted 2" in out


async def test_rotate_key_needs_both_keys(h, tmp_path):
    env = env_for(h.settings)
    code, _, err = await run_cli(tmp_path, env, "rotate-key")
    assert code == 2
    assert "OLD_TOKEN_ENCRYPTION_KEY must be set" in err
    assert h.settings.token_encryption_key not in err


async def test_rotate_key_with_the_wrong_old_key_says_who_must_reconnect(h, tmp_path):
    await h.link()
    env = env_for(
        h.settings,
        TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        OLD_TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode(),
    )
    code, out, _ = await run_cli(tmp_path, env, "rotate-key")
    assert code == 1
    assert "1 linked account(s) could be read with neither key" in out


PID = "v_pub_url~v2.2001"


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


async def test_rotate_key_reseals_installed_workspaces_slack_tokens(
    slack, tiktok, settings, tmp_path
):
    team = "T0002"
    async with many_harness(slack, tiktok, settings) as h:
        ws = slack.add_workspace(team, "Brand Two", installed=False, rotation=True)
        assert (await h.driver.install(team_id=team))[0] == 200
        await h.stop()
        old_key = h.settings.token_encryption_key
        new_key = Fernet.generate_key().decode()
        env = env_for(
            h.settings,
            SLACK_BOT_TOKEN="",
            SLACK_CLIENT_ID=slack.client_id,
            SLACK_CLIENT_SECRET=slack.client_secret,
            TOKEN_ENCRYPTION_KEY=new_key,
            OLD_TOKEN_ENCRYPTION_KEY=old_key,
        )
        code, out, err = await run_cli(tmp_path, env, "rotate-key")
        assert code == 0, out + err
        assert "re-encrypted the Slack tokens of 1 installed workspace(s)" in out
        (row,) = db_rows(h, "SELECT bot_token, bot_refresh_token FROM slack_installations")
        new = Fernet(new_key.encode())
        assert new.decrypt(row["bot_token"].encode()).decode() == ws.bot_token
        assert new.decrypt(row["bot_refresh_token"].encode()).decode() == ws.refresh_token
        await h.start(token_encryption_key=new_key)
        answer = await h.driver.command("help", team_id=team)
        assert "How to use /tiktok-cancel" in text_of(answer)

        env["OLD_TOKEN_ENCRYPTION_KEY"] = Fernet.generate_key().decode()  # neither key
        env["TOKEN_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
        code, out, _ = await run_cli(tmp_path, env, "rotate-key")
        assert code == 1
        assert "1 workspace(s)' Slack tokens could be read with neither key" in out
        for value in (ws.bot_token, ws.refresh_token):
            assert value not in out
