"""Linking a TikTok account to a Slack user (OAuth v2): start, complete, disconnect.

`start` makes a single-use state and the consent URL; `complete` checks the state, trades
the code for tokens, names the account and stores it encrypted; `disconnect` revokes at
TikTok and deletes the row.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.settings import Settings
from bot.tiktok import TikTokClient
from bot.tokens import TokenService
from storage import audit, grants
from storage.audit import AuditFinish, AuditStart
from storage.db import Store
from storage.links import Link, LinkUnreadable
from storage.states import PendingLink, StateProblem, consume_state, create_state
from storage.timefmt import now_iso

log = logging.getLogger(__name__)

SCOPES = "user.info.basic,video.upload,video.publish"


class LinkingNotConfigured(Exception):
    """TIKTOK_REDIRECT_URI is not set, so no consent link can be made."""


@dataclass(frozen=True)
class LinkResult:
    """What the OAuth callback ends with: a stored link, or a code saying why not."""

    ok: bool
    code: str  # "ok", a state problem ("state_unknown", …) or a TikTok OAuth/fault code
    pending: PendingLink | None = None
    link: Link | None = None
    log_id: str = ""


@dataclass(frozen=True)
class DisconnectResult:
    code: str  # "ok", "not_linked", or "revoke_failed" (the link is deleted all the same)
    display_name: str = ""


class LinkingService:
    def __init__(
        self, settings: Settings, store: Store, tiktok: TikTokClient, tokens: TokenService
    ):
        self.settings = settings
        self.store = store
        self.tiktok = tiktok
        self.tokens = tokens

    @property
    def configured(self) -> bool:
        return bool(self.settings.tiktok_redirect_uri)

    async def start(self, pending: PendingLink) -> str:
        """A consent-page URL whose state is bound to `pending`; valid for 10 minutes."""
        if not self.configured:
            raise LinkingNotConfigured
        state = await self.store.run(create_state, pending)
        query = urlencode(
            {
                "client_key": self.settings.tiktok_client_key,
                "scope": SCOPES,
                "response_type": "code",
                "redirect_uri": self.settings.tiktok_redirect_uri,
                "state": state,
            }
        )
        return f"{self.settings.tiktok_authorize_url}?{query}"

    async def complete(self, state: str, code: str, error: str) -> LinkResult:
        try:
            pending = await self.store.run(consume_state, state)
        except StateProblem as problem:
            return LinkResult(False, f"state_{problem.why}")
        if error or not code:
            return LinkResult(False, error or "invalid_request", pending)
        exchanged = await self.tiktok.exchange_code(code, self.settings.tiktok_redirect_uri or "")
        if not exchanged.ok or exchanged.grant is None:
            log.warning(
                "oauth.exchange_failed", extra={"code": exchanged.code, "log_id": exchanged.log_id}
            )
            return LinkResult(False, exchanged.code, pending, log_id=exchanged.log_id)
        grant = exchanged.grant
        info = await self.tiktok.user_info(grant.access_token)
        user = info.data.get("user") if info.ok else None
        display_name = ""
        if isinstance(user, dict):
            display_name = str(user.get("display_name") or "")
        now = time.time()
        link = Link(
            team_id=pending.team_id,
            kind=pending.kind,
            owner=pending.owner,
            open_id=grant.open_id,
            display_name=display_name or grant.open_id,
            scope=grant.scope,
            access_token=grant.access_token,
            access_expires_at=now + grant.expires_in,
            refresh_token=grant.refresh_token,
            refresh_expires_at=now + grant.refresh_expires_in,
            linked_by=pending.user_id,
            linked_at=now_iso(),
        )
        await self.tokens.save(link)
        if link.kind == "team":  # the admin who links a team account may use it
            await self.store.run(
                grants.grant, link.team_id, link.owner, [pending.user_id], pending.user_id
            )
        await self.store.run(
            audit.record,
            AuditStart(
                action="team_connect" if link.kind == "team" else "connect",
                team_id=pending.team_id,
                user_id=pending.user_id,
                channel_id=pending.channel_id,
                account=link.display_name,
                account_kind=link.kind,
                open_id=link.open_id,
            ),
            AuditFinish(outcome="ok", http_status=exchanged.http_status, log_id=exchanged.log_id),
        )
        return LinkResult(True, "ok", pending, link, exchanged.log_id)

    async def disconnect(
        self, team_id: str, user_id: str, kind: str = "user", owner: str | None = None
    ) -> DisconnectResult:
        owner = owner or user_id
        try:
            link = await self.tokens.load(team_id, kind, owner)
        except LinkUnreadable:
            link = None
            unreadable = True
        else:
            unreadable = False
        if link is None and not unreadable:
            return DisconnectResult("not_linked")
        # An unreadable link can't be revoked: say so, as for a failed revoke.
        code = "revoke_failed" if unreadable else "ok"
        name = ""
        if link is not None:
            name = link.display_name
            revoked = await self.tiktok.revoke(link.access_token)
            if not revoked.ok:
                code = "revoke_failed"
        await self.store.run(lambda db: self.tokens.links.delete(db, team_id, kind, owner))
        await self.store.run(
            audit.record,
            AuditStart(
                action="team_remove" if kind == "team" else "disconnect",
                team_id=team_id,
                user_id=user_id,
                account=owner if kind == "team" else name,
                account_kind=kind,
            ),
            AuditFinish(outcome=code),
        )
        return DisconnectResult(code, name)
