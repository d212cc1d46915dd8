"""`python -m bot accounts`: linked TikTok accounts and grants, never a token; on SQLite and
PostgreSQL, and one line when the database can't be reached."""

from __future__ import annotations

import pytest

from tests.accounts import (
    BOB,
    CAROL,
    assert_no_secrets,
    team_with_bob,
)
from tests.cli_env import cli, env_for, run_bot_cli, run_cli_with_database
from tests.conftest import ADMIN, NOTIFY, text_of


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


@pytest.fixture
async def ha(h):
    """The harness with UADMIN in ADMIN_USERS and POST /notifications enabled."""
    await h.restart(admin_users=frozenset({ADMIN}), notify_token=NOTIFY)
    return h


async def test_cli_accounts_lists_links_and_grants_never_tokens(ha, tmp_path):
    h = ha
    await team_with_bob(h)
    await h.link(CAROL, open_id="open-carol", display_name="Carol Own")

    result = await run_cli_with_database(h, tmp_path, "accounts")

    assert result.returncode == 0, result.stderr
    out = result.stdout
    team_line = next(line for line in out.splitlines() if "team account brand" in line)
    assert "Brand Social" in team_line and "open-brand" in team_line and ADMIN in team_line
    carol_line = next(line for line in out.splitlines() if f"user {CAROL}" in line)
    assert "Carol Own" in carol_line and "open-carol" in carol_line
    grant_lines = [line for line in out.splitlines() if "brand:" in line]
    assert any(BOB in line and f"granted by {ADMIN}" in line for line in grant_lines)
    assert any(f"brand: {ADMIN}" in line for line in grant_lines)
    assert_no_secrets(h, result.stdout + result.stderr)
