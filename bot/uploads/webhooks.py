"""TikTok webhooks: a signed delivery checked, then applied once however often it comes.

The `TikTok-Signature` is checked (HMAC-SHA256 with the client secret over "<t>.<body>",
timestamps older than 5 minutes refused); each event is applied once (de-duplicated in the
database). Publish events move an announced upload, or a followed cancel
(`bot.uploads.cancel_following`), to its state; `authorization.removed` forgets the links.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time

from bot import messages, metrics
from bot.accounts.link_notices import LinkNotices
from bot.accounts.tokens import TokenService
from bot.background import Background
from bot.uploads.announcing import AnnouncementService
from bot.uploads.cancel_following import FollowedCancels
from storage import announcements as store_announcements
from storage import followed as store_followed
from storage.db import Store

log = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_S = 300
PUBLISH_EVENTS = {
    "post.publish.failed": "FAILED",
    "post.publish.complete": "PUBLISH_COMPLETE",
    "post.publish.inbox_delivered": "SEND_TO_USER_INBOX",
    "post.publish.publicly_available": "PUBLISH_COMPLETE",
    "post.publish.no_longer_publicaly_available": "PUBLISH_COMPLETE",
}


def verify_signature(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """`TikTok-Signature: t=<ts>,s=<hex>`; constant-time compare, then reject a stale `t`."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, s = parts.get("t", "").strip(), parts.get("s", "").strip()
    if not t.isdigit() or len(t) > 12 or not s:  # a Unix time; no int too big for a float
        return False
    expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), s.lower().encode()):
        return False
    return abs((now or time.time()) - int(t)) <= SIGNATURE_TOLERANCE_S


class WebhookReceiver:
    def __init__(
        self,
        client_secret: str,
        store: Store,
        announcements: AnnouncementService,
        tokens: TokenService,
        notices: LinkNotices | None = None,
        follows: FollowedCancels | None = None,
    ):
        self.client_secret = client_secret
        self.store = store
        self.announcements = announcements
        self.tokens = tokens
        self.notices = notices
        self.follows = follows
        self._applying = Background("webhook.apply")

    async def receive(self, body: bytes, signature: str) -> int:
        """Check one delivery and apply it in the background; returns the status to answer.

        TikTok wants a 200 at once, so Slack updates happen after the answer.
        """
        if not signature or not verify_signature(self.client_secret, signature, body):
            metrics.webhook("refused")
            return 401
        try:
            event = json.loads(body)
            if not isinstance(event, dict):
                metrics.webhook("refused")
                return 400
            name = str(event.get("event") or "")
            content = event.get("content")
            content = json.loads(content) if isinstance(content, str) else content
        except (ValueError, AttributeError):
            metrics.webhook("refused")
            return 400
        if not isinstance(content, dict):
            content = {}
        self._applying.spawn(self._apply(body, name, event, content))
        return 200

    def pending(self) -> list[asyncio.Task]:
        """Deliveries still being applied (shutdown waits for them)."""
        return self._applying.pending()

    async def drain(self) -> None:
        """Wait for what `pending` lists."""
        await asyncio.gather(*self.pending(), return_exceptions=True)

    async def _apply(self, body: bytes, name: str, event: dict, content: dict) -> None:
        key = hashlib.sha256(body).hexdigest()
        if not await self.store.run(store_announcements.claim_event, key, name[:64]):
            metrics.webhook("duplicate")
            return  # a redelivery: already applied
        metrics.webhook("delivered")
        if name in PUBLISH_EVENTS:
            await self._publish_event(name, content)
        elif name == "authorization.removed":
            await self._authorization_removed(event, content)
        else:
            log.info("webhook.ignored", extra={"event": name[:64]})

    async def _authorization_removed(self, event: dict, content: dict) -> None:
        """TikTok removed an account's access: forget its links and tell their owners."""
        reason = content.get("reason")
        number = messages.reason_number(reason)
        detail = "" if number is None else str(number)
        forgotten = await self.tokens.forget_open_id(str(event.get("user_openid") or ""), detail)
        log.info("webhook.authorization_removed", extra={"links_removed": len(forgotten)})
        if self.notices is not None and forgotten:
            await self.notices.authorization_removed(forgotten, reason)

    async def _publish_event(self, name: str, content: dict) -> None:
        publish_id = str(content.get("publish_id") or "")
        status = PUBLISH_EVENTS[name]
        reason = str(content.get("reason") or "") if status == "FAILED" else ""
        # TikTok names only the upload: every workspace that follows it hears the news.
        if self.follows is not None:
            for team_id in await self.store.run(store_followed.teams_of, publish_id):
                await self.follows.apply_status(team_id, publish_id, status, reason)
        for team_id in await self.store.run(store_announcements.teams_of, publish_id):
            a = await self.announcements.get(team_id, publish_id)
            if a is None:
                continue
            post_ids = list(a.post_ids)
            post_id = content.get("post_id")
            if name == "post.publish.publicly_available" and post_id is not None:
                post_ids = sorted(set(post_ids) | {str(post_id)})
            elif name == "post.publish.no_longer_publicaly_available" and post_id is not None:
                post_ids = [p for p in post_ids if p != str(post_id)]
            await self.announcements.apply_status(team_id, publish_id, status, reason, post_ids)
