"""Buttons: Cancel upload, its retry after linking (by key), Connect TikTok, Disconnect, a held
upload's Cancel / Start now, any stale button.

Every click is acknowledged at once; a button we no longer know gets a quiet ephemeral word.
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import messages
from bot.actor import Actor
from bot.background import Background
from bot.commands.buttons import Buttons, ClickReplies
from bot.commands.router import CommandRouter
from bot.interactions import (
    CANCEL_ACTION,
    CANCEL_HELD_ACTION,
    CONNECT_ACTION,
    DISCONNECT_ACTION,
    RETRY_ACTION,
    RETRY_KEY_ACTION,
    START_HELD_ACTION,
)
from bot.uploads.held import HeldUploads


def actor_of(body: dict) -> Actor:
    user = body.get("user") or {}
    team = body.get("team") or {}
    channel = body.get("channel") or {}
    return Actor(
        team_id=team.get("id") or user.get("team_id", ""),
        user_id=user.get("id", ""),
        channel_id=channel.get("id", ""),
        source="button",
    )


def response_url_of(body: dict) -> str:
    return body.get("response_url") or ""


def register(
    app: AsyncApp,
    *,
    buttons: Buttons,
    router: CommandRouter,
    held: HeldUploads,
    replies: ClickReplies,
    work: Background,
) -> None:
    @app.action(CANCEL_ACTION)
    @app.action(RETRY_ACTION)
    async def cancel_clicked(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        async with work.working():
            actor = actor_of(body)
            message = await buttons.cancel_clicked(actor, action.get("value", ""))
            await replies.send(response_url_of(body), actor, message)

    @app.action(RETRY_KEY_ACTION)
    async def retry_clicked(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        async with work.working():
            actor = actor_of(body)
            message = await buttons.retry_clicked(actor, action.get("value", ""))
            await replies.send(response_url_of(body), actor, message)

    @app.action(CONNECT_ACTION)
    async def connect_clicked(ack: AsyncAck) -> None:
        await ack()  # a URL button: the browser does the rest

    @app.action(DISCONNECT_ACTION)
    async def disconnect_clicked(ack: AsyncAck, body: dict) -> None:
        await ack()
        async with work.working():
            actor = actor_of(body)
            message = await router.handle(actor, "disconnect")
            await replies.send(response_url_of(body), actor, message)

    @app.action(CANCEL_HELD_ACTION)
    @app.action(START_HELD_ACTION)
    async def held_clicked(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        async with work.working():
            actor = actor_of(body)
            what = "cancel" if action.get("action_id") == CANCEL_HELD_ACTION else "start"
            message = await held.clicked(
                what, actor.team_id, actor.user_id, str(action.get("value") or "")
            )
            await replies.send(response_url_of(body), actor, message)

    @app.action(re.compile(".*"))
    async def stale_button(ack: AsyncAck, body: dict) -> None:
        await ack()
        async with work.working():
            actor = actor_of(body)
            await replies.send(response_url_of(body), actor, messages.stale_button_message())
