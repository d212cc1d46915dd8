"""`python -m bot audit export`: CSV (the default) or JSON, `--since`, bad arguments named, team
account changes included, on SQLite and PostgreSQL. CSV cells that a spreadsheet would run as a
formula get a leading `'` (OWASP CSV injection); JSON keeps every value exactly as recorded."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess

import pytest

from tests.accounts import (
    BOB,
    assert_no_secrets,
    team_with_bob,
)
from tests.cli_env import (
    cli,
    database_env,
    env_for,
    run_bot_cli,
    run_cli_with_database,
)
from tests.cli_process import run_bot
from tests.conftest import ADMIN, NOTIFY, text_of

REASONS = {
    "v_pub_url~v2.8800001": '=HYPERLINK("https://evil.example","click")',
    "v_pub_url~v2.8800002": "+1+cmd|' /C calc'!A0",
    "v_pub_url~v2.8800003": "-2+3",
    "v_pub_url~v2.8800004": "@SUM(A1:A9)",
    "v_pub_url~v2.8800005": "wrong=video, resend",
}
EXPECTED_CSV = {
    "v_pub_url~v2.8800001": '\'=HYPERLINK("https://evil.example","click")',
    "v_pub_url~v2.8800002": "'+1+cmd|' /C calc'!A0",
    "v_pub_url~v2.8800003": "'-2+3",
    "v_pub_url~v2.8800004": "'@SUM(A1:A9)",
    "v_pub_url~v2.8800005": "wrong=video, resend",  # not at the start: left alone
}


async def cancel_with_hostile_reasons(h) -> None:
    await h.link()
    for publish_id, reason in REASONS.items():
        h.tiktok.add_upload(publish_id, open_id="open-1")
        assert "TikTok is stopping" in text_of(await h.command(f"{publish_id} {reason}"))


async def export_as(h, tmp_path, fmt: str) -> str:
    code, out, err = await run_bot_cli(
        "audit", "export", "--format", fmt, env=env_for(h.settings), cwd=tmp_path
    )
    assert code == 0, err
    return out


async def test_csv_export_neutralises_formulas_and_json_keeps_values(h, tmp_path):
    await cancel_with_hostile_reasons(h)
    rows = list(csv.DictReader(io.StringIO(await export_as(h, tmp_path, "csv"))))
    cancels = {r["publish_id"]: r for r in rows if r["action"] == "cancel"}
    assert {p: r["reason"] for p, r in cancels.items()} == EXPECTED_CSV
    for row in rows:  # no cell of any column starts a formula
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value

    records = json.loads(await export_as(h, tmp_path, "json"))
    kept = {r["publish_id"]: r["reason"] for r in records if r["action"] == "cancel"}
    assert kept == REASONS


PID = "v_pub_url~v2.123456789"


EXPORT_COLUMNS = (
    "id",
    "started_at",
    "finished_at",
    "state",
    "team_id",
    "user_id",
    "channel_id",
    "publish_id",
    "source",
    "reason",
    "outcome",
    "http_status",
    "log_id",
    "latency_ms",
    "account",
)


async def export(h, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        run_bot, ["audit", "export", *args], tmp_path, **database_env(h.settings)
    )


async def two_cancels(h) -> None:
    await h.link()
    h.tiktok.add_upload(PID, open_id="open-1")
    assert "TikTok is stopping" in text_of(await h.command(f"{PID} wrong cut"))
    # TikTok said it would try: the second request is answered from that, with no call
    assert "TikTok is already stopping" in text_of(await h.command(f"{PID} again, to be sure"))


def assert_no_secret_printed(h, text: str) -> None:
    for secret in h.tiktok.all_secrets() + h.settings.secrets():
        assert secret not in text


async def test_audit_export_csv(h, tmp_path):
    await two_cancels(h)
    result = await export(h, tmp_path, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert set(EXPORT_COLUMNS) <= set(rows[0])
    cancels = [r for r in rows if r["publish_id"] == PID]
    assert [r["outcome"] for r in cancels] == ["ok", "already_stopping"]
    assert [r["reason"] for r in cancels] == ["wrong cut", "again, to be sure"]
    first = cancels[0]
    assert first["state"] == "finished"
    assert first["team_id"] == "T0001"
    assert first["user_id"] == "U1"
    assert first["channel_id"] == "C1"
    assert first["source"] == "command"
    assert first["http_status"] == "200"
    assert cancels[1]["http_status"] == ""  # no TikTok call
    assert first["log_id"] and first["log_id"] != cancels[1]["log_id"]
    assert first["account"] == "Brand Social"
    assert first["started_at"] <= first["finished_at"]
    assert int(first["latency_ms"]) >= 0
    assert_no_secret_printed(h, result.stdout + result.stderr)


async def test_audit_export_csv_is_the_default(h, tmp_path):
    await two_cancels(h)
    result = await export(h, tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("id,started_at")


async def test_audit_export_json(h, tmp_path):
    await two_cancels(h)
    result = await export(h, tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert all(set(EXPORT_COLUMNS) <= set(r) for r in rows)
    cancels = [r for r in rows if r["publish_id"] == PID]
    assert [r["outcome"] for r in cancels] == ["ok", "already_stopping"]
    assert cancels[0]["http_status"] == 200
    assert isinstance(cancels[0]["latency_ms"], int)
    assert_no_secret_printed(h, result.stdout + result.stderr)


async def test_audit_export_since(h, tmp_path):
    await two_cancels(h)
    everything = json.loads((await export(h, tmp_path, "--format", "json")).stdout)
    old = await export(h, tmp_path, "--format", "json", "--since", "2000-01-01")
    since_old = json.loads(old.stdout)
    assert since_old == everything
    future = await export(h, tmp_path, "--format", "json", "--since", "2999-01-01")
    assert future.returncode == 0
    assert json.loads(future.stdout) == []
    future_csv = await export(h, tmp_path, "--since", "2999-01-01")
    assert future_csv.stdout.strip().splitlines() == [",".join(everything[0])]
    cut = everything[-1]["started_at"]
    later = json.loads((await export(h, tmp_path, "--format", "json", "--since", cut)).stdout)
    assert [r["id"] for r in later] == [everything[-1]["id"]]


async def test_audit_export_bad_since(h, tmp_path):
    result = await export(h, tmp_path, "--since", "last tuesday")
    assert result.returncode != 0
    assert "--since" in result.stderr
    assert "last tuesday" in result.stderr
    assert "Traceback" not in result.stderr


async def test_audit_export_bad_format(h, tmp_path):
    result = await export(h, tmp_path, "--format", "xml")
    assert result.returncode != 0
    assert "xml" in result.stderr


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


@pytest.fixture
async def ha(h):
    """The harness with UADMIN in ADMIN_USERS and POST /notifications enabled."""
    await h.restart(admin_users=frozenset({ADMIN}), notify_token=NOTIFY)
    return h


async def test_audit_export_json_has_team_connect_and_grant_changes(ha, tmp_path):
    h = ha
    await team_with_bob(h)
    await h.command(f"team revoke brand <@{BOB}>", user_id=ADMIN)
    await h.command("team remove brand", user_id=ADMIN)

    result = await run_cli_with_database(h, tmp_path, "audit", "export", "--format", "json")

    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    actions = [r["action"] for r in exported]
    assert actions == ["team_connect", "grant", "revoke", "team_remove"]
    connect, grant, revoke, remove = exported
    assert (connect["user_id"], connect["account_kind"], connect["open_id"]) == (
        ADMIN,
        "team",
        "open-brand",
    )
    assert (grant["account"], grant["reason"], grant["user_id"]) == ("brand", BOB, ADMIN)
    assert (revoke["account"], revoke["reason"]) == ("brand", BOB)
    assert remove["account"] == "brand"
    assert all(r["state"] == "finished" for r in exported)
    assert_no_secrets(h, result.stdout + result.stderr)


async def test_audit_export_team_keeps_one_workspace(h, tmp_path):
    await two_cancels(h)
    team = h.slack.team_id
    mine = json.loads((await export(h, tmp_path, "--format", "json", "--team", team)).stdout)
    assert [r["publish_id"] for r in mine if r["action"] == "cancel"] == [PID, PID]
    assert {r["team_id"] for r in mine} == {team}
    assert all(r["retired_at"] is None for r in mine)
    other = await export(h, tmp_path, "--format", "json", "--team", "T_OTHER")
    assert other.returncode == 0 and json.loads(other.stdout) == []
