"""`python -m bot` (`run`, the default) as an operator runs it: start-up errors, `.env`, the
console script, serving until SIGTERM, and an attempt whose process died mid-call staying
visible."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from sandbox.fakes.driver import Driver
from sandbox.fakes.ports import free_port
from sandbox.fakes.server import Reply
from sandbox.fakes.slack_requests import post_signed, slash_command_body
from tests.cli_process import TIMEOUT_S, clean_env, run_bot
from tests.conftest import REDIRECT_URI

PID = "v_pub_url~v2.123456789"
REQUIRED = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "TIKTOK_CLIENT_KEY",
    "TIKTOK_CLIENT_SECRET",
    "TOKEN_ENCRYPTION_KEY",
)


def valid_settings(**overrides: str) -> dict[str, str]:
    values = {
        "SLACK_BOT_TOKEN": "xoxb-cli-test-token-0001",
        "SLACK_SIGNING_SECRET": "cli-signing-secret-0002",
        "TIKTOK_CLIENT_KEY": "ck_cli",
        "TIKTOK_CLIENT_SECRET": "cli-client-secret-0003",
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    values.update(overrides)
    return values


# --- start-up errors -------------------------------------------------------------------


def test_no_settings_names_every_missing_variable(tmp_path):
    result = run_bot([], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    for name in REQUIRED:
        assert len([line for line in lines if name in line]) == 1, (name, lines)
    assert any(".env.example" in line for line in lines)
    assert "Traceback" not in result.stderr
    assert len(lines) == len(REQUIRED) + 1


@pytest.mark.parametrize(
    "name, value",
    [
        ("TOKEN_ENCRYPTION_KEY", "notakey-but-secret-0004"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token-secret-0005"),
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind-secret-0006"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "yaml"),
        ("SLACK_API_URL", "ftp://slack.example"),
    ],
)
def test_malformed_setting_is_named(tmp_path, name, value):
    settings = valid_settings(**{name: value})
    result = run_bot([], tmp_path, **settings)
    assert result.returncode == 2, result.stderr
    output = result.stdout + result.stderr
    problems = [line for line in result.stderr.splitlines() if ".env.example" not in line]
    assert len(problems) == 1, problems
    assert name in problems[0]
    assert ".env.example" in result.stderr
    if name != "PORT":
        assert value not in output
    for key in ("SLACK_SIGNING_SECRET", "TIKTOK_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEY"):
        assert settings[key] not in output


def test_several_problems_at_once_and_no_secret_printed(tmp_path):
    settings = {
        "SLACK_BOT_TOKEN": "xoxp-secret-user-token-0007",
        "SLACK_SIGNING_SECRET": "signing-secret-value-0008",
        "TIKTOK_CLIENT_SECRET": "client-secret-value-0009",
        "TOKEN_ENCRYPTION_KEY": "notakey-secret-0010",
        "PORT": "abc",
    }
    result = run_bot([], tmp_path, **settings)
    assert result.returncode == 2
    stderr = result.stderr
    for name in ("SLACK_BOT_TOKEN", "TIKTOK_CLIENT_KEY", "TOKEN_ENCRYPTION_KEY", "PORT"):
        assert name in stderr
    for value in settings.values():
        if value != "abc":
            assert value not in result.stdout + stderr


def test_both_slack_modes_at_once_is_a_start_up_error_naming_both(tmp_path):
    settings = valid_settings(
        SLACK_CLIENT_ID="1111.2222", SLACK_CLIENT_SECRET="slack-client-secret-0011"
    )
    result = run_bot([], tmp_path, **settings)
    assert result.returncode == 2, result.stderr
    (problem,) = [line for line in result.stderr.splitlines() if ".env.example" not in line]
    assert "SLACK_BOT_TOKEN" in problem and "SLACK_CLIENT_ID" in problem
    assert "SLACK_CLIENT_SECRET" in problem
    output = result.stdout + result.stderr
    for key in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_SECRET"):
        assert settings[key] not in output


@pytest.mark.parametrize(
    "given, missing",
    [
        ({"SLACK_CLIENT_ID": "1111.2222"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_CLIENT_SECRET": "s-0012"}, "SLACK_CLIENT_ID"),
    ],
)
def test_many_workspaces_needs_both_client_settings(tmp_path, given, missing):
    settings = {k: v for k, v in valid_settings(**given).items() if k != "SLACK_BOT_TOKEN"}
    result = run_bot([], tmp_path, **settings)
    assert result.returncode == 2, result.stderr
    (problem,) = [line for line in result.stderr.splitlines() if ".env.example" not in line]
    assert f"{missing} is not set" in problem


# --- .env ------------------------------------------------------------------------------


def test_dotenv_is_read(tmp_path):
    settings = valid_settings()
    (tmp_path / ".env").write_text("PORT=abc\n")
    result = run_bot([], tmp_path, **settings)
    assert result.returncode == 2
    assert "PORT" in result.stderr


def test_dotenv_fills_missing_settings(tmp_path):
    settings = valid_settings()
    client_key = settings.pop("TIKTOK_CLIENT_KEY")
    (tmp_path / ".env").write_text(f"TIKTOK_CLIENT_KEY={client_key}\nPORT=abc\n")
    result = run_bot([], tmp_path, **settings)
    assert result.returncode == 2
    assert "TIKTOK_CLIENT_KEY" not in result.stderr
    assert "PORT" in result.stderr


def test_real_environment_wins_over_dotenv(tmp_path):
    settings = valid_settings(PORT="abc", LOG_LEVEL="INFO")
    (tmp_path / ".env").write_text("LOG_LEVEL=nonsense\nPORT=3000\n")
    result = run_bot([], tmp_path, **settings)
    assert result.returncode == 2
    assert "PORT" in result.stderr
    assert "LOG_LEVEL" not in result.stderr


# --- console script --------------------------------------------------------------------


def test_console_script_exists_and_helps(tmp_path):
    script = Path(sys.executable).parent / "tiktok-cancel-bot"
    assert script.exists()
    result = subprocess.run(
        [str(script), "--help"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr
    for word in ("keygen", "audit"):
        assert word in result.stdout


# --- serving ---------------------------------------------------------------------------


def bot_settings(slack, tiktok, db_path: Path, port: int) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "TIKTOK_CLIENT_KEY": tiktok.client_key,
        "TIKTOK_CLIENT_SECRET": tiktok.client_secret,
        "TIKTOK_API_URL": tiktok.url,
        "TIKTOK_REDIRECT_URI": REDIRECT_URI,
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_PATH": str(db_path),
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }


class BotProcess:
    """`python -m bot` in HTTP mode as a child process, driven over loopback."""

    def __init__(self, settings: dict[str, str], cwd: Path):
        self.settings = settings
        self.cwd = cwd
        self.url = f"http://127.0.0.1:{settings['PORT']}"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.cwd,
            env=clean_env(**self.settings),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise AssertionError(f"bot exited: {await self.proc.stderr.read()!r}")
            try:
                async with session.get(self.url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError("bot never answered /healthz")

    async def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        out, err = await asyncio.wait_for(self.proc.communicate(), TIMEOUT_S)
        return self.proc.returncode, (out + err).decode()

    async def kill_if_running(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await asyncio.wait_for(self.proc.wait(), TIMEOUT_S)


async def test_python_m_bot_serves_until_sigterm(slack, tiktok, tmp_path):
    db_path = tmp_path / "nested" / "dir" / "db.sqlite3"
    settings = bot_settings(slack, tiktok, db_path, free_port())
    bot = BotProcess(settings, tmp_path)
    async with aiohttp.ClientSession() as session:
        try:
            await bot.start(session)
            async with session.get(bot.url + "/healthz") as resp:
                assert (await resp.json())["mode"] == "http"
            url = slack.new_response_url()
            status, _ = await post_signed(
                session,
                bot.url + "/slack/events",
                slash_command_body("help", response_url=url),
                slack.signing_secret,
            )
            assert status == 200
            await slack.wait_for_responses(url, 1)
            code, output = await bot.stop(signal.SIGTERM)
        finally:
            await bot.kill_if_running()
    assert code == 0, output
    assert db_path.is_file()
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TIKTOK_CLIENT_SECRET"):
        assert settings[name] not in output
    assert settings["TOKEN_ENCRYPTION_KEY"] not in output


async def link_over_http(session, bot: BotProcess, slack, tiktok, user_id: str = "U1") -> None:
    """The Harness's consent round trip, against a bot in another process."""
    await Driver(session, slack, tiktok, bot.url).link(user_id, "open-1", "Brand Social")


