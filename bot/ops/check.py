"""`python -m bot check`: the operator tool that touches the outside (Slack, TikTok, the database).

`check` validates the settings, asks Slack `auth.test` and TikTok's token endpoint once, and
prints what works and what does not. With many workspaces (Add to Slack) it asks Slack whether
the app's client ID and secret are accepted, and `auth.test` with each installed workspace's
token. Key rotation is `bot.ops.keys`.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from cryptography.fernet import Fernet
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import make_url

from bot.ops.copy_db import one_line
from bot.settings import Settings
from bot.slack.scopes import BOT_SCOPES
from bot.tiktok.client import TikTokClient
from storage.db import Store
from storage.installations import Installation, Installations

Say = Callable[[str], None]
CLIENT_PROBLEMS = {"invalid_client", "unauthorized_client"}


def scope_report(granted_header: str | None) -> tuple[bool, str]:
    """What `auth.test`'s `x-oauth-scopes` header says of the scopes the bot needs."""
    if granted_header is None:
        return True, "slack: Slack didn't say which scopes the token has (no x-oauth-scopes)"
    granted = {s.strip() for s in granted_header.split(",") if s.strip()}
    missing = [s for s in BOT_SCOPES if s not in granted]
    if not missing:
        return True, "slack: the token has every scope manifest.yml asks for"
    return False, (
        f"slack: the token lacks {', '.join(missing)}; add them under OAuth & Permissions "
        "(manifest.yml lists them) and reinstall the app to the workspace"
    )


async def check(settings: Settings, say: Say = print) -> int:
    """Print one line per check ("ok" or "PROBLEM"); returns how many problems there were."""
    problems = 0

    def report(ok: bool, text: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        say(("ok       " if ok else "PROBLEM  ") + text)

    report(True, "settings: every required setting is present and well formed")
    where = describe_database(settings.store_url)
    store = Store(settings.store_url)
    installed: list[Installation] | None = None
    try:
        store.call(lambda db: db.execute("SELECT 1").scalar())
        report(True, f"database: {where}: reachable and up to date")
        if settings.many_workspaces:
            sealed = Installations(Fernet(settings.token_encryption_key.encode()))
            installed = store.call(sealed.all)
    except Exception as exc:  # any failure means "not usable"; the line says which
        report(False, f"database: {where}: can't be used: {one_line(exc, settings.store_url)}")
    finally:
        store.close()
    async with aiohttp.ClientSession() as session:
        if settings.many_workspaces:
            await _check_workspaces(settings, session, installed, report, say)
        else:
            await _check_bot_token(settings, session, report)
        tiktok = TikTokClient.from_settings(session, settings)
        # A refresh with a token that can't exist: TikTok answers invalid_grant when it is
        # reachable and accepts our client key and secret, invalid_client when it doesn't.
        result = await tiktok.refresh("tiktok-cancel-check")
        if result.code in CLIENT_PROBLEMS:
            report(
                False,
                f"tiktok: reachable, but it refuses the client ({result.code}); "
                "check TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET",
            )
        elif result.code in ("timeout", "connection_failed", "server_error", "bad_response"):
            report(False, f"tiktok: not reachable at {settings.tiktok_api_url} ({result.code})")
        else:
            report(True, f"tiktok: reachable at {settings.tiktok_api_url}, client accepted")
    report(
        bool(settings.tiktok_redirect_uri),
        "linking: TIKTOK_REDIRECT_URI "
        + ("is set" if settings.tiktok_redirect_uri else "is not set, so nobody can connect"),
    )
    mode = "Socket Mode (SLACK_APP_TOKEN set)" if settings.socket_mode else "HTTP mode"
    if settings.many_workspaces:
        say(
            f"info     mode: {mode}, many workspaces (Add to Slack at /slack/install); the "
            "notifications and uploads routes take each workspace's pipeline tokens"
        )
        return problems
    say(
        f"info     mode: {mode}; notifications route "
        + ("on" if settings.notify_token else "off (NOTIFY_TOKEN unset)")
        + "; uploads route "
        + ("on" if settings.upload_token else "off (UPLOAD_TOKEN unset)")
    )
    return problems


def _slack_error(exc: Exception) -> str:
    error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error")
    return str(error or type(exc).__name__)


async def _check_bot_token(settings: Settings, session, report) -> None:
    """One workspace: its bot token works, with every scope."""
    slack = AsyncWebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, session=session
    )
    try:
        resp = await slack.auth_test()
        report(True, f"slack: auth.test ok as {resp.get('user')} in team {resp.get('team')}")
        report(*scope_report(_header(resp.headers, "x-oauth-scopes")))
    except Exception as exc:
        report(
            False,
            f"slack: auth.test failed ({_slack_error(exc)}); "
            "check SLACK_BOT_TOKEN and SLACK_API_URL",
        )


