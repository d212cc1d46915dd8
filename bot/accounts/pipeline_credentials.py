"""Which workspace a pipeline request is for, decided by its bearer token alone (never by a
field the caller chose).

One workspace: `NOTIFY_TOKEN` (announce only) and `UPLOAD_TOKEN` (may post videos), each
route off while its token is unset; the workspace is the bot token's own (`auth.test`). Many
workspaces: a workspace's pipeline token (`settings pipeline-token`), for every pipeline route.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from storage import pipeline_tokens
from storage.db import Store

NOTIFY = "notify"
UPLOAD = "upload"


class PipelineCredentials:
    def __init__(
        self,
        store: Store,
        *,
        many: bool,
        notify_token: str | None,
        upload_token: str | None,
        home_team: Callable[[], Awaitable[str]],
    ):
        self.store = store
        self.many = many
        self.tokens = {NOTIFY: notify_token or "", UPLOAD: upload_token or ""}
        self.home_team = home_team  # one workspace: the bot token's team (auth.test)

    def route_off(self, kind: str) -> bool:
        """Whether routes of `kind` take no credential at all (one workspace, token unset)."""
        return not self.many and not self.tokens[kind]

    async def team_of(self, kind: str, given: bytes) -> str | None:
        """The workspace `given` is a credential of for routes of `kind`; None when it is not
        one (or the route is off)."""
        if self.many:
            if not given.startswith(pipeline_tokens.PREFIX.encode()):
                return None
            return await self.store.run(pipeline_tokens.team_of, given)
        token = self.tokens[kind]
        if not (token and given and hmac.compare_digest(given, token.encode())):
            return None
        return await self.home_team()
