"""Names people recognise, for the OAuth confirm page: a Slack user's name and the workspace's.

Asked of Slack (`users.info`, `auth.test`) with a short deadline; when Slack doesn't say, the
ID is shown instead, so the page always names someone.
"""

from __future__ import annotations

import asyncio
import logging

from bot.slack_out import SlackOut

log = logging.getLogger(__name__)

DEADLINE_S = 3.0


async def user_label(slack: SlackOut, user_id: str) -> str:
    """A label like "Alex Rivera (U123)", or just "U123" when Slack gives no name."""
    try:
        async with asyncio.timeout(DEADLINE_S):
            resp = await slack.client.users_info(user=user_id)
        user = resp.get("user") or {}
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or ""
        )
    except Exception as exc:  # Slack unreachable or refusing: the ID will do
        log.warning("slack.users_info_failed", extra={"error": type(exc).__name__})
        name = ""
    name = str(name).strip()
    return f"{name} ({user_id})" if name and name != user_id else user_id


async def workspace_label(slack: SlackOut, team_id: str) -> str:
    """The workspace's name from `auth.test` when it is this team, else its ID."""
    try:
        async with asyncio.timeout(DEADLINE_S):
            identity = await slack.identity()
    except Exception as exc:
        log.warning("slack.auth_test_failed", extra={"error": type(exc).__name__})
        return team_id
    name = str(identity.get("team") or "").strip()
    if name and identity.get("team_id") == team_id:
        return f"{name} ({team_id})"
    return team_id
