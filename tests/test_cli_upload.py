"""`python -m bot upload`: a held upload from a shell step, which the running bot then starts;
the same key again is `already held`."""

from __future__ import annotations

import json

import pytest

from tests.conftest import text_of
from tests.held_helpers import SOURCE, held_harness, inits, msg, row, until
from tests.upload_helpers import top_posts


@pytest.fixture
async def hb(h):
    return await held_harness(h)


async def test_cli_upload_holds_then_the_running_bot_starts_it(hb, tmp_path):
    from tests.cli_env import env_for, run_bot_cli

    args = ("--channel", "C1", "--account", "brand", "--privacy", "SELF_ONLY")
    args += ("--title", "From CLI", "--hold", "0.5", "--key", "cli-run-1", SOURCE)
    code, out, err = await run_bot_cli("upload", *args, env=env_for(hb.settings), cwd=tmp_path)
    assert code == 0, err
    printed = json.loads(out)
    assert printed["upload_key"] == "cli-run-1" and printed["status"] == "held"
    (post,) = top_posts(hb)
    assert "\u201cFrom CLI\u201d goes to TikTok as Brand Social TT" in text_of(msg(post))
    await until(lambda: row(hb, "cli-run-1")["state"] == "started")
    (call,) = inits(hb)
    assert call.body["post_info"]["privacy_level"] == "SELF_ONLY"
    code, out, err = await run_bot_cli("upload", *args, env=env_for(hb.settings), cwd=tmp_path)
    assert code == 0, err
    again = json.loads(out)
    assert again["status"] == "already held" and again["ts"] == printed["ts"]
    assert len(inits(hb)) == 1 and len(top_posts(hb)) == 1


async def test_cli_upload_with_approvers_waits_for_approval(hb, tmp_path):
    from tests.cli_env import env_for, run_bot_cli

    args = ("--channel", "C1", "--account", "brand", "--privacy", "SELF_ONLY")
    args += ("--key", "cli-run-2", "--approvers", "UALICE,SLEADS", "--needed", "2", SOURCE)
    code, out, err = await run_bot_cli("upload", *args, env=env_for(hb.settings), cwd=tmp_path)
    assert code == 0, err
    printed = json.loads(out)
    assert printed["status"] == "awaiting approval" and "approve_by" in printed
    stored = row(hb, "cli-run-2")
    assert stored["state"] == "awaiting_approval" and stored["needed"] == 2
    assert json.loads(stored["approvers"]) == ["UALICE", "SLEADS"]
    (post,) = top_posts(hb)
    assert "waits for approval" in text_of(msg(post))
    code, out, err = await run_bot_cli(
        "upload",
        *args[:-3],
        "--approvers",
        "not-an-id",
        SOURCE,
        env=env_for(hb.settings),
        cwd=tmp_path,
    )
    assert code == 1 and "approval.approvers" in err
    assert inits(hb) == []
