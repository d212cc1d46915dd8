"""The Web API methods the fake Slack answers, each from the workspace of the calling token.

`SlackMethods` is mixed into `FakeSlack`: chat (`postMessage`, `update`, `postEphemeral`),
`views.publish` / `views.update`, users, conversations and user groups, answered from one
`FakeWorkspace`. A channel, user or user group declared only in another workspace is not
found (Slack's ids are global: another workspace's room is not this one's). It also says,
for `slack_calls.owners_of`, whose things a call names: the workspace a trigger id, view or
message belongs to, and which workspaces declared an id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from .slack_modals import Modals
from .slack_tokens import FakeToken
from .slack_workspaces import FakeWorkspace

Handler = Callable[[FakeWorkspace, dict[str, Any]], dict[str, Any]]


class SlackMethods:
    """Web API method handlers over the fake's workspaces and messages."""

    workspaces: dict[str, FakeWorkspace]
    enterprises: dict[str, str]
    messages: dict[tuple[str, str], dict[str, Any]]
    message_teams: dict[tuple[str, str], str]
    modals: Modals
    _ts_seq: int

    def _methods(self) -> dict[str, Handler]:
        return {
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "views.publish": self._views_publish,
            "views.update": lambda ws, params: self.modals.update(params, ws.team_id),
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "users.conversations": self._users_conversations,
        }

    # What the fake can tell of whose things a call names (see slack_calls.owners_of).

    def trigger_team(self, trigger_id: Any) -> str | None:
        return self.modals.trigger_team(trigger_id)

    def view_team(self, params: dict[str, Any]) -> str | None:
        view = self.modals.find(params)
        return view.team_id if view is not None else None

    def message_team(self, channel: str, ts: str) -> str | None:
        return self.message_teams.get((channel, ts))

    def declared_in(self, kind: str, item_id: str) -> set[str]:
        """The workspaces that declared this channel / user / user group id."""
        return {t for t, ws in self.workspaces.items() if item_id in getattr(ws, kind)}

    def _foreign(self, ws: FakeWorkspace, kind: str, item_id: str) -> bool:
        """Declared in another workspace, not in `ws`: not found with `ws`'s token."""
        declared = self.declared_in(kind, item_id)
        return bool(declared) and ws.team_id not in declared

    def _foreign_channel(self, ws: FakeWorkspace, channel: str) -> bool:
        if channel.startswith("D") and len(channel) > 1 and channel not in ws.channels:
            return self._foreign(ws, "users", channel[1:])
        return self._foreign(ws, "channels", channel)

    def _next_ts(self) -> str:
        self._ts_seq += 1
        micros = self._ts_seq * 100
        return f"{1700000000 + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _auth_test(self, ws: FakeWorkspace, record: FakeToken) -> dict[str, Any]:
        answer = ws.auth_test()
        if record.kind != "bot":
            answer["user_id"], answer["user"] = record.user_id, record.user_id.lower()
            answer.pop("bot_id")
        expires_in = record.expires_in()
        if expires_in is not None:
            answer["expires_in"] = expires_in
        return answer

    def _org_answer(self, record: FakeToken, method: str) -> dict[str, Any]:
        """An org-wide install's token: auth.test says so; anything else needs a team."""
        if method != "auth.test":
            return {"ok": False, "error": "team_access_not_granted"}
        org = str(record.enterprise_id)
        return {
            "ok": True,
            "url": f"https://{org.lower()}.enterprise.slack.com/",
            "team": self.enterprises.get(org, org),
            "user": "tiktokcancel",
            "user_id": record.user_id,
            "bot_id": f"BBOT{org}",
            "enterprise_id": org,
            "is_enterprise_install": True,
        }

    def _message(self, ws: FakeWorkspace, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message = {"type": "message", "user": ws.bot_user_id, "bot_id": ws.bot_id, "ts": ts}
        message["text"] = params.get("text", "")
        for key in ("blocks", "attachments", "thread_ts"):
            if key in params:
                message[key] = params[key]
        return message

    def _post_message(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel or self._foreign_channel(ws, str(channel)):
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        message = self._message(ws, params, ts)
        self.messages[(str(channel), ts)] = message
        self.message_teams[(str(channel), ts)] = ws.team_id
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        if self._foreign_channel(ws, channel):
            return {"ok": False, "error": "channel_not_found"}
        if self.message_teams.get((channel, ts), ws.team_id) != ws.team_id:
            return {"ok": False, "error": "message_not_found"}
        message = self._message(ws, params, ts)
        self.messages[(channel, ts)] = message
        self.message_teams[(channel, ts)] = ws.team_id
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": message,
        }

    def _post_ephemeral(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        if self._foreign_channel(ws, str(params.get("channel") or "")):
            return {"ok": False, "error": "channel_not_found"}
        if self._foreign(ws, "users", str(params.get("user") or "")):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_publish(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        if self._foreign(ws, "users", str(params.get("user_id") or "")):
            return {"ok": False, "error": "user_not_found"}
        view = params.get("view") if isinstance(params.get("view"), dict) else {}
        view_id = "V" + uuid.uuid4().hex[:10].upper()
        return {"ok": True, "view": {"id": view_id, "team_id": ws.team_id, **view}}

    def _users_info(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user", ""))
        if not user_id or self._foreign(ws, "users", user_id):
            return {"ok": False, "error": "user_not_found"}
        with_email = "users:read.email" in ws.bot_scopes
        return {"ok": True, "user": ws.user(user_id).to_json(with_email=with_email)}

    def _usergroups_list(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        with_disabled = flag(params.get("include_disabled"))
        groups = [
            g.to_json(flag(params.get("include_users")), flag(params.get("include_count")))
            for g in ws.usergroups.values()
            if with_disabled or not g.disabled
        ]
        return {"ok": True, "usergroups": groups}

    def _usergroups_users_list(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        group = ws.usergroups.get(str(params.get("usergroup") or ""))
        if group is None or (group.disabled and not flag(params.get("include_disabled"))):
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group.users)}

    def _conversations_open(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", "")).split(",")
        if not users[0]:
            return {"ok": False, "error": "users_list_not_supplied"}
        if any(self._foreign(ws, "users", u) for u in users):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + users[0]}}

    def _conversations_info(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel", ""))
        if not channel_id or self._foreign_channel(ws, channel_id):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": ws.channel(channel_id).to_json()}

    def _conversations_members(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel", ""))
        if not channel_id or self._foreign_channel(ws, channel_id):
            return {"ok": False, "error": "channel_not_found"}
        members = ws.channel(channel_id).members
        page, cursor = page_of(members, params)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _users_conversations(self, ws: FakeWorkspace, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user") or ws.bot_user_id)
        types = str(params.get("types") or "public_channel").split(",")
        found = [
            c.to_json() for c in ws.channels.values() if c.type in types and user_id in c.members
        ]
        page, cursor = page_of(found, params)
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}


def missing_scope(needed: str, scopes: list[str]) -> dict[str, Any]:
    return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(scopes)}


def flag(value: Any) -> bool:
    """A boolean Web API argument as Slack reads it (`true`, `1`, JSON true)."""
    return value is True or str(value).lower() in ("true", "1")


def page_of(items: list, params: dict[str, Any]) -> tuple[list, str]:
    """One page of `items` by Slack's `limit` and `cursor` (here, an offset); next cursor."""
    try:
        limit = max(1, min(1000, int(params.get("limit") or 100)))
        start = max(0, int(params.get("cursor") or 0))
    except ValueError:
        return items[:100], ""
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else "")
