"""Rotating a workspace's bot token (many workspaces, with the Slack app's token rotation on).

Such a token lasts 12 hours; its refresh token is good for one `oauth.v2.access
grant_type=refresh_token`, which answers a new pair. So one replica at a time rotates a
workspace's token (the `slack-token:<team>` lease of `bot.claims`, queued in this process
first): inside the lease it reads the installation again, and rotates only if the refresh
token it saw is still the stored one and still due by the database's clock; otherwise someone
else already did, and that is used. The new pair is stored only over the refresh token that
was spent (`Installations.store_rotated`, compare-and-write), so a rotation that finishes
after an uninstall or a reinstall writes nothing. The rotation is shielded from the caller's
cancellation: a spent refresh token whose successor was never stored would leave the workspace
without a token.

A token is rotated when it has less than `ROTATE_BEFORE_S` left: Bolt's own threshold
(`token_rotation_expiration_minutes`, 120) and a margin, so Bolt never finds one due itself.
Every user of a workspace's token goes through here (Bolt's authorize through our
installation store, background posts through `Workspaces.bot_token`). A refusal or a timeout
keeps the current token, which still works for about two hours; the next use tries again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.claims import Lease, holding
from bot.keyed_locks import KeyedLocks
from bot.slack.metered import MeteredWebClient
from bot.slack.output import slack_error
from storage.db import Store
from storage.installations import Installation, Installations

log = logging.getLogger(__name__)

BOLT_ROTATION_MINUTES = 120  # AsyncOAuthSettings' token_rotation_expiration_minutes
ROTATE_BEFORE_S = (BOLT_ROTATION_MINUTES + 10) * 60
REQUEST_TIMEOUT_S = 10  # one oauth.v2.access, well inside the lease


class BotTokenRotation:
    def __init__(
        self,
        store: Store,
        installations: Installations,
        client: AsyncWebClient,
        client_id: str,
        client_secret: str,
        *,
        before_s: float = ROTATE_BEFORE_S,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.installations = installations
        self.client = client
        self.client_id = client_id
        self.client_secret = client_secret
        self.before_s = before_s
        self.clock = clock
        self.locks = KeyedLocks()

    def due(self, installed: Installation, now: float) -> bool:
        """Does this installation's token rotate and run out within `before_s` of `now`?"""
        expires_at = installed.bot_token_expires_at
        return bool(installed.bot_refresh_token) and 0 < expires_at <= now + self.before_s

    async def fresh(self, installed: Installation) -> Installation | None:
        """`installed`, or what replaced it when its token was due (rotated here or by another
        replica); None when the workspace was uninstalled meanwhile. A cheap look at this
        replica's clock first; the database's clock decides inside the lease."""
        if not self.due(installed, self.clock()):
            return installed
        return await asyncio.shield(self._rotate(installed))

    async def _rotate(self, seen: Installation) -> Installation | None:
        team_id = seen.team_id
        async with holding(self.store, Lease.slack_token(team_id), self.locks):
            current, now = await self.store.run(self.installations.get_with_clock, team_id)
            if current is None or current.bot_refresh_token != seen.bot_refresh_token:
                return current  # uninstalled, reinstalled, or rotated while we waited
            if not self.due(current, now):
                return current
            return await self._with_slack(current)

    async def _with_slack(self, current: Installation) -> Installation | None:
        """Spend the refresh token (inside the lease) and store the new pair over it."""
        try:
            resp = await self.client.oauth_v2_access(
                client_id=self.client_id,
                client_secret=self.client_secret,
                grant_type="refresh_token",
                refresh_token=current.bot_refresh_token,
            )
        except SlackApiError as exc:
            log.warning("slack.token_rotation_failed", extra={"error": slack_error(exc)})
            return current
        except Exception as exc:  # a timeout, a dropped connection: Slack may have spent it
            log.warning("slack.token_rotation_failed", extra={"error": type(exc).__name__})
            return current
        token = str(resp.get("access_token") or "")
        if resp.get("token_type") != "bot" or not token:
            log.warning("slack.token_rotation_failed", extra={"error": "not_a_bot_token"})
            return current
        stored = await self.store.run(
            self.installations.store_rotated,
            current,
            token,
            str(resp.get("refresh_token") or ""),
            float(resp.get("expires_in") or 0),
        )
        log.info("slack.token_rotated" if stored else "slack.token_rotation_discarded")
        return await self.store.run(self.installations.get, current.team_id)


def rotation_client(session, base_url: str) -> AsyncWebClient:
    """The client that spends refresh tokens: no automatic retries (a retried refresh would
    spend a token Slack may already have spent), a timeout inside the lease."""
    return MeteredWebClient(base_url=base_url, session=session, timeout=REQUEST_TIMEOUT_S)
