"""The web post page: the post-page form at a per-person link on the bot's own server, for a
video preview and for people who review outside Slack.

`link_for` is `Approvals`' `web_link` hook: a link made for the one Slack user Slack told us
about (the approver who opened Review and approve, or got the direct message), handed only to
them. It expires with the upload's deadline and at most a day after it was made, and works
once. Whoever holds it acts as that user: no name typed on the page counts.

`open` is the page (`GET`): the same checks and fresh creator_info as the modal
(`Approvals.review`), and a fresh form token stored with the link, so only the form rendered
last can approve (CSRF). `submit` is its form (`POST`): the form token must match; the checks
and creator_info run again; `post_choices.check` decides, as for the modal; problems come back
with the form and a new form token (the link stays usable); good choices spend the link by
compare-and-write and make one approval (`via="web"`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot import messages
from bot.uploads import post_choices
from bot.uploads.approvals import Approvals, Review
from bot.uploads.post_choices import PostForm
from storage import approval_links as store_links
from storage.db import Store

LINK_TTL_S = 24 * 3600  # a link works at most a day, and never past the upload's deadline
APPROVE_PATH = "/approve/"  # the page's path: GET /approve/<token>, and its form's POST
CALLBACK_PATH = "/tiktok/oauth/callback"


def public_base(redirect_uri: str | None) -> str:
    """The bot's server as the world reaches it, from TIKTOK_REDIRECT_URI (the only public URL
    of it we know): its scheme://host[:port], with any path prefix in front of
    /tiktok/oauth/callback kept (a server behind a path prefix). "" when unset or unusable."""
    if not redirect_uri:
        return ""
    try:
        parts = urlsplit(redirect_uri)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return ""
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return ""
    path = parts.path
    prefix = path[: -len(CALLBACK_PATH)] if path.endswith(CALLBACK_PATH) else ""
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{prefix.rstrip('/')}"


@dataclass(frozen=True)
class WebPage:
    """What the page shows. `kind`: "form" (the post page: `review`, `form_token`, and what
    was sent with its problems when it comes back), "link" (the link is `problem`: unknown,
    used or expired), "stale" (a form older than the newest render), "refused" (`message`
    says why this person may not approve now), "done" (`message`: the approval's outcome)."""

    kind: str
    problem: str = ""
    message: messages.Message | None = None
    review: Review | None = None
    form_token: str = ""
    sent: PostForm | None = None
    errors: dict[str, str] = field(default_factory=dict)


class ApprovalLinks:
    def __init__(self, store: Store, base_url: str, ttl_s: float = LINK_TTL_S):
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.ttl_s = ttl_s
        self.approvals: Approvals | None = None  # set by the composition root (it needs us)

    async def link_for(self, team_id: str, upload_key: str, user_id: str, expires_at: float) -> str:
        """A new link to the web post page for `user_id` ("" when not served, or too late)."""
        if not self.base_url or not user_id:
            return ""
        token = await self.store.run(
            store_links.issue, team_id, upload_key, user_id, expires_at, self.ttl_s
        )
        return f"{self.base_url}{APPROVE_PATH}{token}" if token else ""

    def _approvals(self) -> Approvals:
        assert self.approvals is not None, "ApprovalLinks.approvals is wired in bot.app"
        return self.approvals

    async def _problem(self, token: str) -> WebPage:
        _, problem = await self.store.run(store_links.find, token)
        return WebPage("link", problem=problem or "used")

    async def open(self, token: str) -> WebPage:
        """The page for the person the link was made for, with a fresh form token."""
        link, problem = await self.store.run(store_links.find, token)
        if link is None:
            return WebPage("link", problem=problem)
        review = await self._approvals().review(
            link.team_id, link.upload_key, link.user_id, with_web_link=False
        )
        if review.refusal is not None:
            return WebPage("refused", message=review.refusal)
        form_token = await self.store.run(store_links.set_form, token)
        if not form_token:
            return await self._problem(token)
        return WebPage("form", review=review, form_token=form_token)

    async def submit(self, token: str, form_token: str, form: PostForm) -> WebPage:
        """The page's form: one approval as the link's person, or the form again with what
        is wrong next to each field."""
        link, problem = await self.store.run(store_links.find, token)
        if link is None:
            return WebPage("link", problem=problem)
        sent_hash = store_links.token_hash(form_token) if form_token else ""
        if not link.form_hash or not hmac.compare_digest(link.form_hash, sent_hash):
            return WebPage("stale")
        approvals = self._approvals()
        review = await approvals.review(
            link.team_id, link.upload_key, link.user_id, with_web_link=False
        )
        if review.refusal is not None:
            return WebPage("refused", message=review.refusal)
        assert review.upload is not None and review.facts is not None
        choices, problems = post_choices.check(
            form, review.facts, review.upload.video.get("duration_s")
        )
        if choices is None:
            fresh = await self.store.run(store_links.set_form, token)
            if not fresh:
                return await self._problem(token)
            return WebPage("form", review=review, form_token=fresh, sent=form, errors=problems)
        if not await self.store.run(store_links.use, token, form_token):
            link, problem = await self.store.run(store_links.find, token)
            return WebPage("stale") if link is not None else WebPage("link", problem=problem)
        answer = await approvals.approve(
            link.team_id, link.upload_key, link.user_id, choices, via="web"
        )
        return WebPage("done", message=answer)
