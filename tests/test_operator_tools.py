"""Operator tools: `python -m bot check` and `python -m bot rotate-key`, run as a person would."""

from __future__ import annotations

import re
from pathlib import Path

from cryptography.fernet import Fernet

from bot.slack.scopes import BOT_SCOPES
from tests.cli_env import clean_env, env_for, run_bot_cli
from tests.conftest import db_rows, text_of


async def run_cli(tmp_path, env, *args) -> tuple[int, str, str]:
    return await run_bot_cli(*args, env=env, cwd=tmp_path)


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
        "mpim:read, im:read; add "
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
