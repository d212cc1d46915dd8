"""Team accounts: shared TikTok accounts an admin links once and grants to named people,
and the `team approvers` rule that makes every upload for one wait for approval.

Admins are the Slack user IDs in ADMIN_USERS plus the workspace's admins and owners
(`users.info`, remembered for five minutes). Every change lands in the audit trail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.accounts.linking import LinkingNotConfigured, LinkingService
from bot.accounts.tokens import TokenService
from bot.actor import Actor
from bot.slack.output import SlackOut
from storage import account_approvers, audit, grants
from storage.audit import AuditFinish, AuditStart
from storage.db import Store
from storage.oauth_states import PendingLink

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 300


class AdminCheck:
    """Who may manage the bot in a workspace: its named bot admins (`named`, see
    `Workspaces.admins`) and its Slack admins and owners."""

    def __init__(self, named: Callable[[str], Awaitable[frozenset[str]]], slack: SlackOut):
        self.named = named
        self.slack = slack
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}

    async def is_admin(self, team_id: str, user_id: str) -> bool:
        if user_id in await self.named(team_id):
            return True
        cached = self._cache.get((team_id, user_id))
        if cached and time.monotonic() - cached[1] < ADMIN_CACHE_SECONDS:
            return cached[0]
        try:
            client = await self.slack.client(team_id)
            resp = await client.users_info(user=user_id)
            user = resp.get("user") or {}
            admin = bool(
                user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")
            )
        except Exception as exc:  # Slack unreachable: not an admin this time, not cached
            log.warning("slack.users_info_failed", extra={"error": type(exc).__name__})
            return False
        self._cache[(team_id, user_id)] = (admin, time.monotonic())
        return admin


@dataclass(frozen=True)
class TeamAccountView:
    account: str
    display_name: str
    open_id: str
    access_expires_at: float
    refresh_expires_at: float
    users: tuple[str, ...]
    approvers: tuple[str, ...] = ()  # the `team approvers` rule (admins see it), ids
    needed: int = 0


@dataclass(frozen=True)
class TeamChange:
    """How a team command ended: `code` is "ok", "not_admin", "no_such_account", …"""

    code: str
    account: str
    users: tuple[str, ...] = ()  # whom the change touched
    unchanged: tuple[str, ...] = ()  # named but already so
    connect_url: str = ""


@dataclass(frozen=True)
class ApproversChange:
    """How `team approvers` ended: `code` is "ok", "unchanged", "not_admin" or
    "no_such_account"; `previous` is the rule before, as (approvers, needed), or None."""

    code: str
    account: str
    approvers: tuple[str, ...] = ()
    needed: int = 0
    previous: tuple[tuple[str, ...], int] | None = None


def _approvers_reason(approvers: tuple[str, ...], needed: int) -> str:
    """The audit entry's reason: "approvers U1,S2 needed 2" or "approvers none"."""
    if not approvers:
        return "approvers none"
    return f"approvers {','.join(approvers)} needed {needed}"


