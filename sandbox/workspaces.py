"""The sandbox's Slack workspaces: the bot serves many (Add to Slack), as a deployment with
SLACK_CLIENT_ID and SLACK_CLIENT_SECRET does, and the page switches between them.

Every workspace of `scenario.WORKSPACES` is declared at the Slack stand-in, with the sandbox's
people and user group. The first is installed when the sandbox starts, the others when the
page's Add to Slack asks, each through the round trip a browser makes (`Driver.install`: the
bot's `GET /slack/install`, Slack's consent as the workspace's admin, the bot's
`GET /slack/oauth_redirect`, Bolt's state cookie carried), so the bot stores the installation
as it stores any. Then the sandbox sets the workspace up as its admin and its operator would:
its audit channel (#tiktok-audit) and one pipeline token (made as `python -m bot pipeline-token
--team` makes it), which the page's Upload pipeline forms send.

Uninstall (not the first workspace: the page always has one to show) is the workspace removing
the app: its tokens revoked at the stand-in, then Slack's `tokens_revoked` and
`app_uninstalled`; the bot forgets it (links, held uploads, settings, pipeline tokens). What
was posted in its channels stays there, as in Slack. Add to Slack installs it again, clean.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from bot.accounts.workspace_settings import CLI_MAKER, make_token
from sandbox.fakes.driver import DriverError
from sandbox.guards import BadRequest
from sandbox.scenario import AUDIT_CHANNEL, PEOPLE, USERGROUPS, WORKSPACES, Workspace, user_id_of
from storage import workspace_settings
from storage.audit import AuditStart

if TYPE_CHECKING:
    from bot.app import Parts
    from sandbox.fakes import FakeSlack
    from sandbox.fakes.driver import Driver
    from storage.sql import Db

# How long an uninstall waits for the bot to have forgotten the workspace.
FORGET_WAIT_S = 5.0


class SandboxWorkspaces:
    """Which of the sandbox's workspaces have the app, each one's pipeline token, and Add to
    Slack and Uninstall for them."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.pipeline_tokens: dict[str, str] = {}  # team id → its pipeline token, installed
        self._changing = asyncio.Lock()

    @property
    def first(self) -> Workspace:
        return WORKSPACES[0]

    def declare(self) -> None:
        """The workspaces at the Slack stand-in (the first is its default workspace), each
        with the sandbox's people and user group; none has the app yet."""
        first = self.slack.default
        first.name, first.domain = self.first.name, self.first.domain
        for ws in WORKSPACES[1:]:
            self.slack.add_workspace(ws.team_id, ws.name, domain=ws.domain, installed=False)
        for ws in WORKSPACES:
            for person in PEOPLE:
                self.slack.set_user(
                    person.user_id, is_admin=person.admin, name=person.name, team_id=ws.team_id
                )
            for group in USERGROUPS:
                members = [user_id_of(name) for name in group.members]
                self.slack.set_usergroup(
                    group.group_id, handle=group.handle, users=members, team_id=ws.team_id
                )

    def workspace(self, team_id: str) -> Workspace:
        """The sandbox workspace `team_id` (the first when ""); a 400 for any other."""
        if not team_id:
            return self.first
        for ws in WORKSPACES:
            if ws.team_id == team_id:
                return ws
        known = ", ".join(w.team_id for w in WORKSPACES)
        raise BadRequest(f"unknown workspace {team_id!r}; one of {known}")

    def installed(self, team_id: str) -> bool:
        return team_id in self.pipeline_tokens

    def pipeline_token(self, team_id: str) -> str:
        """The workspace's pipeline token; a 409 while it has not installed the app."""
        ws = self.workspace(team_id)
        token = self.pipeline_tokens.get(ws.team_id)
        if token is None:
            raise BadRequest(f"{ws.name} has not installed the app: press Add to Slack", 409)
        return token

    def listed(self) -> list[dict[str, Any]]:
        """The workspaces as the page's switcher lists them."""
        return [
            {"team_id": ws.team_id, "name": ws.name, "installed": self.installed(ws.team_id)}
            for ws in WORKSPACES
        ]

    def next_to_install(self) -> Workspace | None:
        return next((ws for ws in WORKSPACES if not self.installed(ws.team_id)), None)

    async def install(self, driver: Driver, parts: Parts, team_id: str = "") -> dict[str, Any]:
        """Add to Slack for workspace `team_id` (by default the next one without the app), as
        its admin's browser does, then set it up. Answers what the page says of it."""
        async with self._changing:
            if team_id:
                ws = self.workspace(team_id)
            else:
                ws = self.next_to_install()
                if ws is None:
                    raise BadRequest("every sandbox workspace has the app already", 409)
            if self.installed(ws.team_id):
                raise BadRequest(f"{ws.name} has the app already", 409)
            admin = next(p for p in PEOPLE if p.admin)
            try:
                status, _ = await driver.install(team_id=ws.team_id, installer=admin.user_id)
            except DriverError as problem:
                raise BadRequest(f"Add to Slack did not finish ({problem})", 502) from None
            if status != 200 or await parts.workspaces.installation(ws.team_id) is None:
                raise BadRequest(f"the bot did not install {ws.name} (HTTP {status})", 502)
            self.pipeline_tokens[ws.team_id] = await parts.store.run(
                _set_up, ws.team_id, admin.user_id
            )
            parts.workspaces.forget_cached(ws.team_id)
            return {"team_id": ws.team_id, "name": ws.name, "installed": True}

    async def uninstall(self, driver: Driver, parts: Parts, team_id: str) -> dict[str, Any]:
        """Workspace `team_id` removes the app (Slack's events, tokens revoked first); answers
        once the bot has forgotten it (or after FORGET_WAIT_S, `forgotten` False)."""
        ws = self.workspace(team_id)
        if ws == self.first:
            raise BadRequest(f"{ws.name} keeps the app: the page always shows one workspace")
        async with self._changing:
            if not self.installed(ws.team_id):
                raise BadRequest(f"{ws.name} has not installed the app", 409)
            del self.pipeline_tokens[ws.team_id]
            statuses = await driver.uninstall(ws.team_id)
            forgotten = await _forgotten(parts, ws.team_id)
            return {
                "team_id": ws.team_id,
                "name": ws.name,
                "installed": False,
                "events": statuses,
                "forgotten": forgotten,
            }


def _set_up(db: Db, team_id: str, admin: str) -> str:
    """A workspace just installed, set up: its audit channel (as its admin would with
    `settings audit`) and a pipeline token (as the operator's `python -m bot pipeline-token`
    makes it, audited the same way); the token's secret."""
    workspace_settings.set_audit_channel(db, team_id, AUDIT_CHANNEL, admin)
    entry = AuditStart(action="pipeline_token_made", team_id=team_id, user_id="", source="cli")
    made = make_token(db, team_id, CLI_MAKER, entry)
    assert made is not None  # a workspace just installed holds no token yet
    return made[1]


async def _forgotten(parts: Parts, team_id: str) -> bool:
    """Whether the bot no longer has the workspace's installation, waiting for it a while:
    Slack's events are answered first and acted on after."""
    deadline = time.monotonic() + FORGET_WAIT_S
    while await parts.workspaces.installation(team_id) is not None:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
