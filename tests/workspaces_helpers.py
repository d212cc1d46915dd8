"""The bot serving many workspaces (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET, no bot token), with a
workspace installed by writing its installation row the way the install flow stores it (the
Add to Slack round trip itself is tested with the install flow)."""

from __future__ import annotations

from cryptography.fernet import Fernet

from storage.installations import Installation, Installations

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "slack-client-secret-for-tests"


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
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
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
