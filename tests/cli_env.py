"""Running `python -m bot …` as a subprocess with exactly the settings a test gives it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

# Every setting the bot reads: none may leak in from the developer's own environment.
SETTING_NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "TIKTOK_CLIENT_KEY",
    "TIKTOK_CLIENT_SECRET",
    "TIKTOK_REDIRECT_URI",
    "TIKTOK_API_URL",
    "TIKTOK_AUTHORIZE_URL",
    "TOKEN_ENCRYPTION_KEY",
    "OLD_TOKEN_ENCRYPTION_KEY",
    "DATABASE_PATH",
    "DATABASE_URL",
    "NOTIFY_TOKEN",
    "UPLOAD_TOKEN",
    "UPLOAD_ACCOUNTS",
    "UPLOAD_URL_PREFIXES",
    "AUDIT_CHANNEL",
    "ADMIN_USERS",
    "HOLD_SECONDS",
    "APPROVAL_HOURS",
    "AUDIT_RETENTION_DAYS",
    "HOST",
    "PORT",
    "METRICS_TOKEN",
    "METRICS_PORT",
    "LOG_LEVEL",
    "LOG_FORMAT",
)


def clean_env(**settings: str) -> dict[str, str]:
    """The process environment without any bot setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env.update(settings)
    return env


def env_for(settings, **extra: str) -> dict[str, str]:
    """A clean environment carrying a test's `Settings` (the fakes' URLs and secrets)."""
    values = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
        "SLACK_API_URL": settings.slack_api_url,
        "TIKTOK_CLIENT_KEY": settings.tiktok_client_key,
        "TIKTOK_CLIENT_SECRET": settings.tiktok_client_secret,
        "TIKTOK_REDIRECT_URI": settings.tiktok_redirect_uri or "",
        "TIKTOK_API_URL": settings.tiktok_api_url,
        "TOKEN_ENCRYPTION_KEY": settings.token_encryption_key,
        **database_env(settings),
    }
    return clean_env(**{**values, **extra})


def database_env(settings) -> dict[str, str]:
    """DATABASE_PATH, and DATABASE_URL when the test runs on PostgreSQL."""
    env = {"DATABASE_PATH": settings.database_path}
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    return env


async def run_bot_cli(
    *args: str, env: dict[str, str], cwd, timeout: float = 30
) -> tuple[int, str, str]:
    """`python -m bot *args`; returns (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out.decode(), err.decode()


async def cli(h, tmp_path, *args, **env) -> tuple[int, str, str]:
    """`python -m bot *args` with the harness's settings, DATABASE_URL included."""
    assert h.settings.database_url
    return await run_bot_cli(*args, env=env_for(h.settings, **env), cwd=tmp_path)


async def run_cli_with_database(h, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(**database_env(h.settings))
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )


async def run_cli(tmp_path, env, *args) -> tuple[int, str, str]:
    return await run_bot_cli(*args, env=env, cwd=tmp_path)
