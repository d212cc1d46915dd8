"""Bolt's installation and OAuth state stores (many workspaces), over our own database.

slack_sdk's SQLAlchemy stores would make their tables outside our migrations and want an async
engine; these keep installations in `slack_installations` (tokens Fernet-sealed,
`storage.installations`) and states in `slack_oauth_states` (`storage.slack_oauth_states`),
through `Store`, on SQLite and PostgreSQL alike.

Reads go through the workspace directory's `usable_installation` (given as `find`): a
few-second cache, so an uninstall on another replica stops this one within seconds, and a
token rotated ahead of expiry. The bot is one workspace's bot per installation: only bot
tokens are kept (`bot_only`), never the installer's user token. The refresh token is never
handed to Bolt (`bot_refresh_token` None in what `async_find_bot` answers): rotation is ours,
one replica at a time (`bot.slack.bot_tokens`), so Bolt's own rotator, which knows nothing of
replicas, never spends one. An org-wide (Enterprise Grid) installation is never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store import Installation as SlackInstallation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from storage import slack_oauth_states
from storage.db import Store
from storage.installations import Installation, Installations

log = logging.getLogger(__name__)

Find = Callable[[str], Awaitable[Installation | None]]


class OrgInstallRefused(BoltError):
    """An org-wide (Enterprise Grid) installation: not supported, so never stored."""


def to_row(installation: SlackInstallation | Bot) -> Installation:
    """Our row of what Bolt's OAuth flow got from `oauth.v2.access` (bot fields only)."""
    if installation.is_enterprise_install or not installation.team_id:
        raise OrgInstallRefused("org-wide installations are not supported")
    return Installation(
        team_id=installation.team_id,
        bot_token=installation.bot_token or "",
        team_name=installation.team_name or "",
        enterprise_id=installation.enterprise_id or "",
        app_id=installation.app_id or "",
        bot_id=installation.bot_id or "",
        bot_user_id=installation.bot_user_id or "",
        bot_scopes=",".join(installation.bot_scopes or []),
        bot_refresh_token=installation.bot_refresh_token or "",
        bot_token_expires_at=float(installation.bot_token_expires_at or 0),
        installer_user_id=str(getattr(installation, "user_id", "") or ""),
    )


def _shared_fields(row: Installation) -> dict:
    """What Bolt's `Bot` and `Installation` both carry of our row (never the refresh token)."""
    return {
        "app_id": row.app_id or None,
        "enterprise_id": row.enterprise_id or None,
        "team_id": row.team_id,
        "team_name": row.team_name or None,
        "bot_token": row.bot_token,
        "bot_id": row.bot_id,
        "bot_user_id": row.bot_user_id,
        "bot_scopes": row.bot_scopes,
        "bot_token_expires_at": int(row.bot_token_expires_at) or None,
        "installed_at": row.installed_at,
    }


def to_bot(row: Installation) -> Bot:
    """What Bolt's authorize reads: the token to use now, without the refresh token."""
    return Bot(**_shared_fields(row))


def to_installation(row: Installation) -> SlackInstallation:
    return SlackInstallation(user_id=row.installer_user_id, **_shared_fields(row))


class InstallationStore(AsyncInstallationStore):
    """Bolt's `AsyncInstallationStore`. `find` is `Workspaces.usable_installation`; `forget`
    drops what this replica remembers of a workspace (`Workspaces.forget_cached`)."""

    def __init__(
        self,
        store: Store,
        installations: Installations,
        find: Find,
        forget: Callable[[str], None],
    ):
        self.store = store
        self.installations = installations
        self.find = find
        self.forget = forget

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: SlackInstallation) -> None:
        """A new install or a reinstall: the workspace's one row, replaced (raises
        `OrgInstallRefused` for an org-wide one)."""
        row = to_row(installation)
        await self.store.run(self.installations.save, row)
        self.forget(row.team_id)
        log.info("slack.installed", extra={"rotates": bool(row.bot_refresh_token)})

    async def async_save_bot(self, bot: Bot) -> None:
        """The bot fields alone (Bolt calls this only after rotating a token itself, which
        it never does here); the installer, which a `Bot` doesn't carry, is kept."""
        row = to_row(bot)
        if not row.installer_user_id:
            before = await self.store.run(self.installations.get, row.team_id)
            if before is not None:
                row = replace(row, installer_user_id=before.installer_user_id)
        await self.store.run(self.installations.save, row)
        self.forget(row.team_id)

    async def _find(self, team_id: str | None, is_enterprise_install: bool | None):
        if not team_id or is_enterprise_install:
            return None
        return await self.find(team_id)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        row = await self._find(team_id, is_enterprise_install)
        return None if row is None or not row.bot_token else to_bot(row)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> SlackInstallation | None:
        if user_id is not None:  # no person's own installation is kept
            return None
        row = await self._find(team_id, is_enterprise_install)
        return None if row is None or not row.bot_token else to_installation(row)

    async def _delete(self, team_id: str | None) -> None:
        if team_id:
            await self.store.run(self.installations.delete, team_id)
            self.forget(team_id)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._delete(team_id)

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        if user_id is None:
            await self._delete(team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._delete(team_id)


class OAuthStateStore(AsyncOAuthStateStore):
    """Bolt's `AsyncOAuthStateStore`: states in the database, 10 minutes by its clock, used
    once (compare-and-delete), so any replica can finish what another began."""

    def __init__(self, store: Store, ttl_s: float = slack_oauth_states.TTL_SECONDS):
        self.store = store
        self.ttl_s = ttl_s

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args, **kwargs) -> str:
        return await self.store.run(slack_oauth_states.issue, self.ttl_s)

    async def async_consume(self, state: str) -> bool:
        return await self.store.run(slack_oauth_states.consume, state or "")
