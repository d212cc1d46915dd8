"""Names people recognise, for the OAuth confirm page: who a Slack user is and the workspace.

Asked of Slack (`users.info`, `auth.test`) with a short deadline; when Slack doesn't say, the
ID is shown instead, so the page always names someone. A person's display name and real name
are their own choice (anyone can call themselves "Alex Rivera"), so the page leads with what
no one else in the workspace can have: the user ID, the handle and, where the bot may read it
(`users:read.email`), the email.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.slack.output import SlackOut

log = logging.getLogger(__name__)

DEADLINE_S = 3.0


@dataclass(frozen=True)
class SlackPerson:
    """A Slack user as `users.info` describes them; "" for what Slack didn't say."""

    user_id: str  # set by Slack
    handle: str = ""  # `name`: unique in the workspace
    email: str = ""  # unique in the workspace; only with `users:read.email`
    real_name: str = ""  # self-chosen
    display_name: str = ""  # self-chosen

    @property
    def label(self) -> str:
        """A short name like "Alex Rivera (U123)", or just "U123" when Slack gave no name."""
        name = self.display_name or self.real_name or self.handle
        return f"{name} ({self.user_id})" if name and name != self.user_id else self.user_id


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


async def person(slack: SlackOut, team_id: str, user_id: str) -> SlackPerson:
    """Who `user_id` of `team_id` is, as far as Slack says within the deadline."""
    try:
        async with asyncio.timeout(DEADLINE_S):
            client = await slack.client(team_id)
            resp = await client.users_info(user=user_id)
    except Exception as exc:  # Slack unreachable or refusing: the ID will do
        log.warning("slack.users_info_failed", extra={"error": type(exc).__name__})
        return SlackPerson(user_id)
    user = resp.get("user")
    user = user if isinstance(user, dict) else {}
    profile = user.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    return SlackPerson(
        user_id=user_id,
        handle=_text(user.get("name")),
        email=_text(profile.get("email")),
        real_name=_text(profile.get("real_name")) or _text(user.get("real_name")),
        display_name=_text(profile.get("display_name")),
    )


async def workspace_label(slack: SlackOut, team_id: str) -> str:
    """The workspace's name from `auth.test` when it is this team, else its ID."""
    try:
        async with asyncio.timeout(DEADLINE_S):
            identity = await slack.identity(team_id)
    except Exception as exc:
        log.warning("slack.auth_test_failed", extra={"error": type(exc).__name__})
        return team_id
    name = str(identity.get("team") or "").strip()
    if name and identity.get("team_id") == team_id:
        return f"{name} ({team_id})"
    return team_id
