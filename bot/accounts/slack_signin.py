"""Sign in with Slack on the link confirm page (many workspaces): the browser that confirms a
TikTok link proves it is the Slack user the link is for, so a forwarded Connect link can't be
confirmed by anyone else.

After TikTok's consent the callback page shows no confirm form: `begin` binds a sign-in to
the page and to this browser, and the page offers Slack's authorize URL. The binding: a random
secret goes into a cookie of this browser (HttpOnly, SameSite=Lax, Secure when the public URL
is https, Path=/, for as long as the page lives); the sign-in's `state` and `nonce` are the
SHA-256 of that secret (each with its own label), and the state's own SHA-256 is stored with
the page. A sign-in link forwarded to another browser therefore fails there: it has no cookie
whose hash is the state.

`finish` is Slack's redirect (`GET /slack/signin`): the cookie checked first (nothing is spent
for a browser without it), the state taken once, the code traded and Slack asked who signed
in. Only the link's own user in the link's own workspace gets the confirm form, with a fresh
confirm token (`signed_in_at` recorded by compare-and-write, the database's clock); anyone
else is told so and nothing is ever linked from that page (its Don't link still works, and
an expired page's tokens are revoked by the prune). When Slack did not complete the sign-in
(the person said no, Slack refused the code, failed or was too slow), the same browser gets
a fresh sign-in for the same page while it lasts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from bot.slack.sign_in import SignedIn, SlackSignInClient
from storage.db import Store
from storage.oauth_states import (
    MAX_SECRET_CHARS,
    PendingLink,
    SignInWait,
    StateProblem,
    again_sign_in,
    begin_sign_in,
    mark_signed_in,
    take_sign_in,
)

log = logging.getLogger(__name__)

SIGNIN_PATH = "/slack/signin"
COOKIE_PREFIX = "tc_signin_"  # and the state's first characters: one cookie per page
COOKIE_NAME_CHARS = 12
STATE_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # what `_derive` makes


def _derive(label: str, secret: str) -> str:
    digest = hashlib.sha256(f"{label}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def cookie_name(signin_state: str) -> str:
    """The cookie holding the secret of the sign-in `signin_state`."""
    return COOKIE_PREFIX + signin_state[:COOKIE_NAME_CHARS]


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


@dataclass(frozen=True)
class SignInStart:
    """A sign-in waiting for this browser: Slack's URL for the button, and the cookie to set."""

    url: str
    cookie_name: str
    cookie_value: str = ""
    max_age: int = 0
    secure: bool = False
    minutes_left: int = 0


@dataclass(frozen=True)
class SignInResult:
    """How Slack's redirect ended. `code`: "confirm" (the link's person: `form_state` and
    `confirm_token` for the confirm form), "someone_else" (`signed_in` says who), or a problem:
    "other_browser", "state_unknown", "state_used", "state_expired", "access_denied",
    "slack_refused" / "slack_failed" / "slack_timeout" (`detail`: Slack's word), each maybe
    with `again`, a fresh sign-in for the same page."""

    code: str
    wait: SignInWait | None = None
    form_state: str = ""
    confirm_token: str = ""
    minutes_left: int = 0
    signed_in: SignedIn | None = None
    again: SignInStart | None = None
    detail: str = ""


class SlackSignIn:
    """Sign in with Slack for the link confirm page; `enabled` with many workspaces."""

    def __init__(self, store: Store, client: SlackSignInClient | None, redirect_uri: str):
        self.store = store
        self.client = client
        self.redirect_uri = redirect_uri  # the public /slack/signin, "" when unknown

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def _start(self, team_id: str, secret: str, seconds_left: float) -> SignInStart:
        assert self.client is not None
        state = _derive("state", secret)
        url = self.client.authorize_url(
            redirect_uri=self.redirect_uri,
            state=state,
            nonce=_derive("nonce", secret),
            team=team_id,
        )
        return SignInStart(
            url=url,
            cookie_name=cookie_name(state),
            cookie_value=secret,
            max_age=max(1, math.ceil(seconds_left)),
            secure=self.redirect_uri.startswith("https://"),
            minutes_left=_minutes(seconds_left),
        )

    async def begin(self, state: str, pending: PendingLink) -> SignInStart | None:
        """Bind a sign-in to the confirm page of TikTok's `state` (just parked) and to the
        browser that gets the cookie; None if the page no longer waits or can't be signed in."""
        if self.client is None or not self.redirect_uri:
            return None
        secret = secrets.token_urlsafe(32)
        left = await self.store.run(begin_sign_in, state, _derive("state", secret))
        if left is None:
            return None
        return self._start(pending.team_id, secret, left)

    def _secret(self, signin_state: str, cookies: Mapping[str, str]) -> str:
        """The cookie's secret if it is the one behind `signin_state`, else ""."""
        if not STATE_SHAPE.fullmatch(signin_state):
            return ""
        secret = cookies.get(cookie_name(signin_state), "")
        if not secret or len(secret) > MAX_SECRET_CHARS:
            return ""
        if not hmac.compare_digest(_derive("state", secret), signin_state):
            return ""
        return secret

    async def finish(
        self, signin_state: str, code: str, error: str, cookies: Mapping[str, str]
    ) -> SignInResult:
        """Slack's redirect after the sign-in: the confirm form for the link's own person only."""
        if self.client is None:
            return SignInResult("state_unknown")
        secret = self._secret(signin_state, cookies)
        if not secret:
            return SignInResult("other_browser")
        try:
            wait = await self.store.run(take_sign_in, signin_state)
        except StateProblem as problem:
            return SignInResult(f"state_{problem.why}")
        if error or not code:
            word = (error or "no_code")[:60]
            log.info("signin.not_completed", extra={"error": word})
            failed = "access_denied" if word == "access_denied" else "slack_refused"
            return await self._again(wait, signin_state, failed, word)
        who = await self.client.who_signed_in(code, self.redirect_uri, _derive("nonce", secret))
        if not who.ok:
            failed = "slack_timeout" if who.error == "timeout" else "slack_failed"
            return await self._again(wait, signin_state, failed, who.error)
        if (who.team_id, who.user_id) != (wait.pending.team_id, wait.pending.user_id):
            log.info(
                "signin.someone_else", extra={"same_team": who.team_id == wait.pending.team_id}
            )
            return SignInResult("someone_else", wait, signed_in=who)
        marked = await self.store.run(mark_signed_in, wait.state_hash, signin_state)
        if marked is None:  # expired or declined meanwhile
            return SignInResult("state_expired", wait)
        token, left = marked
        return SignInResult(
            "confirm",
            wait,
            form_state=signin_state,
            confirm_token=token,
            minutes_left=_minutes(left),
            signed_in=who,
        )

    async def _again(
        self, wait: SignInWait, used_state: str, code: str, detail: str
    ) -> SignInResult:
        """Slack did not complete the sign-in: a fresh one for the same page and browser."""
        secret = secrets.token_urlsafe(32)
        left = await self.store.run(
            again_sign_in, wait.state_hash, used_state, _derive("state", secret)
        )
        again = None if left is None else self._start(wait.pending.team_id, secret, left)
        return SignInResult(code, wait, again=again, detail=detail)
