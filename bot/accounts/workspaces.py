"""Workspaces: which Slack workspaces the bot serves, with which bot token, and each one's own
settings (its admins, its audit channel).

One workspace (SLACK_BOT_TOKEN): every workspace's token is that one, and the environment's
ADMIN_USERS / AUDIT_CHANNEL are the defaults its admins may override in Slack. Many workspaces
(Add to Slack): a workspace's token is its installation's (`storage.installations`), and only
its own settings apply. What is read from the database is remembered in this process for
`cache_s` seconds at most, so an uninstall on another replica stops this one using the
workspace's token within seconds; this replica forgets at once. A workspace found not
installed is not remembered: an install on another replica is used here at once.

With the Slack app's token rotation on, a workspace's token is used only once it is fresh
(`usable_installation`: `bot.slack.bot_tokens` rotates it ahead of expiry, one replica at a
time); Bolt's authorize (through our installation store) and every background Slack call
(`bot_token`) take that one path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.slack.bot_tokens import BotTokenRotation
from storage import workspace_settings
from storage.db import Store
from storage.installations import Installation, Installations

CACHE_S = 3.0


@dataclass(frozen=True)
class Defaults:
    """What applies to a workspace that set nothing itself (one workspace: the environment)."""

    bot_token: str | None = None  # None: many workspaces, each its installation's token
    admins: frozenset[str] = frozenset()
    audit_channel: str | None = None


class Workspaces:
    def __init__(
        self,
        store: Store,
        installations: Installations,
        defaults: Defaults,
        cache_s: float = CACHE_S,
        clock: Callable[[], float] = time.monotonic,
        rotation: BotTokenRotation | None = None,
    ):
        self.store = store
        self.installations = installations
        self.defaults = defaults
        self.rotation = rotation  # many workspaces: rotating tokens ahead of expiry
        self.cache_s = cache_s
        self.clock = clock
        self._installs: dict[str, tuple[float, Installation | None]] = {}
        self._settings: dict[str, tuple[float, workspace_settings.WorkspaceSettings]] = {}

    @property
    def many(self) -> bool:
        return self.defaults.bot_token is None

    def _fresh(self, cache: dict, team_id: str):
        found = cache.get(team_id)
        if found is not None and self.clock() - found[0] < self.cache_s:
            return found
        return None

    async def installation(self, team_id: str) -> Installation | None:
        """The workspace's installation (many workspaces), read at most `cache_s` ago (its
        token as stored: `usable_installation` for one to use)."""
        found = self._fresh(self._installs, team_id)
        if found is None:
            installed = await self.store.run(self.installations.get, team_id)
            if installed is None:
                self._installs.pop(team_id, None)
                return None
            found = self._remember(team_id, installed)
        return found[1]

    def _remember(self, team_id: str, installed: Installation) -> tuple[float, Installation]:
        if len(self._installs) > 10_000:
            self._installs.clear()
        found = (self.clock(), installed)
        self._installs[team_id] = found
        return found

    async def usable_installation(self, team_id: str) -> Installation | None:
        """The workspace's installation with a token to use now: rotated first when it runs
        out soon (token rotation on); None when the workspace is not installed."""
        installed = await self.installation(team_id)
        if installed is None or self.rotation is None:
            return installed
        fresh = await self.rotation.fresh(installed)
        if fresh is None:
            self._installs.pop(team_id, None)
        elif fresh is not installed:
            self._remember(team_id, fresh)
        return fresh

    def forget_cached(self, team_id: str) -> None:
        """Drop what this process remembers of the workspace (after a change here)."""
        self._installs.pop(team_id, None)
        self._settings.pop(team_id, None)

    async def bot_token(self, team_id: str) -> str | None:
        """The bot token that workspace's Slack calls carry; None when it is not installed."""
        if not self.many:
            return self.defaults.bot_token
        installed = await self.usable_installation(team_id)
        return installed.bot_token if installed is not None and installed.bot_token else None

    async def settings(self, team_id: str) -> workspace_settings.WorkspaceSettings:
        found = self._fresh(self._settings, team_id)
        if found is None:
            found = (self.clock(), await self.store.run(workspace_settings.get, team_id))
            if len(self._settings) > 10_000:
                self._settings.clear()
            self._settings[team_id] = found
        return found[1]

    async def audit_channel(self, team_id: str) -> str | None:
        chosen = (await self.settings(team_id)).audit_channel
        return chosen or (None if self.many else self.defaults.audit_channel)

    async def admins(self, team_id: str) -> frozenset[str]:
        """The workspace's named bot admins (its Slack admins and owners count too, elsewhere)."""
        chosen = (await self.settings(team_id)).admins
        if chosen is not None:
            return frozenset(chosen)
        return frozenset() if self.many else self.defaults.admins