# What oauth.v2.access answers a code that can't exist, once it has checked the app's
# credentials: they were accepted.
CREDENTIALS_ACCEPTED = {"invalid_code", "invalid_grant", "code_already_used"}


async def _check_workspaces(
    settings: Settings, session, installed: list[Installation] | None, report, say
) -> None:
    """Many workspaces: the app's OAuth credentials, then each installed workspace's token."""
    slack = AsyncWebClient(base_url=settings.slack_api_url, session=session)
    try:
        await slack.oauth_v2_access(
            client_id=settings.slack_client_id or "",
            client_secret=settings.slack_client_secret or "",
            code="tiktok-cancel-check",
        )
        error = "accepted_a_made_up_code"
    except Exception as exc:
        error = _slack_error(exc)
    if error in CREDENTIALS_ACCEPTED:
        report(True, "slack: the app's client ID and secret are accepted (Add to Slack works)")
    else:
        report(
            False,
            f"slack: oauth.v2.access refused the app ({error}); "
            "check SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_API_URL",
        )
    if installed is None:
        return  # the database said why
    if not installed:
        say("info     slack: no workspace has installed the app yet (open /slack/install)")
    for workspace in installed:
        await _check_workspace(settings, session, workspace, report)


async def _check_workspace(settings: Settings, session, workspace: Installation, report) -> None:
    name = f"workspace {workspace.team_id}" + (
        f" ({workspace.team_name})" if workspace.team_name else ""
    )
    if not workspace.bot_token:
        report(
            False,
            f"slack: {name}: its token can't be read with TOKEN_ENCRYPTION_KEY; add the app to "
            "the workspace again (/slack/install)",
        )
        return
    client = AsyncWebClient(
        token=workspace.bot_token, base_url=settings.slack_api_url, session=session
    )
    try:
        resp = await client.auth_test()
    except Exception as exc:
        error = _slack_error(exc)
        hint = "add the app to the workspace again (/slack/install)"
        if error == "token_expired" and workspace.bot_refresh_token:
            hint = "the bot renews it before its next use; if this stays, " + hint
        report(False, f"slack: {name}: Slack refuses its token ({error}); {hint}")
        return
    report(True, f"slack: {name}: its token works (as {resp.get('user')})")
    ok, text = scope_report(_header(resp.headers, "x-oauth-scopes"))
    if not ok:
        report(False, text.replace("slack: the token", f"slack: {name}: its token", 1))


def _header(headers, name: str) -> str | None:
    """A response header by name, whatever its case (slack_sdk keeps the server's)."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value if isinstance(value, str) else ",".join(value)
    return None


def describe_database(url: str) -> str:
    """Which database, for a person: "SQLite file …" or "PostgreSQL …" (never a password)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    host = parsed.host or parsed.query.get("host") or "local socket"
    return f"PostgreSQL {parsed.database or ''} on {host}" + (
        f":{parsed.port}" if parsed.port else ""
    )
