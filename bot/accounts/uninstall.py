"""A workspace leaves (many workspaces): `app_uninstalled`, or `tokens_revoked` naming the bot's
token, in either order and as often as Slack sends them, forget it.

Its Slack tokens go at once (this replica stops using them now, the others within the few
seconds `Workspaces` remembers an installation), its held uploads are cancelled, never started,
its links are deleted and then revoked at TikTok, and its audit trail is retired: kept for the
operator's export for AUDIT_RETENTION_DAYS, never shown in Slack again (`RetiredAuditPrune`
deletes it after). A reinstall starts clean. With one workspace (SLACK_BOT_TOKEN) nothing is
forgotten: the token is the operator's, in the environment.
"""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet, InvalidToken

from bot.accounts.workspaces import Workspaces
from bot.background import WakeableLoop
from bot.tiktok.client import TikTokClient
from storage import workspace_forget
from storage.db import Store
from storage.workspace_forget import Forgot

log = logging.getLogger(__name__)

UNINSTALLED = "the app was uninstalled from the workspace"
BOT_TOKEN_REVOKED = "the workspace revoked the bot's token"


class WorkspaceUninstall:
    def __init__(self, store: Store, workspaces: Workspaces, fernet: Fernet, tiktok: TikTokClient):
        self.store = store
        self.workspaces = workspaces
        self.fernet = fernet
        self.tiktok = tiktok

    async def forget(self, team_id: str, why: str) -> Forgot | None:
        """Forget `team_id` (None with one workspace, or without a team)."""
        if not self.workspaces.many or not team_id:
            log.info("workspace.uninstall_ignored", extra={"many": self.workspaces.many})
            return None
        forgot = await self.store.run(workspace_forget.forget, team_id, why)
        self.workspaces.forget_cached(team_id)
        revoked = 0
        for link in forgot.links:
            try:
                token = self.fernet.decrypt(str(link["access_token"]).encode()).decode()
            except (InvalidToken, ValueError):
                continue  # sealed with another key: nothing this deployment can revoke
            result = await self.tiktok.revoke(token)
            if result.ok:
                revoked += 1
            else:
                log.warning("workspace.link_revoke_failed", extra={"code": result.code})
        log.info(
            "workspace.forgotten",
            extra={
                "was_installed": forgot.installed,
                "held_cancelled": forgot.cancelled,
                "links": len(forgot.links),
                "links_revoked": revoked,
            },
        )
        return forgot


class RetiredAuditPrune(WakeableLoop):
    """Deletes audit entries of uninstalled workspaces once they are `keep_days` old."""

    def __init__(self, store: Store, keep_days: int, interval: float = 3600.0):
        self.store = store
        self.keep_s = keep_days * 86400.0
        self.interval = interval
        super().__init__("retired-audit-prune")

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.prune()
            except Exception:
                log.exception("retired_audit.prune_failed")
            await self._sleep(self.interval)

    async def prune(self) -> int:
        deleted = await self.store.run(workspace_forget.purge_retired, self.keep_s)
        if deleted:
            log.info("retired_audit.deleted", extra={"entries": deleted})
        return deleted
