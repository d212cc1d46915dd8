"""Buttons: Cancel upload (and its retry after linking), Connect TikTok, and any stale button.

Every click is acknowledged at once; a button we no longer know gets a quiet ephemeral word.
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import messages
from bot.outcome import Actor
from bot.services import Services


def _actor(body: dict) -> Actor:
    user = body.get("user") or {}
    team = body.get("team") or {}
    channel = body.get("channel") or {}
    return Actor(
        team_id=team.get("id") or user.get("team_id", ""),
        user_id=user.get("id", ""),
        channel_id=channel.get("id", ""),
        source="button",
    )


def register_actions(app: AsyncApp, services: Services) -> None:
    @app.action(messages.CANCEL_ACTION)
    @app.action(messages.RETRY_ACTION)
    async def cancel_clicked(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        message = await services.buttons.cancel_clicked(_actor(body), action.get("value", ""))
        await services.slack.respond(body.get("response_url"), message)

    @app.action(messages.CONNECT_ACTION)
    async def connect_clicked(ack: AsyncAck) -> None:
        await ack()  # a URL button: the browser does the rest

    @app.action(re.compile(".*"))
    async def stale_button(ack: AsyncAck, body: dict) -> None:
        await ack()
        await services.slack.respond(body.get("response_url"), messages.stale_button_message())
