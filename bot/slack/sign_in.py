"""Sign in with Slack (OpenID Connect) as Slack speaks it: where to send the browser, and who
signed in once Slack sent it back with a code.

`authorize_url` is Slack's `/openid/connect/authorize` beside its Web API (`https://slack.com/
api/` → `https://slack.com/openid/connect/authorize`, the same for a stand-in or a proxy), asking
only for `openid`: who the person is, nothing of their profile. `who_signed_in` trades the code
(`openid.connect.token`, with the app's client id and secret and the same redirect_uri), checks
the id_token carries the nonce the authorize URL did, asks `openid.connect.userInfo` with the
token it gave, and gives that token back at once (`auth.revoke`): the bot keeps no Slack user
token. All within one deadline; a code is never tried twice.

Knows no link and no database. Nothing here logs the code, a token or the id_token: a failure
is one short error code.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.metered import MeteredWebClient
from bot.slack.output import slack_error

log = logging.getLogger(__name__)

AUTHORIZE_PATH = "/openid/connect/authorize"
SCOPE = "openid"  # who the person is (user and team ids); their name comes from users.info
USER_ID = "https://slack.com/user_id"
TEAM_ID = "https://slack.com/team_id"
REVOKE_DEADLINE_S = 2.0


def authorize_url(
    slack_api_url: str, *, client_id: str, redirect_uri: str, state: str, nonce: str, team: str
) -> str:
    """The Sign in with Slack URL for the browser, into workspace `team`."""
    parts = urlsplit(slack_api_url)
    path = parts.path.rstrip("/")
    base = path[: -len("/api")] if path.endswith("/api") else path
    query = urlencode(
        {
            "response_type": "code",
            "scope": SCOPE,
            "client_id": client_id,
            "state": state,
            "nonce": nonce,
            "team": team,
            "redirect_uri": redirect_uri,
        }
    )
    return urlunsplit((parts.scheme, parts.netloc, base + AUTHORIZE_PATH, query, ""))


@dataclass(frozen=True)
class SignedIn:
    """Who Slack says signed in, or why it didn't say: `error` is "timeout", Slack's error
    code, `http_<status>`, "connection_failed", "bad_answer" or "nonce" ("" when ok)."""

    error: str = ""
    team_id: str = ""
    user_id: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def id_token_claims(id_token: object) -> dict[str, Any]:
    """The claims of a JWT, read without checking its signature: it came straight from
    Slack's token endpoint over TLS, with our client secret (OpenID Connect Core 3.1.3.7)."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return {}
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


class SlackSignInClient:
    """Slack's OpenID Connect endpoints, on the bot's shared session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        slack_api_url: str,
        client_id: str,
        client_secret: str,
        deadline_s: float,
    ):
        self.session = session
        self.slack_api_url = slack_api_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.deadline_s = deadline_s

    def authorize_url(self, *, redirect_uri: str, state: str, nonce: str, team: str) -> str:
        return authorize_url(
            self.slack_api_url,
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            state=state,
            nonce=nonce,
            team=team,
        )

    def _client(self, token: str | None = None) -> AsyncWebClient:
        # No retry handlers: a code works once, so a second try could only be refused.
        return MeteredWebClient(token=token, base_url=self.slack_api_url, session=self.session)

    async def who_signed_in(self, code: str, redirect_uri: str, nonce: str) -> SignedIn:
        """Trade `code` and ask who it signed in, within the deadline; then give the token
        back (whatever happened after Slack gave it)."""
        given: list[str] = []  # the user token, once Slack gave one
        try:
            async with asyncio.timeout(self.deadline_s):
                found = await self._who(code, redirect_uri, nonce, given)
        except TimeoutError:
            found = SignedIn("timeout")
        except SlackApiError as exc:
            found = SignedIn(slack_error(exc)[:60])
        except (aiohttp.ClientError, OSError) as exc:
            log.info("slack.sign_in_connection", extra={"error": type(exc).__name__})
            found = SignedIn("connection_failed")
        except Exception as exc:  # an answer slack_sdk could not read
            log.info("slack.sign_in_unreadable", extra={"error": type(exc).__name__})
            found = SignedIn("bad_answer")
        if given:
            await self._give_back(given[0])
        if not found.ok:
            log.warning("slack.sign_in_failed", extra={"error": found.error})
        return found

    async def _who(self, code: str, redirect_uri: str, nonce: str, given: list[str]) -> SignedIn:
        answer = await self._client().openid_connect_token(
            client_id=self.client_id,
            client_secret=self.client_secret,
            code=code,
            redirect_uri=redirect_uri,
        )
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            return SignedIn("bad_answer")
        given.append(token)
        said = id_token_claims(answer.get("id_token")).get("nonce")
        if not isinstance(said, str) or not hmac.compare_digest(said.encode(), nonce.encode()):
            return SignedIn("nonce")
        info = await self._client(token).openid_connect_userInfo()
        user_id, team_id = info.get(USER_ID), info.get(TEAM_ID)
        if not isinstance(user_id, str) or not isinstance(team_id, str) or not user_id:
            return SignedIn("bad_answer")
        return SignedIn(team_id=team_id, user_id=user_id)

    async def _give_back(self, token: str) -> None:
        """Revoke the user token Slack just gave (best effort: it is never stored)."""
        try:
            async with asyncio.timeout(REVOKE_DEADLINE_S):
                await self._client(token).auth_revoke()
        except Exception as exc:
            log.info("slack.sign_in_revoke_failed", extra={"error": type(exc).__name__})
