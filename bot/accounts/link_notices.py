"""Telling people about their links: which TikTok account was just linked (a DM, with the
retry button of the cancel that asked for the link), and when TikTok removed a link's access
(the `authorization.removed` webhook).

The owner of a personal link gets a DM; for a team account the admins (ADMIN_USERS) and the
admin who linked it do. Each forgotten link is audited. The link itself was already forgotten
(with a tombstone) by `TokenService.forget_open_id`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot import messages
from bot.accounts.linking import LinkResult
from bot.background import Background
from bot.slack.output import SlackOut
from storage import audit
from storage.audit import AuditFinish, AuditStart
from storage.db import Store
from storage.links import Forgotten

log = logging.getLogger(__name__)


class LinkNotices:
    def __init__(
        self,
        store: Store,
        slack: SlackOut,
        admins_of: Callable[[str], Awaitable[frozenset[str]]],
    ):
        self.store = store
        self.slack = slack
        self.admins_of = admins_of  # a workspace's named bot admins
        self._sent = Background("link_notices")  # DMs after linking, sent after the page

    def linked(self, result: LinkResult) -> None:
        """Tell the person in Slack which TikTok account is linked; offer to retry a cancel.
        Sent in the background: the browser's page does not wait for Slack."""
        if result.pending is None or result.link is None:
            return
        link = result.link
        if link.kind == "team":
            message = messages.team_linked_dm(link.owner, link.display_name, link.open_id)
        else:
            message = messages.linked_dm(
                link.display_name,
                link.open_id,
                result.retry_key,
                result.pending.retry_publish_id,
            )
        self._sent.spawn(self.slack.dm(result.pending.team_id, result.pending.user_id, message))

    def pending(self) -> list[asyncio.Task]:
        """DMs after linking still on their way (shutdown waits for them)."""
        return self._sent.pending()

    async def recipients(self, forgotten: Forgotten) -> list[str]:
        if forgotten.kind == "user":
            return [forgotten.owner]
        admins = await self.admins_of(forgotten.team_id)
        return sorted({*admins, forgotten.linked_by} - {""})

    async def authorization_removed(self, forgotten: list[Forgotten], reason: object) -> None:
        for entry in forgotten:
            if entry.kind == "user":
                message = messages.authorization_removed_dm(entry.display_name, reason)
            else:
                message = messages.team_authorization_removed_dm(
                    entry.owner, entry.display_name, reason, await self.admins_of(entry.team_id)
                )
            told = await self.recipients(entry)
            for user_id in told:
                await self.slack.dm(entry.team_id, user_id, message)
            explained = messages.removed_reason(reason)
            await self.store.run(
                audit.record,
                AuditStart(
                    action="authorization_removed",
                    team_id=entry.team_id,
                    user_id=entry.owner if entry.kind == "user" else "",
                    reason=f"TikTok's reason {entry.detail or '?'}: {explained}",
                    account=entry.display_name if entry.kind == "user" else entry.owner,
                    account_kind=entry.kind,
                    open_id=entry.open_id,
                ),
                AuditFinish(outcome="link_forgotten"),
            )
            log.info("link.authorization_removed", extra={"kind": entry.kind, "told": len(told)})
