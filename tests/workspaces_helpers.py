"""The bot serving many workspaces (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET, no bot token), with a
workspace installed by writing its installation row the way the install flow stores it (the
Add to Slack round trip itself is tested with the install flow)."""

from __future__ import annotations

import time

from cryptography.fernet import Fernet

from storage import pipeline_tokens
from storage.installations import Installation, Installations
from storage.links import Link, Links

# The fake Slack's app credentials (its Sign in with Slack checks them).
CLIENT_ID = "1000000001.2000000002"
CLIENT_SECRET = "fake-client-secret"


async def install(h, team_id: str, bot_token: str, name: str = "") -> None:
    """Store `team_id`'s installation with `bot_token`, sealed with the bot's key."""
    installations = Installations(Fernet(h.settings.token_encryption_key.encode()))
    installation = Installation(
        team_id=team_id,
        bot_token=bot_token,
        team_name=name or f"Workspace {team_id}",
        bot_user_id="UBOT",
        bot_id="BBOT",
        installer_user_id="UINSTALLER",
    )
    await h.bot.parts.store.run(installations.save, installation)


async def many_workspaces(h, **overrides):
    """Restart `h` serving many workspaces, the fake Slack's workspace installed with its
    bot token. ADMIN_USERS, AUDIT_CHANNEL, NOTIFY_TOKEN and UPLOAD_TOKEN are set too, to show
    they don't apply to any workspace in this mode."""
    settings = {
        "slack_bot_token": None,
        "slack_client_id": h.slack.client_id,
        "slack_client_secret": h.slack.client_secret,
        "admin_users": frozenset({"UENVADMIN"}),
        "audit_channel": "CENVAUDIT",
        "notify_token": "env-notify-token",
        "upload_token": "env-upload-token",
        **overrides,
    }
    await h.restart(**settings)
    assert h.bot.parts.workspaces.many
    await install(h, h.slack.team_id, h.slack.bot_token)
    return h


async def store_link(
    h, team_id: str, kind: str, owner: str, open_id: str, expires_in: float = 86400
):
    """A TikTok link stored as the confirm page would store it (tokens the fake TikTok issued)."""
    h.tiktok.add_user(open_id, f"Account {open_id}")
    grant = h.tiktok.issue_token(open_id)
    link = Link(
        team_id=team_id,
        kind=kind,
        owner=owner,
        open_id=open_id,
        display_name=f"Account {open_id}",
        scope=grant.scope,
        access_token=grant.access_token,
        access_expires_at=time.time() + expires_in,
        refresh_token=grant.refresh_token,
        refresh_expires_at=time.time() + 86400 * 300,
        linked_by="UADMIN",
        linked_via="confirmed",
    )
    links = Links(Fernet(h.settings.token_encryption_key.encode()))
    await h.bot.parts.store.run(links.save, link)
    return grant


async def pipeline_token(h, team_id: str) -> str:
    _, token = await h.bot.parts.store.run(pipeline_tokens.make, team_id, "UADMIN")
    return token