def audit_rows(db_path: Path) -> list[dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY id")]
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


async def wait_for_started_row(db_path: Path) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = [r for r in audit_rows(db_path) if r["action"] == "cancel"]
        if rows and rows[-1]["state"] == "started":
            return rows[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no started cancel row: {audit_rows(db_path)}")


async def test_attempt_of_a_killed_process_stays_unfinished(slack, tiktok, tmp_path):
    db_path = tmp_path / "db.sqlite3"
    settings = bot_settings(slack, tiktok, db_path, free_port())
    first = BotProcess(settings, tmp_path)
    second = BotProcess(settings, tmp_path)
    async with aiohttp.ClientSession() as session:
        try:
            await first.start(session)
            await link_over_http(session, first, slack, tiktok)
            tiktok.add_upload(PID, open_id="open-1")
            tiktok.script("cancel", Reply(hang=True))
            url = slack.new_response_url()
            body = slash_command_body(f"{PID} mid-call", response_url=url)
            status, _ = await post_signed(
                session, first.url + "/slack/events", body, slack.signing_secret
            )
            assert status == 200
            started = await wait_for_started_row(db_path)
            await tiktok_saw_cancel(tiktok)
            code, _ = await first.stop(signal.SIGKILL)
            assert code == -signal.SIGKILL

            await second.start(session)
            result = await asyncio.to_thread(
                run_bot,
                ["audit", "export", "--format", "json"],
                tmp_path,
                DATABASE_PATH=str(db_path),
            )
            assert result.returncode == 0, result.stderr
            (row,) = [r for r in json.loads(result.stdout) if r["id"] == started["id"]]
            assert row["state"] == "started"
            assert row["outcome"] in (None, "")
            assert row["finished_at"] in (None, "")
            assert row["publish_id"] == PID
            assert row["reason"] == "mid-call"
            csv_out = await asyncio.to_thread(
                run_bot, ["audit", "export"], tmp_path, DATABASE_PATH=str(db_path)
            )
            (csv_row,) = [
                r
                for r in csv.DictReader(io.StringIO(csv_out.stdout))
                if r["id"] == str(started["id"])
            ]
            assert csv_row["state"] == "started"
            assert csv_row["outcome"] == ""
            code, _ = await second.stop(signal.SIGTERM)
            assert code == 0
        finally:
            await first.kill_if_running()
            await second.kill_if_running()
    assert slack.responses.get(url, []) == []  # the killed process never answered


async def tiktok_saw_cancel(tiktok) -> None:
    deadline = time.monotonic() + 5
    while not tiktok.calls_to("cancel"):
        assert time.monotonic() < deadline, "the cancel never reached TikTok"
        await asyncio.sleep(0.02)
