"""A workspace's own settings, as its admins see and change them in Slack (`/tiktok-cancel
settings …`): who else administers the bot there, where audit entries of uploads the bot did
not announce go, and the pipeline tokens that let an upload pipeline act for the workspace.

Only admins (`AdminCheck`: the named admins, and Slack's admins and owners) see or change
anything. Each change is written with its audit entry in one transaction, read-compare-write
(the same value again changes nothing and is not audited), and this process forgets what it
remembered of the workspace (`Workspaces.forget_cached`); other replicas read it within
seconds. One workspace (SLACK_BOT_TOKEN): the environment's ADMIN_USERS and AUDIT_CHANNEL are
the defaults a change here overrides and `none` restores; pipelines use NOTIFY_TOKEN and
UPLOAD_TOKEN, so pipeline tokens are refused. A pipeline token's secret leaves this module
once, in the answer of the call that made it; only its hash is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.accounts.team_accounts import AdminCheck
from bot.accounts.workspaces import Workspaces
from bot.actor import Actor
from bot.messages.settings import CLI_MAKER as CLI_MAKER
from bot.messages.settings import FROM_ENVIRONMENT, FROM_SLACK
from storage import audit, pipeline_tokens, workspace_settings
from storage.audit import AuditFinish, AuditStart
from storage.db import Store
from storage.sql import Db

MAX_LIVE_TOKENS = 20  # live pipeline tokens a workspace may hold at once
# Where a setting's value comes from: FROM_SLACK (set in this workspace with `settings …`),
# FROM_ENVIRONMENT (one workspace: ADMIN_USERS / AUDIT_CHANNEL) or UNSET. CLI_MAKER is the
# `made_by` of a token made with `python -m bot pipeline-token`.
UNSET = "unset"


@dataclass(frozen=True)
class TokenView:
    """A live pipeline token as `settings` lists it: never its secret."""

    token_id: str
    made_by: str  # a Slack user id, or CLI_MAKER
    made_at: float


@dataclass(frozen=True)
class SettingsView:
    """What applies in a workspace now, and where each value comes from."""

    many: bool  # many workspaces: pipeline tokens; one: NOTIFY_TOKEN / UPLOAD_TOKEN
    admins: tuple[str, ...]
    admins_from: str  # FROM_SLACK, FROM_ENVIRONMENT or UNSET
    audit_channel: str
    audit_from: str
    env_admins: tuple[str, ...] = ()  # one workspace: ADMIN_USERS (overridden or not)
    env_audit_channel: str = ""  # one workspace: AUDIT_CHANNEL
    tokens: tuple[TokenView, ...] = ()
    notify_on: bool = False  # one workspace: NOTIFY_TOKEN set (POST /notifications on)
    upload_on: bool = False  # one workspace: UPLOAD_TOKEN set (POST /uploads on)
    public_url: str = ""  # the bot's public base URL, when known


@dataclass(frozen=True)
class SettingsChange:
    """How a `settings …` command ended. `code`: "ok", "unchanged", "not_admin",
    "one_workspace" (pipeline tokens with SLACK_BOT_TOKEN), "no_such_token", "too_many_tokens".
    `view` is what applies afterwards (None when refused); `previous` the value before, as
    the workspace had set it (admins as a tuple, a channel id; None: it had set nothing)."""

    code: str
    view: SettingsView | None = None
    previous: tuple[str, ...] | str | None = None
    token_id: str = ""
    token: str = ""  # a new pipeline token's secret: shown once, never stored or logged
    caller_still_admin: bool = True  # `settings admins`: whether the caller still may change it


def _entry(actor: Actor, action: str, reason: str) -> AuditStart:
    return AuditStart(
        action=action,
        team_id=actor.team_id,
        user_id=actor.user_id,
        channel_id=actor.channel_id,
        source=actor.source,
        reason=reason,
    )


def _audited(db: Db, entry: AuditStart) -> None:
    audit.record(db, entry, AuditFinish(outcome="ok"))


def make_token(db: Db, team_id: str, made_by: str, entry: AuditStart) -> tuple[str, str] | None:
    """A new pipeline token for `team_id` with its audit entry (reason: its id), in the
    caller's transaction: (token_id, secret), or None when the workspace already holds
    MAX_LIVE_TOKENS live ones."""
    if len(pipeline_tokens.for_team(db, team_id)) >= MAX_LIVE_TOKENS:
        return None
    token_id, token = pipeline_tokens.make(db, team_id, made_by)
    _audited(db, replace(entry, reason=token_id))
    return token_id, token


def revoke_token(db: Db, team_id: str, token_id: str, entry: AuditStart) -> bool:
    """Revoke one of the workspace's live tokens and audit it, in the caller's transaction;
    False when it has none by that id."""
    if not pipeline_tokens.revoke(db, team_id, token_id):
        return False
    _audited(db, replace(entry, reason=token_id))
    return True


class WorkspaceSettingsService:
    def __init__(
        self,
        store: Store,
        workspaces: Workspaces,
        admins: AdminCheck,
        *,
        notify_on: bool = False,
        upload_on: bool = False,
        public_url: str = "",
    ):
        self.store = store
        self.workspaces = workspaces
        self.admins = admins
        self.notify_on = notify_on
        self.upload_on = upload_on
        self.public_url = public_url

    async def view_for(self, actor: Actor) -> SettingsChange:
        """`settings`: what applies, for an admin; "not_admin" for anyone else."""
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return SettingsChange("not_admin")
        return SettingsChange("ok", await self.view(actor.team_id))

    async def view(self, team_id: str) -> SettingsView:
        """What applies in the workspace now (read fresh, not from this process's memory)."""
        many = self.workspaces.many
        defaults = self.workspaces.defaults

        def read(db: Db):
            tokens = pipeline_tokens.for_team(db, team_id) if many else []
            return workspace_settings.get(db, team_id), tokens

        chosen, rows = await self.store.run(read)
        env_admins = () if many else tuple(sorted(defaults.admins))
        env_channel = "" if many else (defaults.audit_channel or "")
        if chosen.admins is not None:
            admins, admins_from = chosen.admins, FROM_SLACK
        else:
            admins, admins_from = env_admins, FROM_ENVIRONMENT if env_admins else UNSET
        if chosen.audit_channel:
            channel, audit_from = chosen.audit_channel, FROM_SLACK
        else:
            channel, audit_from = env_channel, FROM_ENVIRONMENT if env_channel else UNSET
        return SettingsView(
            many=many,
            admins=tuple(admins),
            admins_from=admins_from,
            audit_channel=channel,
            audit_from=audit_from,
            env_admins=env_admins,
            env_audit_channel=env_channel,
            tokens=tuple(
                TokenView(str(r["token_id"]), str(r["made_by"]), float(r["made_at"] or 0))
                for r in rows
            ),
            notify_on=not many and self.notify_on,
            upload_on=not many and self.upload_on,
            public_url=self.public_url,
        )

    async def _changed(self, actor: Actor, code: str, previous=None, **more) -> SettingsChange:
        self.workspaces.forget_cached(actor.team_id)
        return SettingsChange(code, await self.view(actor.team_id), previous, **more)

    async def set_admins(self, actor: Actor, users: tuple[str, ...]) -> SettingsChange:
        """`settings admins <@user>…` replaces the workspace's named admins; no users
        (`settings admins none`) forgets its own list. Admins only; audited when it changed."""
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return SettingsChange("not_admin")
        users = tuple(users)
        reason = "admins " + (",".join(users) if users else "none")

        def write(db: Db) -> tuple[tuple[str, ...] | None, bool]:
            before = workspace_settings.get(db, actor.team_id).admins
            if (before is None and not users) or (before is not None and set(before) == set(users)):
                return before, False
            if users:
                workspace_settings.set_admins(db, actor.team_id, users, actor.user_id)
            else:
                workspace_settings.clear_admins(db, actor.team_id, actor.user_id)
            _audited(db, _entry(actor, "settings_admins", reason))
            return before, True

        before, changed = await self.store.run(write)
        self.workspaces.forget_cached(actor.team_id)
        still = await self.admins.is_admin(actor.team_id, actor.user_id)
        return await self._changed(
            actor, "ok" if changed else "unchanged", before, caller_still_admin=still
        )

    async def set_audit_channel(self, actor: Actor, channel: str) -> SettingsChange:
        """`settings audit <#channel>`; "" (`settings audit none`) forgets the workspace's
        own choice. Admins only; audited when it changed."""
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return SettingsChange("not_admin")
        reason = "audit " + (channel or "none")

        def write(db: Db) -> tuple[str, bool]:
            before = workspace_settings.get(db, actor.team_id).audit_channel
            if before == channel:
                return before, False
            workspace_settings.set_audit_channel(db, actor.team_id, channel, actor.user_id)
            _audited(db, _entry(actor, "settings_audit", reason))
            return before, True

        before, changed = await self.store.run(write)
        return await self._changed(actor, "ok" if changed else "unchanged", before or None)

    async def make_pipeline_token(self, actor: Actor) -> SettingsChange:
        """`settings pipeline-token`: a new credential for this workspace's pipelines; its
        secret is in the answer, once. Many workspaces only; admins only; audited."""
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return SettingsChange("not_admin")
        if not self.workspaces.many:
            return SettingsChange("one_workspace", await self.view(actor.team_id))
        entry = _entry(actor, "pipeline_token_made", "")
        made = await self.store.run(make_token, actor.team_id, actor.user_id, entry)
        if made is None:
            return SettingsChange("too_many_tokens", await self.view(actor.team_id))
        token_id, token = made
        return SettingsChange("ok", await self.view(actor.team_id), token_id=token_id, token=token)

    async def revoke_pipeline_token(self, actor: Actor, token_id: str) -> SettingsChange:
        """`settings pipeline-token revoke <id>`: the token stops working at once, on every
        replica (every request looks its hash up). Admins only; audited."""
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return SettingsChange("not_admin")
        if not self.workspaces.many:
            return SettingsChange("one_workspace", await self.view(actor.team_id))
        entry = _entry(actor, "pipeline_token_revoked", "")
        revoked = await self.store.run(revoke_token, actor.team_id, token_id, entry)
        code = "ok" if revoked else "no_such_token"
        return SettingsChange(code, await self.view(actor.team_id), token_id=token_id)
