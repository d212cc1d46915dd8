"""The tokens the fake Slack has handed out, and what each one may still do.

Every Web API call is answered for the workspace its bearer token belongs to. A `FakeToken`
is a bot token (`xoxb-…`, or `xoxe.xoxb-…` when the workspace rotates tokens), a user token
from an install with user scopes (`xoxp-…`), or a Sign in with Slack token (`xoxp-…`, good
for `openid.connect.userInfo`). A token stops working as Slack's do: revoked (`auth.revoke`,
an uninstall) → `token_revoked`; past its expiry (or `expire()`d) → `token_expired`; never
issued → `invalid_auth`. Refresh tokens (`xoxe-1-…`) are spent once.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field


@dataclass
class FakeToken:
    """One access token: whose it is (team, or an org for an org-wide install; the bot user
    or the person), its scopes, and whether it still works."""

    token: str
    kind: str  # "bot", "user" (an install's user token) or "oidc" (Sign in with Slack)
    team_id: str | None
    user_id: str
    enterprise_id: str | None = None
    scopes: list[str] = field(default_factory=list)
    expires_at: float | None = None  # epoch seconds; None: never
    revoked: bool = False
    expired: bool = False

    def error(self, now: float | None = None) -> str:
        """Why this token is refused now (Slack's error), or "" while it works."""
        if self.revoked:
            return "token_revoked"
        now = time.time() if now is None else now
        if self.expired or (self.expires_at is not None and now >= self.expires_at):
            return "token_expired"
        return ""

    def expires_in(self) -> int | None:
        if self.expires_at is None:
            return None
        return max(0, int(self.expires_at - time.time()))


@dataclass
class FakeRefreshToken:
    """A rotating workspace's refresh token: good for one `grant_type=refresh_token`."""

    token: str
    team_id: str | None
    enterprise_id: str | None = None
    spent: bool = False
    revoked: bool = False


class TokenBook:
    """Every token issued, by its string."""

    def __init__(self) -> None:
        self.tokens: dict[str, FakeToken] = {}
        self.refresh: dict[str, FakeRefreshToken] = {}
        self._seq = 0

    def _next(self) -> str:
        self._seq += 1
        return f"{self._seq}-{secrets.token_hex(6)}"

    def add(self, record: FakeToken) -> FakeToken:
        self.tokens[record.token] = record
        return record

    def issue_bot(
        self,
        team_id: str | None,
        bot_user_id: str,
        scopes: list[str],
        *,
        enterprise_id: str | None = None,
        expires_in: int | None = None,
    ) -> FakeToken:
        """A new bot token (a rotating one, `xoxe.xoxb-…`, when `expires_in` is given)."""
        owner = team_id or enterprise_id or "org"
        prefix = "xoxe.xoxb-1-" if expires_in is not None else "xoxb-"
        expires_at = time.time() + expires_in if expires_in is not None else None
        return self.add(
            FakeToken(
                f"{prefix}{owner}-{self._next()}",
                "bot",
                team_id,
                bot_user_id,
                enterprise_id,
                list(scopes),
                expires_at,
            )
        )

    def issue_user(
        self, team_id: str | None, user_id: str, scopes: list[str], kind: str = "user"
    ) -> FakeToken:
        """A new user token for `user_id` (an install's, or Sign in with Slack's)."""
        owner = team_id or "org"
        return self.add(
            FakeToken(
                f"xoxp-{owner}-{user_id}-{self._next()}", kind, team_id, user_id, None, scopes
            )
        )

    def issue_refresh(
        self, team_id: str | None, enterprise_id: str | None = None
    ) -> FakeRefreshToken:
        owner = team_id or enterprise_id or "org"
        record = FakeRefreshToken(f"xoxe-1-{owner}-{self._next()}", team_id, enterprise_id)
        self.refresh[record.token] = record
        return record

    def check(self, token: str | None) -> tuple[FakeToken | None, str]:
        """The token's record and "" if it works now, else (record or None, Slack's error)."""
        record = self.tokens.get(token) if token else None
        if record is None:
            return None, "invalid_auth"
        error = record.error()
        return record, error

    def spend_refresh(self, token: str | None) -> FakeRefreshToken | None:
        """Use a refresh token: its record, now spent, or None (unknown, spent, revoked)."""
        record = self.refresh.get(token) if token else None
        if record is None or record.spent or record.revoked:
            return None
        record.spent = True
        return record

    def revoke(self, token: str) -> FakeToken | None:
        record = self.tokens.get(token)
        if record is not None:
            record.revoked = True
        return record

    def revoke_team(
        self, team_id: str | None, enterprise_id: str | None = None
    ) -> dict[str, list[str]]:
        """Revoke every token of a workspace (or of an org-wide install): what a
        `tokens_revoked` event names, `{"oauth": [user ids], "bot": [bot user ids]}`."""
        revoked: dict[str, list[str]] = {"oauth": [], "bot": []}

        def owned(team: str | None, org: str | None) -> bool:
            if team_id is not None:
                return team == team_id
            return team is None and org == enterprise_id

        for record in self.tokens.values():
            if record.revoked or not owned(record.team_id, record.enterprise_id):
                continue
            record.revoked = True
            kind = "bot" if record.kind == "bot" else "oauth"
            if record.user_id not in revoked[kind]:
                revoked[kind].append(record.user_id)
        for refresh in self.refresh.values():
            if owned(refresh.team_id, refresh.enterprise_id):
                refresh.revoked = True
        return revoked
