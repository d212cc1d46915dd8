"""Requests Slack sends TO the bot: signed slash commands, block_actions and view_submission
payloads, and Events API `event_callback` bodies (`app_home_opened`, `app_uninstalled`,
`tokens_revoked`, …).

The payload builders return dicts, reused both for HTTP-mode bodies (urlencoded, signed
with the signing secret; events as JSON) and for Socket Mode envelopes
(`FakeSlack.send_envelope`).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

APP_ID = "A1"
TEAM_DOMAIN = "fake"


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to a request: timestamp, v0 signature and content type."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slash_command_payload(
    text: str,
    *,
    response_url: str,
    user_id: str = "U1",
    user_name: str = "alice",
    team_id: str = "T0001",
    channel_id: str = "C1",
    command: str = "/tiktok-cancel",
    trigger_id: str = "trig",
) -> dict[str, str]:
    """The fields Slack sends for a slash command (form fields, or a Socket Mode payload)."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def slash_command_body(text: str, **kwargs: str) -> str:
    """`slash_command_payload(...)` urlencoded, as the HTTP-mode request body."""
    return urlencode(slash_command_payload(text, **kwargs))


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user_id: str = "U1",
    user_name: str = "alice",
    team_id: str = "T0001",
    channel_id: str = "C1",
    message_ts: str = "1700000000.000100",
    block_id: str = "b1",
    trigger_id: str = "trig",
    message_text: str = "",
) -> dict[str, object]:
    """A `block_actions` payload for a button click on a bot message."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "channel": {"id": channel_id, "name": "general"},
        "message": {
            "type": "message",
            "user": "UBOT",
            "ts": message_ts,
            "text": message_text,
            "blocks": [],
        },
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def view_submission_payload(
    view: dict[str, Any],
    *,
    user_id: str = "U1",
    user_name: str = "alice",
    team_id: str = "T0001",
    trigger_id: str = "trig",
) -> dict[str, object]:
    """A `view_submission` payload: `user_id` pressed the modal's submit button. `view` is
    the view as Slack holds it (id, callback_id, private_metadata, blocks, hash, …) with
    `state.values` filled in as the person left the inputs."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = "T0001",
    api_app_id: str = APP_ID,
    bot_user_id: str | None = None,
    enterprise_id: str | None = None,
    event_id: str | None = None,
    event_time: int | None = None,
) -> dict[str, Any]:
    """The Events API wrapper around `event` for workspace `team_id`, as Slack posts it;
    with `bot_user_id`, the `authorizations` naming the installation it is for."""
    body: dict[str, Any] = {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + secrets.token_hex(6).upper(),
        "event_time": int(time.time()) if event_time is None else event_time,
    }
    if enterprise_id is not None:
        body["enterprise_id"] = enterprise_id
    if bot_user_id is not None:
        body["authorizations"] = [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ]
        body["is_ext_shared_channel"] = False
    return body


def app_home_opened_event(user_id: str) -> dict[str, Any]:
    """`user_id` opened the app's Home tab."""
    return {"type": "app_home_opened", "user": user_id, "tab": "home", "channel": "D" + user_id}


def app_uninstalled_event() -> dict[str, Any]:
    """The app was uninstalled from the workspace (the wrapper's `team_id` says which)."""
    return {"type": "app_uninstalled"}


def tokens_revoked_event(oauth=(), bot=()) -> dict[str, Any]:
    """Tokens of the workspace were revoked: the user ids of its user (`oauth`) and bot
    (`bot`) tokens, as Slack names them (ids, never the tokens)."""
    tokens: dict[str, list[str]] = {}
    if oauth:
        tokens["oauth"] = list(oauth)
    if bot:
        tokens["bot"] = list(bot)
    return {"type": "tokens_revoked", "tokens": tokens}


def interactive_body(payload: dict[str, object]) -> str:
    """`payload=<urlencoded JSON>`, as Slack posts interactivity in HTTP mode."""
    return urlencode({"payload": json.dumps(payload)})


def block_actions_body(action_id: str, value: str, **kwargs: str) -> str:
    """A click's `payload=<urlencoded JSON>` body, as Slack posts it in HTTP mode."""
    return interactive_body(block_actions_payload(action_id, value, **kwargs))


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: str,
    secret: str,
    timestamp: int | None = None,
    extra_headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST `body` to the bot signed like Slack would; returns (status, text)."""
    headers = sign(secret, body, timestamp)
    headers.update(extra_headers or {})
    async with session.post(url, data=body.encode(), headers=headers) as response:
        return response.status, await response.text()