class TeamAccounts:
    def __init__(
        self, store: Store, tokens: TokenService, linking: LinkingService, admins: AdminCheck
    ):
        self.store = store
        self.tokens = tokens
        self.linking = linking
        self.admins = admins

    async def _audit(
        self, actor: Actor, action: str, account: str, detail: str = "", outcome: str = "ok"
    ) -> None:
        entry = AuditStart(
            action=action,
            team_id=actor.team_id,
            user_id=actor.user_id,
            channel_id=actor.channel_id,
            source=actor.source,
            reason=detail,
            account=account,
            account_kind="team",
        )
        await self.store.run(audit.record, entry, AuditFinish(outcome=outcome))

    async def _exists(self, team_id: str, account: str) -> bool:
        rows = await self.store.run(self.tokens.links.team_accounts, team_id)
        return any(r["account"] == account for r in rows)

    async def connect(self, actor: Actor, account: str) -> TeamChange:
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return TeamChange("not_admin", account)
        pending = PendingLink(
            team_id=actor.team_id,
            user_id=actor.user_id,
            kind="team",
            owner=account,
            channel_id=actor.channel_id,
            retry_publish_id="",
            retry_reason="",
        )
        try:
            url = await self.linking.start(pending)
        except LinkingNotConfigured:
            return TeamChange("linking_not_configured", account)
        return TeamChange("ok", account, connect_url=url)

    async def change_grants(
        self, actor: Actor, account: str, users: tuple[str, ...], give: bool
    ) -> TeamChange:
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return TeamChange("not_admin", account)
        if not await self._exists(actor.team_id, account):
            return TeamChange("no_such_account", account)
        if give:
            changed = await self.store.run(
                grants.grant, actor.team_id, account, list(users), actor.user_id
            )
        else:
            changed = await self.store.run(grants.revoke, actor.team_id, account, list(users))
        unchanged = tuple(u for u in users if u not in changed)
        if changed:
            await self._audit(actor, "grant" if give else "revoke", account, ",".join(changed))
        return TeamChange("ok", account, tuple(changed), unchanged)

    async def set_approvers(
        self, actor: Actor, account: str, approvers: tuple[str, ...], needed: int
    ) -> ApproversChange:
        """Make every upload for `account` wait for `needed` approvals from `approvers`
        (Slack user and user-group ids); no approvers clears the rule. Admins only, on a
        linked team account; a change is audited in the same transaction."""
        if not approvers:
            return await self.clear_approvers(actor, account)
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return ApproversChange("not_admin", account)
        if not await self._exists(actor.team_id, account):
            return ApproversChange("no_such_account", account)
        approvers = tuple(approvers)

        def write(db) -> tuple[tuple[tuple[str, ...], int] | None, bool]:
            before = account_approvers.get(db, actor.team_id, account)
            if before == (approvers, needed):
                return before, False
            account_approvers.put(db, actor.team_id, account, approvers, needed, actor.user_id)
            audit.record(
                db,
                self._audit_entry(actor, "team_approvers", account, approvers, needed),
                AuditFinish(outcome="ok"),
            )
            return before, True

        before, changed = await self.store.run(write)
        code = "ok" if changed else "unchanged"
        return ApproversChange(code, account, approvers, needed, before)

    async def clear_approvers(self, actor: Actor, account: str) -> ApproversChange:
        """`team approvers <account> none`: uploads for it no longer wait for approval
        (unless the pipeline asks). Admins only; audited when there was a rule."""
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return ApproversChange("not_admin", account)
        if not await self._exists(actor.team_id, account):
            return ApproversChange("no_such_account", account)

        def write(db) -> tuple[tuple[str, ...], int] | None:
            before = account_approvers.get(db, actor.team_id, account)
            if before is not None:
                account_approvers.remove(db, actor.team_id, account)
                audit.record(
                    db,
                    self._audit_entry(actor, "team_approvers", account, (), 0),
                    AuditFinish(outcome="ok"),
                )
            return before

        before = await self.store.run(write)
        return ApproversChange("ok" if before else "unchanged", account, previous=before)

    @staticmethod
    def _audit_entry(
        actor: Actor, action: str, account: str, approvers: tuple[str, ...], needed: int
    ) -> AuditStart:
        return AuditStart(
            action=action,
            team_id=actor.team_id,
            user_id=actor.user_id,
            channel_id=actor.channel_id,
            source=actor.source,
            reason=_approvers_reason(approvers, needed),
            account=account,
            account_kind="team",
        )

    async def remove(self, actor: Actor, account: str) -> TeamChange:
        if not await self.admins.is_admin(actor.team_id, actor.user_id):
            return TeamChange("not_admin", account)
        result = await self.linking.disconnect(
            actor.team_id, actor.user_id, kind="team", owner=account
        )
        await self.store.run(grants.remove_account, actor.team_id, account)
        if result.code == "not_linked":
            return TeamChange("no_such_account", account)
        return TeamChange(result.code, account)

    async def visible_to(self, actor: Actor) -> tuple[bool, list[TeamAccountView]]:
        """(is_admin, accounts): every account for an admin, else those granted to the caller."""
        admin = await self.admins.is_admin(actor.team_id, actor.user_id)

        def read(db) -> list[TeamAccountView]:
            views = []
            mine = set(grants.accounts_of(db, actor.team_id, actor.user_id))
            rules = (
                {r["account"]: r for r in account_approvers.for_team(db, actor.team_id)}
                if admin
                else {}
            )
            for row in self.tokens.links.team_accounts(db, actor.team_id):
                if not admin and row["account"] not in mine:
                    continue
                users = grants.users_of(db, actor.team_id, row["account"]) if admin else ()
                rule = rules.get(row["account"]) or {}
                views.append(
                    TeamAccountView(
                        account=row["account"],
                        display_name=row["display_name"] or "",
                        open_id=row["open_id"] or "",
                        access_expires_at=row["access_expires_at"] or 0.0,
                        refresh_expires_at=row["refresh_expires_at"] or 0.0,
                        users=tuple(users),
                        approvers=tuple(rule.get("approvers", ())),
                        needed=int(rule.get("needed", 0)),
                    )
                )
            return views

        return admin, await self.store.run(read)
