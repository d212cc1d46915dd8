"""Linking a TikTok account to a Slack user (OAuth v2): start, complete, confirm, disconnect.

`start` makes a single-use state and the consent URL; `complete` (TikTok's redirect) checks
the state, trades the code for tokens and names the account, but does not link: it parks the
tokens encrypted on the state's row and returns a confirm token for the bot's confirm page.
`confirm` (the POST from that page) links; `decline` drops the parked tokens and revokes them
at TikTok. So opening someone else's Connect link cannot quietly link your TikTok account to
them: the page names whom it would be linked to. With many workspaces `confirm` also needs
the page's browser to have signed in with Slack as that person (`slack_signin`); `decline`
never does. `disconnect` revokes and deletes the row.

The code can't be traded twice (TikTok's codes are single-use), so the tokens are parked
rather than exchanged again after the confirm.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from cryptography.fernet import InvalidToken

from bot.accounts.tokens import TokenService
from bot.actor import Actor
from bot.settings import Settings
from bot.tiktok.client import TikTokClient
from bot.tiktok.rules import CONNECT_CODES
from storage import audit, grants, retries
from storage.audit import AuditFinish, AuditStart
from storage.db import Store
from storage.links import Link, LinkUnreadable
from storage.oauth_states import (
    Confirmation,
    PendingLink,
    StateProblem,
    consume_state,
    create_state,
    park_for_confirm,
    take_confirmation,
)
from storage.timefmt import now_iso

log = logging.getLogger(__name__)

SCOPES = "user.info.basic,video.upload,video.publish"


class LinkingNotConfigured(Exception):
    """TIKTOK_REDIRECT_URI is not set, so no consent link can be made."""


@dataclass(frozen=True)
class LinkResult:
    """What the OAuth callback ends with: a stored link, or a code saying why not."""

    ok: bool
    code: str  # "ok", "confirm", a state problem ("state_unknown", …) or a TikTok code
    pending: PendingLink | None = None
    link: Link | None = None
    log_id: str = ""
    confirm_token: str = ""  # "confirm": the single-use secret the confirm page posts back
    open_id: str = ""  # "confirm": the TikTok account that consented
    display_name: str = ""
    retry_key: str = ""  # "ok" with a cancel to retry: the key the retry button carries


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

    async def connect_url_for(
        self, code: str, actor: Actor, publish_id: str = "", reason: str = ""
    ) -> str:
        """The consent URL an answer with `code` offers (see `CONNECT_CODES`), else ""."""
        if code not in CONNECT_CODES:
            return ""
        return await self.connect_url(actor, publish_id, reason)

    async def connect_url(self, actor: Actor, publish_id: str = "", reason: str = "") -> str:
        """A consent URL that, once used, offers to retry this cancel; "" if not configured."""
        pending = PendingLink(
            team_id=actor.team_id,
            user_id=actor.user_id,
            kind="user",
            owner=actor.user_id,
            channel_id=actor.channel_id,
            retry_publish_id=publish_id,
            retry_reason=reason,
        )
        try:
            return await self.start(pending)
        except LinkingNotConfigured:
            return ""

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
        """TikTok's redirect: trade the code, park the tokens, ask the person to confirm."""
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
        display_name = display_name or grant.open_id
        now = time.time()
        parked = json.dumps(
            {
                "open_id": grant.open_id,
                "scope": grant.scope,
                "access_token": grant.access_token,
                "access_expires_at": now + grant.expires_in,
                "refresh_token": grant.refresh_token,
                "refresh_expires_at": now + grant.refresh_expires_in,
                "log_id": exchanged.log_id,
                "http_status": exchanged.http_status,
            }
        )
        ciphertext = self.tokens.links.fernet.encrypt(parked.encode()).decode()
        token = await self.store.run(
            park_for_confirm, state, ciphertext, grant.open_id, display_name
        )
        return LinkResult(
            True,
            "confirm",
            pending,
            log_id=exchanged.log_id,
            confirm_token=token,
            open_id=grant.open_id,
            display_name=display_name,
        )

    def _parked(self, confirmation: Confirmation) -> dict | None:
        try:
            raw = self.tokens.links.fernet.decrypt(confirmation.pending_grant.encode())
            parked = json.loads(raw)
        except (InvalidToken, ValueError):
            return None
        return parked if isinstance(parked, dict) else None

    async def confirm(self, state: str, token: str) -> LinkResult:
        """The POST from the confirm page: link, once. With many workspaces only a page whose
        browser signed in with Slack as the link's person (`bot.accounts.slack_signin`):
        checked in the same conditional update that takes the confirmation."""
        try:
            confirmation = await self.store.run(
                take_confirmation, state, token, signed_in=self.settings.many_workspaces
            )
        except StateProblem as problem:
            return LinkResult(False, f"state_{problem.why}")
        pending = confirmation.pending
        parked = self._parked(confirmation)
        if parked is None:  # the key changed since the page was shown
            return LinkResult(False, "state_expired", pending)
        link = Link(
            team_id=pending.team_id,
            kind=pending.kind,
            owner=pending.owner,
            open_id=str(parked.get("open_id") or ""),
            display_name=confirmation.display_name or str(parked.get("open_id") or ""),
            scope=str(parked.get("scope") or ""),
            access_token=str(parked.get("access_token") or ""),
            access_expires_at=float(parked.get("access_expires_at") or 0),
            refresh_token=str(parked.get("refresh_token") or ""),
            refresh_expires_at=float(parked.get("refresh_expires_at") or 0),
            linked_by=pending.user_id,
            linked_at=now_iso(),
            linked_via="confirmed",
        )
        await self.tokens.save(link)
        if link.kind == "team":  # the admin who links a team account may use it
            await self.store.run(
                grants.grant, link.team_id, link.owner, [pending.user_id], pending.user_id
            )
        retry_key = ""
        if link.kind == "user" and pending.retry_publish_id:
            retry_key = await self.store.run(
                retries.remember,
                pending.team_id,
                pending.user_id,
                pending.retry_publish_id,
                pending.retry_reason,
            )
        log_id = str(parked.get("log_id") or "")
        status = parked.get("http_status")
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
            AuditFinish(
                outcome="ok", http_status=status if isinstance(status, int) else None, log_id=log_id
            ),
        )
        return LinkResult(True, "ok", pending, link, log_id, retry_key=retry_key)

    async def decline(self, state: str, token: str) -> LinkResult:
        """The confirm page's "Don't link": drop the parked tokens, revoke them at TikTok."""
        try:
            confirmation = await self.store.run(take_confirmation, state, token)
        except StateProblem as problem:
            return LinkResult(False, f"state_{problem.why}")
        parked = self._parked(confirmation)
        if parked is not None and parked.get("access_token"):
            revoked = await self.tiktok.revoke(str(parked["access_token"]))
            if not revoked.ok:
                log.warning("oauth.decline_revoke_failed", extra={"code": revoked.code})
        pending = confirmation.pending
        await self.store.run(
            audit.record,
            AuditStart(
                action="team_connect" if pending.kind == "team" else "connect",
                team_id=pending.team_id,
                user_id=pending.user_id,
                channel_id=pending.channel_id,
                account=confirmation.display_name,
                account_kind=pending.kind,
                open_id=confirmation.open_id,
            ),
            AuditFinish(outcome="declined"),
        )
        return LinkResult(False, "declined", pending, display_name=confirmation.display_name)

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
            # Nothing to revoke; a link the bot had forgotten is let go of for good.
            await self.store.run(self.tokens.links.delete, team_id, kind, owner)
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
