"""Web API calls as the fake Slack records them, held back, and checked for the right workspace.

An `ApiCall` is one call: method, params, bearer token, and which workspace that token belongs
to (`team_id` while it works; `token_team` even when revoked or expired). `owners` are the
workspaces the call's objects belong to, as far as the fake can tell: the trigger id, view,
message (channel + ts), or a channel / user / user group id declared in exactly one
workspace. A call made with one workspace's token for another's things is a *wrong-team
call*; so is one made inside `FakeSlack.expect_team(team)` with another team's token.

`SlackHold` keeps a method's answers back until the test releases them (a slow Slack).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

# Methods that carry no workspace token: the app's own credentials or app-level token.
TOKENLESS = ("oauth.v2.access", "openid.connect.token", "apps.connections.open")


@dataclass
class ApiCall:
    """One Web API call: method name, merged query/form/JSON params, bearer token; the team
    of that token (`team_id`: None when the token is unknown, revoked or expired;
    `token_team`: the team it was issued for, whatever its state), the teams the call's
    objects belong to (`owners`) and the team the test said it expected (`expected_team`)."""

    method: str
    params: dict[str, Any]
    token: str | None
    time: float = 0.0
    team_id: str | None = None
    token_team: str | None = None
    owners: frozenset[str] = frozenset()
    expected_team: str | None = None
    client: tuple[str, str] | None = field(default=None, repr=False)  # HTTP Basic id, secret

    @property
    def wrong_team(self) -> bool:
        """Made with a token of another workspace than the one it was for."""
        if self.method in TOKENLESS:
            return False
        if self.expected_team is not None and self.expected_team != self.token_team:
            return True
        return any(owner != self.token_team for owner in self.owners)

    def is_for(self, team_id: str) -> bool:
        """The call was for `team_id`'s things (by what it named, or by the test's word)."""
        return team_id in self.owners or self.expected_team == team_id


class _Owners(Protocol):
    def trigger_team(self, trigger_id: Any) -> str | None: ...
    def view_team(self, params: dict[str, Any]) -> str | None: ...
    def message_team(self, channel: str, ts: str) -> str | None: ...
    def declared_in(self, kind: str, item_id: str) -> set[str]: ...


def owners_of(params: dict[str, Any], book: _Owners) -> frozenset[str]:
    """The workspaces the objects a call names belong to (empty: can't tell)."""
    found: set[str] = set()

    def add(team: str | None) -> None:
        if team:
            found.add(team)

    def unique(kind: str, item_id: str) -> None:
        teams = book.declared_in(kind, item_id)
        if len(teams) == 1:
            found.update(teams)

    add(book.trigger_team(params.get("trigger_id")))
    if params.get("view_id") or params.get("external_id"):
        add(book.view_team(params))
    channel = str(params.get("channel") or "")
    for ts_key in ("ts", "thread_ts"):
        if channel and params.get(ts_key):
            add(book.message_team(channel, str(params[ts_key])))
    if channel:
        unique("channels", channel)
        if channel.startswith("D") and len(channel) > 1:
            unique("users", channel[1:])
    for user in [params.get("user"), *str(params.get("users") or "").split(",")]:
        if user:
            unique("users", str(user))
    if params.get("usergroup"):
        unique("usergroups", str(params["usergroup"]))
    return frozenset(found)


@dataclass
class SlackHold:
    """Web API calls to one method held back until `release()`: Slack being slow, to script
    races. `match` keeps only calls whose params have those values (e.g. `channel="C1"`);
    `count` how many of them are held (later ones answer at once). A held call is recorded
    when it arrives and answers as usual, with whatever is scripted by then, once released.
    """

    method: str
    match: dict[str, str]
    count: int | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0

    def takes(self, call: ApiCall) -> bool:
        """Whether this hold keeps `call` back (and counts it if so)."""
        if call.method != self.method or self.released.is_set():
            return False
        if any(str(call.params.get(k)) != v for k, v in self.match.items()):
            return False
        if self.count is not None and self.held >= self.count:
            return False
        self.held += 1
        self.arrived.set()
        return True

    async def wait_arrived(self, timeout: float = 5.0) -> None:
        """Until a matching call is being held."""
        await asyncio.wait_for(self.arrived.wait(), timeout)

    def release(self) -> None:
        self.released.set()
