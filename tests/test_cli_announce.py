"""`python -m bot announce`: the same announcement from a shell step, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.cli_env import cli, env_for, run_bot_cli
from tests.conftest import buttons, notify, text_of
from tests.pg import pg_rows
from tests.upload_helpers import PID, announce, stored, thread_posts, top_posts, updates

# --- python -m bot announce ------------------------------------------------------------------


async def run_announce(h, cwd, *args: str) -> tuple[int, str, str]:
    return await run_bot_cli("announce", *args, env=env_for(h.settings), cwd=cwd, timeout=20)


async def test_cli_announce_posts_and_prints_channel_and_ts_then_is_idempotent(hn, tmp_path):
    h = hn
    code, out, err = await run_announce(
        h, tmp_path, "--channel", "C1", PID, "--title", "CLI teaser", "--account", "brand"
    )
    assert code == 0, err
    printed = json.loads(out)
    (post,) = top_posts(h)
    assert printed["channel"] == "C1" and ("C1", printed["ts"]) in h.slack.messages
    assert printed["status"] == "posted"
    assert "CLI teaser" in text_of(post.params) and "brand" in text_of(post.params)
    assert [b["action_id"] for b in buttons(post.params)] == ["cancel_upload"]
    row = stored(h)
    assert (row["channel"], row["ts"]) == ("C1", printed["ts"])

    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", PID)
    assert code == 0, err
    again = json.loads(out)
    assert (again["channel"], again["ts"]) == (printed["channel"], printed["ts"])
    assert "already announced" in out
    assert len(top_posts(h)) == 1
    status, body = await notify(h, {"publish_id": PID, "channel": "C1"})
    assert (status, body) == (200, {"channel": "C1", "ts": printed["ts"]})


async def test_cli_announce_after_the_route_says_already_announced(hn, tmp_path):
    h = hn
    first = await announce(h)
    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", PID)
    assert code == 0, err
    assert "already announced" in out and first["ts"] in out
    assert len(top_posts(h)) == 1


async def test_cli_announce_channel_not_found_exits_non_zero_with_invite_advice(hn, tmp_path):
    h = hn
    h.slack.fail("chat.postMessage", error="channel_not_found")
    code, out, err = await run_announce(h, tmp_path, "--channel", "C404", PID)
    assert code != 0
    assert "invite" in err.lower()
    assert "Traceback" not in err
    assert stored(h) is None


async def test_cli_announce_bad_publish_id_exits_non_zero_and_names_it(hn, tmp_path):
    h = hn
    calls = len(h.slack.calls_to("chat.postMessage"))
    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", "bad id")
    assert code != 0
    assert "publish_id" in err
    assert len(h.slack.calls_to("chat.postMessage")) == calls


async def test_cli_announce_with_slack_5xx_exits_non_zero_without_a_traceback(hn, tmp_path):
    h = hn
    h.slack.fail_http("chat.postMessage", status=502)
    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", PID)
    assert code != 0
    assert "Traceback" not in err, err
    assert "slack" in err.lower()
    assert stored(h) is None


async def test_cli_announce_with_slack_auth_down_exits_non_zero_without_a_traceback(hn, tmp_path):
    h = hn
    h.slack.fail_http("auth.test", status=502)
    code, out, err = await run_announce(h, tmp_path, "--channel", "C1", PID)
    assert code != 0
    assert "Traceback" not in err, err
    assert "slack" in err.lower()
    assert stored(h) is None


async def test_a_click_by_someone_without_a_link_stays_off_the_public_announcement(hn):
    h = hn
    status, body = await notify(h, {"publish_id": PID, "channel": "C1", "title": "Teaser"})
    assert status == 201
    answer = await h.click("cancel_upload", PID, user_id="U9")
    assert "haven't linked" in text_of(answer)
    await h.bot.parts.cancels.drain()
    assert updates(h, body["ts"]) == [], "a personal problem does not rewrite the announcement"
    # answered to the person and kept in the audit log; the channel's thread hears nothing
    assert thread_posts(h, body["ts"]) == []
    assert [(r["user_id"], r["outcome"]) for r in h.audit_rows()] == [("U9", "not_linked")]
    assert h.tiktok.calls_to("cancel") == []


ANNOUNCED = "v_pub_url~v2.2002"


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
