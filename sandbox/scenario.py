"""Who and where in the sandbox: its workspaces, its people, their user group, their TikTok
accounts, the team account, the channels, and the fixed local names the stand-ins use.

Each workspace has the same people, user group and channels, by the same ids (as two real
workspaces may): alex in the second workspace is another Slack account than alex in the first,
and nothing one does shows in the other.

Nothing here leaves the machine. `escape_mentions` turns `@sam` (or `@social-leads`) into
what Slack sends a command for a sandbox person (or user group).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Workspace:
    team_id: str
    name: str
    domain: str


# The first is installed when the sandbox starts; the others by the page's Add to Slack.
WORKSPACES = (
    Workspace("T0SANDBOX", "Sandbox", "sandbox"),
    Workspace("T0002", "Second workspace", "second"),
)
FIRST_TEAM = WORKSPACES[0].team_id

CHANNEL = "C0LAUNCH"
AUDIT_CHANNEL = "C0AUDIT"
CHANNELS = {CHANNEL: "launches", AUDIT_CHANNEL: "tiktok-audit"}
# Fixed local names: nothing here leaves the machine. The secrets that let a request act
# (Slack's signing secret, TikTok's client secret, the pipeline's token) are made per run.
BOT_TOKEN = "xoxb-sandbox-bot-token"
CLIENT_KEY = "sandbox_client_key"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    open_id: str
    tiktok_name: str
    admin: bool = False


PEOPLE = (
    Person("U0ALEX", "alex", "open-alex", "Alex Rivera", admin=True),
    Person("U0SAM", "sam", "open-sam", "Sam Lee"),
    Person("U0RILEY", "riley", "open-riley", "Riley Park"),
)


@dataclass(frozen=True)
class Usergroup:
    group_id: str
    handle: str
    members: tuple[str, ...]  # the people's names


# A user group an upload may name as its approvers (any one member may approve).
USERGROUPS = (Usergroup("S0LEADS", "social-leads", ("sam", "riley")),)
BRAND = ("open-brand", "Brand Social")
# The team account a held upload uses unless the page names another; linked on first use.
TEAM_ACCOUNT = "brand"
# Who the sandbox grants it to when it links it (riley is left out: "not granted" to try).
TEAM_GRANTS = ("alex", "sam")
ACCOUNTS = tuple((p.open_id, p.tiktok_name) for p in PEOPLE) + (BRAND,)


def user_id_of(name: str) -> str:
    """The Slack id of the sandbox person called `name`."""
    return next(p.user_id for p in PEOPLE if p.name == name)


def escape_mentions(text: str) -> str:
    """`@sam` as Slack sends it to a command with `should_escape` on: `<@U0SAM|sam>`; a user
    group's `@social-leads` as `<!subteam^S0LEADS|@social-leads>`."""
    names = {p.name: p.user_id for p in PEOPLE}
    groups = {g.handle: g.group_id for g in USERGROUPS}

    def mention(match: re.Match[str]) -> str:
        name = match.group(2).lower()
        if name in groups:
            return f"{match.group(1)}<!subteam^{groups[name]}|@{name}>"
        user_id = names.get(name)
        if user_id is None:
            return match.group(0)
        return f"{match.group(1)}<@{user_id}|{name}>"

    return re.sub(r"(^|\s)@([A-Za-z][\w.-]*)", mention, text)
