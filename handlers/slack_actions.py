"""Buttons: Cancel upload, its retry after linking (by key), Connect TikTok, any stale button.

Every click is acknowledged at once; a button we no longer know gets a quiet ephemeral word.
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import messages
from bot.actor import Actor
from bot.messages import held as held_messages
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
        async with services.working():
            actor = _actor(body)
            message = await services.buttons.cancel_clicked(actor, action.get("value", ""))
            await services.reply_to_click(body, actor, message)

    @app.action(messages.RETRY_KEY_ACTION)
    async def retry_clicked(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        async with services.working():
            actor = _actor(body)
            message = await services.buttons.retry_clicked(actor, action.get("value", ""))
            await services.reply_to_click(body, actor, message)

    @app.action(messages.CONNECT_ACTION)
    async def connect_clicked(ack: AsyncAck) -> None:
        await ack()  # a URL button: the browser does the rest

    @app.action(messages.DISCONNECT_ACTION)
    async def disconnect_clicked(ack: AsyncAck, body: dict) -> None:
        await ack()
        async with services.working():
            actor = _actor(body)
            message = await services.router.handle(actor, "disconnect")
            await services.reply_to_click(body, actor, message)

    @app.action(held_messages.CANCEL_HELD_ACTION)
    @app.action(held_messages.START_HELD_ACTION)
    async def held_clicked(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        async with services.working():
            actor = _actor(body)
            cancel = action.get("action_id") == held_messages.CANCEL_HELD_ACTION
            what = "cancel" if cancel else "start"
            if services.held is None:
                message = messages.stale_button_message()
            else:
                message = await services.held.clicked(
                    what, actor.team_id, actor.user_id, str(action.get("value") or "")
                )
            await services.reply_to_click(body, actor, message)

    @app.action(re.compile(".*"))
    async def stale_button(ack: AsyncAck, body: dict) -> None:
        await ack()
        async with services.working():
            await services.reply_to_click(body, _actor(body), messages.stale_button_message())
