"""One Slack workspace as the fake Slack holds it: its bot, its people, conversations and groups.

A `FakeWorkspace` is what a bot token of that workspace sees: `users.info`, `conversations.*`
and `usergroups.*` answer from its `users`, `channels` and `usergroups`, and its bot is
`bot_user_id` / `bot_id`. Two workspaces may use the same user and channel ids for different
people and rooms (ids are only unique inside one fake workspace here, as a test wants them).

Conversations: a channel the workspace never declared is a public channel with everyone in
it; a `D…` id is the DM with the user after the `D`. `SlackUser`, `SlackChannel` and
`SlackUsergroup` render what the Web API says of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.slack.scopes import BOT_SCOPES

CONVERSATION_TYPES = ("public_channel", "private_channel", "mpim", "im")
DEFAULT_EXPIRES_IN = 43200  # Slack's rotating bot tokens live 12 hours


@dataclass
class SlackUser:
    """What users.info returns for one user. `name` is the handle (unique in the workspace);
    the display name and real name are the person's own choice and default to the handle;
    the email is in `profile.email` only while the bot has `users:read.email`."""

    id: str
    team_id: str
    name: str
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    display_name: str | None = None
    real_name: str | None = None
    email: str | None = None

    @property
    def shown_real_name(self) -> str:
        return self.name.title() if self.real_name is None else self.real_name

    @property
    def shown_email(self) -> str:
        return self.email if self.email is not None else f"{self.id.lower()}@example.com"

    def to_json(self, with_email: bool = True) -> dict[str, Any]:
        real_name = self.shown_real_name
        display_name = self.name if self.display_name is None else self.display_name
        profile = {"real_name": real_name, "display_name": display_name}
        if with_email and not self.is_bot:
            profile["email"] = self.shown_email
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": real_name,
            "deleted": self.deleted,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_owner,
            "is_bot": self.is_bot,
            "tz": "UTC",
            "profile": profile,
        }


@dataclass
class SlackUsergroup:
    """One user group (`@handle`): what usergroups.list says of it, and its members."""

    id: str
    team_id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    disabled: bool = False

    def to_json(self, with_users: bool = False, with_count: bool = False) -> dict[str, Any]:
        group: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "name": self.name,
            "description": "",
            "handle": self.handle,
            "is_external": False,
            "date_create": 1700000000,
            "date_update": 1700000000,
            "date_delete": 1700000001 if self.disabled else 0,
            "auto_type": None,
            "created_by": "USLACKBOT",
            "updated_by": "USLACKBOT",
            "deleted_by": "USLACKBOT" if self.disabled else None,
            "prefs": {"channels": [], "groups": []},
        }
        if with_users:
            group["users"] = list(self.users)
        if with_count:
            group["user_count"] = len(self.users)
        return group


@dataclass
class SlackChannel:
    """One conversation as conversations.info describes it, with its members."""

    id: str
    type: str = "public_channel"  # one of CONVERSATION_TYPES
    members: list[str] = field(default_factory=list)
    name: str = ""
    bot_user_id: str = "UBOT"

    def to_json(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": self.id,
            "created": 1700000000,
            "is_archived": False,
            "is_channel": self.type in ("public_channel", "private_channel"),
            "is_group": False,
            "is_im": self.type == "im",
            "is_mpim": self.type == "mpim",
            "is_private": self.type != "public_channel",
        }
        if self.type == "im":
            others = [m for m in self.members if m != self.bot_user_id]
            info["user"] = others[0] if others else ""
        else:
            info["name"] = self.name or self.id.lower()
            info["is_member"] = True
        return info


@dataclass
class FakeWorkspace:
    """One workspace (team) with the app installed in it. `bot_token` is the bot token it
    was given last (live until revoked, or, with `rotation`, until it expires); `installed`
    turns False on `FakeSlack.uninstall`. `bot_scopes` are what its bot token may do (every
    answer names them in `x-oauth-scopes`): by default those manifest.yml asks for."""

    team_id: str
    name: str
    domain: str
    bot_user_id: str
    bot_id: str
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    rotation: bool = False
    expires_in: int = DEFAULT_EXPIRES_IN
    bot_token: str = ""
    refresh_token: str = ""
    installed: bool = True
    bot_scopes: list[str] = field(default_factory=lambda: list(BOT_SCOPES))
    users: dict[str, SlackUser] = field(default_factory=dict)
    channels: dict[str, SlackChannel] = field(default_factory=dict)
    usergroups: dict[str, SlackUsergroup] = field(default_factory=dict)

    @property
    def enterprise(self) -> dict[str, str] | None:
        """`{id, name}` of its Enterprise Grid org, as oauth.v2.access names it, or None."""
        if self.enterprise_id is None:
            return None
        return {"id": self.enterprise_id, "name": self.enterprise_name or self.enterprise_id}

    def user(self, user_id: str) -> SlackUser:
        """The user as users.info describes them (declared, or a plain member by that id)."""
        return self.users.get(user_id) or SlackUser(user_id, self.team_id, user_id.lower())

    def channel(self, channel_id: str) -> SlackChannel:
        """The conversation as this workspace sees it (declared, or the default for the id)."""
        if channel_id in self.channels:
            return self.channels[channel_id]
        if channel_id.startswith("D") and len(channel_id) > 1:
            members = [self.bot_user_id, channel_id[1:]]
            return SlackChannel(channel_id, "im", members, bot_user_id=self.bot_user_id)
        members = [self.bot_user_id, *(u for u in self.users if u != self.bot_user_id)]
        return SlackChannel(channel_id, "public_channel", members, bot_user_id=self.bot_user_id)

    def set_members(self, channel_id: str, members) -> None:
        """Who is in `channel_id` now (the bot stays in)."""
        channel = self.channel(channel_id)
        channel.members = [self.bot_user_id, *(m for m in members if m != self.bot_user_id)]

    def auth_test(self) -> dict[str, Any]:
        """auth.test for this workspace's bot token."""
        answer: dict[str, Any] = {
            "ok": True,
            "url": f"https://{self.domain}.slack.com/",
            "team": self.name,
            "user": "tiktokcancel",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if self.enterprise_id is not None:
            answer["enterprise_id"] = self.enterprise_id
        return answer
