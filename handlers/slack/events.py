"""Slack events: the App Home tab is (re)built when someone opens it."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.actor import Actor
from bot.background import Background
from bot.commands.home import HomeService


def register(app: AsyncApp, *, home: HomeService, work: Background) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict, body: dict) -> None:
        if event.get("tab", "home") != "home":
            return
        actor = Actor(team_id=body.get("team_id", ""), user_id=event.get("user", ""))
        async with work.working():
            await home.publish(actor)
