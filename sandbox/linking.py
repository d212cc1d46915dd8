"""Linking TikTok accounts for the sandbox, through the bot's own paths: the one place the
sandbox itself (not the person's browser on the page) links an account.

A link is made as a person would make it (`Driver.link`): `/tiktok-cancel connect` (or
`team connect brand` as an admin) typed in the workspace, signed as Slack would; the Connect
button in the bot's answer; TikTok's consent as the account (a code from the TikTok stand-in);
the bot's OAuth callback and "Link it" on its confirm page. The answers go to response URLs no
one on the page owns, so they don't show; the bot's DM saying it is linked does.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from sandbox.fakes.driver import DriverError
from sandbox.guards import BadRequest
from sandbox.scenario import BRAND, CHANNEL, PEOPLE, TEAM_ACCOUNT, TEAM_GRANTS, escape_mentions
from storage.links import LinkUnreadable

if TYPE_CHECKING:
    from bot.app import Parts
    from sandbox.fakes.driver import Driver
    from sandbox.scenario import Person

# How long the sandbox waits for each of the bot's answers while linking.
LINK_WAIT_S = 4.0


class Linking:
    """Links made by the sandbox: a person's own account, and the team account `brand`."""

    def __init__(self) -> None:
        self._team_account = asyncio.Lock()

    async def team_account(self, driver: Driver, parts: Parts, team_id: str) -> bool:
        """Link Brand Social as the team account brand in workspace `team_id` and grant it,
        unless it is linked there: `team connect brand` as the admin (alex), then
        `team grant brand @alex @sam`. True when it linked it now."""
        async with self._team_account:
            with contextlib.suppress(LinkUnreadable):  # an unreadable link is linked again
                if await parts.tokens.load(team_id, "team", TEAM_ACCOUNT) is not None:
                    return False
            admin = next(p for p in PEOPLE if p.admin)
            command = f"team connect {TEAM_ACCOUNT}"
            await self.link(driver, admin, team_id, command, BRAND[0], TEAM_ACCOUNT)
            mentions = " ".join(f"@{name}" for name in TEAM_GRANTS)
            await quiet_command(driver, admin, team_id, f"team grant {TEAM_ACCOUNT} {mentions}")
            return True

    async def person(self, driver: Driver, person: Person, team_id: str) -> None:
        """Link the person's own TikTok account in workspace `team_id`, as they would."""
        await self.link(driver, person, team_id, "connect", person.open_id, person.name)

    async def link(
        self,
        driver: Driver,
        person: Person,
        team_id: str,
        command: str,
        open_id: str,
        whom: str,
    ) -> None:
        """`/tiktok-cancel <command>` typed by `person` in workspace `team_id`, then TikTok's
        consent as `open_id` for the Connect button in its answer and the bot's confirm page,
        as a browser would."""
        try:
            await driver.link(
                person.user_id,
                open_id,
                command=command,
                timeout=LINK_WAIT_S,
                user_name=person.name,
                channel_id=CHANNEL,
                team_id=team_id,
            )
        except DriverError as problem:
            raise BadRequest(f"the bot did not link {whom} ({problem})", 502) from None


async def quiet_command(driver: Driver, person: Person, team_id: str, text: str) -> dict[str, Any]:
    """A signed slash command in workspace `team_id` whose answer no one on the page sees;
    returns the answer."""
    try:
        return await driver.command(
            escape_mentions(text),
            timeout=LINK_WAIT_S,
            user_id=person.user_id,
            user_name=person.name,
            channel_id=CHANNEL,
            team_id=team_id,
        )
    except DriverError:
        raise BadRequest(f"the bot did not answer /tiktok-cancel {text}", 502) from None
