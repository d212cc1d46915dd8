"""Slack events: the App Home tab is (re)built when someone opens it; a workspace that
uninstalls the app or revokes the bot's token is forgotten (either event, in either order)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.accounts.uninstall import BOT_TOKEN_REVOKED, UNINSTALLED, WorkspaceUninstall
from bot.actor import Actor
from bot.background import Background
from bot.commands.home import HomeService


def register(
    app: AsyncApp, *, home: HomeService, uninstall: WorkspaceUninstall, work: Background
) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict, body: dict) -> None:
        if event.get("tab", "home") != "home":
            return
        actor = Actor(team_id=body.get("team_id", ""), user_id=event.get("user", ""))
        async with work.working():
            await home.publish(actor)

    @app.event("app_uninstalled")
    async def uninstalled(body: dict) -> None:
        async with work.working():
            await uninstall.forget(str(body.get("team_id") or ""), UNINSTALLED)

    @app.event("tokens_revoked")
    async def tokens_revoked(event: dict, body: dict) -> None:
        tokens = event.get("tokens")
        bots = tokens.get("bot") if isinstance(tokens, dict) else None
        if not bots:  # people's own tokens: the bot keeps none, nothing to forget
            return
        async with work.working():
            await uninstall.forget(str(body.get("team_id") or ""), BOT_TOKEN_REVOKED)
