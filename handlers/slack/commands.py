"""The `/tiktok-cancel` slash command: ack at once, then route the text and reply ephemerally."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.actor import Actor
from bot.background import Background
from bot.commands.router import CommandRouter
from bot.interactions import COMMAND
from bot.slack.output import SlackOut


def unescape_slack(text: str) -> str:
    """Slack sends &, < and > that a person typed as &amp;, &lt; and &gt; (its own mentions
    stay <@U…|name>); undo that once, so a reason is stored as typed and escaped once."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def register(app: AsyncApp, *, router: CommandRouter, slack: SlackOut, work: Background) -> None:
    @app.command(COMMAND)
    async def tiktok_cancel(ack: AsyncAck, body: dict) -> None:
        await ack()
        async with work.working():
            actor = Actor(
                team_id=body.get("team_id", ""),
                user_id=body.get("user_id", ""),
                channel_id=body.get("channel_id", ""),
                source="command",
            )
            text = unescape_slack(body.get("text", ""))
            message = await router.handle(actor, text)
            await slack.respond(body.get("response_url"), message)
