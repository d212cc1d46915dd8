"""The fake Slack's OAuth: "Add to Slack" (OAuth v2) and "Sign in with Slack" (OpenID Connect).

Add to Slack: the browser visits `GET /oauth/v2/authorize?client_id&scope&user_scope&state
&redirect_uri&team`; the fake plays the person pressing "Allow" for the workspace
`next_install()` named (else the one `team` names, else the default workspace) and redirects
to `redirect_uri` (or the app's configured `oauth_redirect_url`) with `?code=…&state=…`, or
with `?error=access_denied&state=…` after `deny_next_install()`. `oauth.v2.access` trades the
code (once) for the workspace's bot token in Slack's shape; with token rotation on for the
workspace it hands out an expiring token and a refresh token, and `grant_type=refresh_token`
trades a refresh token (once) for a new pair.

Sign in with Slack: `GET /openid/connect/authorize?response_type=code&scope=openid…&client_id
&state&nonce&redirect_uri&team` signs in as whoever `sign_in_as()` named (the person signed in
to Slack in this browser; nobody → `error=access_denied`); `openid.connect.token` trades the
code (once, with the same redirect_uri) for a user token and an id_token, and
`openid.connect.userInfo` says who the token's person is.

Client credentials come as HTTP Basic (what slack_sdk sends) or as form fields.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from .slack_tokens import FakeToken

if TYPE_CHECKING:
    from .slack import FakeSlack


# A URL Slack would redirect a browser to: absolute http(s), printable ASCII, no spaces.
REDIRECT_URL = re.compile(r"https?://[!-~]+")


@dataclass
class InstallGrant:
    """What the person on Slack's "Allow" page does next: install into workspace `team_id`
    (or org-wide into `enterprise_id`, with `org`), as `installer`, or refuse (`deny`)."""

    team_id: str | None = None
    enterprise_id: str | None = None
    org: bool = False
    installer: str = "U1"
    deny: bool = False


@dataclass
class _InstallCode:
    grant: InstallGrant
    team_id: str | None
    scopes: list[str]
    user_scopes: list[str]
    redirect_uri: str | None  # as the authorize request gave it (None: it gave none)
    used: bool = False


@dataclass
class _SignInCode:
    team_id: str
    user_id: str
    scopes: list[str]
    nonce: str | None
    redirect_uri: str | None
    used: bool = False


@dataclass
class SignedIn:
    """Who is signed in to Slack in the test's browser."""

    team_id: str
    user_id: str


def split_scopes(value: Any) -> list[str]:
    """`a,b c` → ["a", "b", "c"] (Slack takes commas or spaces)."""
    return [s for s in re.split(r"[,\s]+", str(value or "")) if s]


def with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to its query string (keeping what it had)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def client_of(params: dict[str, Any], basic: tuple[str, str] | None) -> tuple[str, str]:
    """The client id and secret a token request carries (HTTP Basic first, else the form)."""
    if basic is not None:
        return basic
    return str(params.get("client_id") or ""), str(params.get("client_secret") or "")


def basic_auth(header: str) -> tuple[str, str] | None:
    """`Authorization: Basic base64(id:secret)` → (id, secret), else None."""
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _page(status: int, text: str) -> web.Response:
    return web.Response(
        status=status, text=f"<html><body><p>{text}</p></body></html>", content_type="text/html"
    )


def _redirect(url: str) -> web.Response:
    return web.Response(status=302, headers={"Location": url})


class SlackOAuth:
    """Install and sign-in state of one FakeSlack: the codes it issued, what the next
    install does, who is signed in."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.install_requests: list[dict[str, str]] = []
        self.sign_in_requests: list[dict[str, str]] = []
        self.signed_in: SignedIn | None = None
        self._next: InstallGrant | None = None
        self._codes: dict[str, _InstallCode] = {}
        self._sign_in_codes: dict[str, _SignInCode] = {}

    # -- scripting ---------------------------------------------------------------------

    def next_install(self, grant: InstallGrant) -> None:
        self._next = grant

    def _take_grant(self) -> InstallGrant:
        grant, self._next = self._next, None
        return grant or InstallGrant()

    # -- the browser's visits ----------------------------------------------------------

    async def authorize(self, request: web.Request) -> web.Response:
        """GET /oauth/v2/authorize: the "Add to Slack" consent, answered at once."""
        query = dict(request.query)
        self.install_requests.append(query)
        if query.get("client_id") != self.slack.client_id:
            return _page(400, "Invalid client_id parameter")
        redirect = query.get("redirect_uri") or self.slack.oauth_redirect_url
        if not redirect or not REDIRECT_URL.fullmatch(redirect):
            return _page(400, "redirect_uri did not match any configured URIs")
        state = query.get("state", "")
        scopes, user_scopes = (
            split_scopes(query.get("scope")),
            split_scopes(query.get("user_scope")),
        )
        if not scopes and not user_scopes:
            return _page(400, "Invalid permissions requested")
        grant = self._take_grant()
        if grant.deny:
            return _redirect(with_query(redirect, {"error": "access_denied", "state": state}))
        asked = query.get("team", "")
        known = asked if asked in self.slack.workspaces else ""
        team_id = None if grant.org else (grant.team_id or known or self.slack.team_id)
        if team_id is not None:
            self.slack.workspace(team_id, create=True)
        code = f"{int(time.time())}.{secrets.token_hex(12)}"
        self._codes[code] = _InstallCode(
            grant, team_id, scopes, user_scopes, query.get("redirect_uri") or None
        )
        return _redirect(with_query(redirect, {"code": code, "state": state}))

    async def oidc_authorize(self, request: web.Request) -> web.Response:
        """GET /openid/connect/authorize: Sign in with Slack, as `signed_in`."""
        query = dict(request.query)
        self.sign_in_requests.append(query)
        if query.get("client_id") != self.slack.client_id:
            return _page(400, "Invalid client_id parameter")
        redirect = query.get("redirect_uri") or self.slack.oauth_redirect_url
        if not redirect or not REDIRECT_URL.fullmatch(redirect):
            return _page(400, "redirect_uri did not match any configured URIs")
        state = query.get("state", "")

        def refuse(error: str) -> web.Response:
            return _redirect(with_query(redirect, {"error": error, "state": state}))

        if query.get("response_type") != "code":
            return refuse("unsupported_response_type")
        scopes = split_scopes(query.get("scope"))
        if "openid" not in scopes:
            return refuse("invalid_scope")
        who = self.signed_in
        team = query.get("team")
        if who is None or (team and team != who.team_id):
            return refuse("access_denied")
        code = f"{int(time.time())}.{secrets.token_hex(12)}"
        self._sign_in_codes[code] = _SignInCode(
            who.team_id,
            who.user_id,
            scopes,
            query.get("nonce"),
            query.get("redirect_uri") or None,
        )
        return _redirect(with_query(redirect, {"code": code, "state": state}))

    # -- Web API methods ---------------------------------------------------------------

    def _client_error(self, params: dict[str, Any], basic: tuple[str, str] | None) -> str:
        client_id, secret = client_of(params, basic)
        if client_id != self.slack.client_id:
            return "invalid_client_id"
        if secret != self.slack.client_secret:
            return "bad_client_secret"
        return ""

    def access(self, params: dict[str, Any], basic: tuple[str, str] | None) -> dict[str, Any]:
        """oauth.v2.access: a code (from authorize) or a refresh token → tokens."""
        error = self._client_error(params, basic)
        if error:
            return {"ok": False, "error": error}
        grant_type = str(params.get("grant_type") or "authorization_code")
        if grant_type == "refresh_token":
            return self._refresh(params)
        if grant_type != "authorization_code":
            return {"ok": False, "error": "invalid_grant_type"}
        record = self._codes.get(str(params.get("code") or ""))
        if record is None or record.used:
            return {"ok": False, "error": "invalid_code"}
        if record.redirect_uri is not None and params.get("redirect_uri") != record.redirect_uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        record.used = True
        if record.grant.org:
            return self._org_install(record)
        return self._team_install(record)

    def _team_install(self, record: _InstallCode) -> dict[str, Any]:
        ws = self.slack.workspace(str(record.team_id), create=True)
        answer = self.slack.install_tokens(ws, record.scopes or ws.bot_scopes)
        return {
            "ok": True,
            **answer,
            "app_id": self.slack.app_id,
            "team": {"id": ws.team_id, "name": ws.name},
            "enterprise": ws.enterprise,
            "is_enterprise_install": False,
            "authed_user": self._authed_user(ws.team_id, record),
        }

    def _org_install(self, record: _InstallCode) -> dict[str, Any]:
        org = str(record.grant.enterprise_id or "E0001")
        name = self.slack.enterprises.setdefault(org, f"Org {org}")
        token = self.slack.tokens.issue_bot(None, f"UBOT{org}", record.scopes, enterprise_id=org)
        return {
            "ok": True,
            "access_token": token.token,
            "token_type": "bot",
            "scope": ",".join(record.scopes),
            "bot_user_id": token.user_id,
            "app_id": self.slack.app_id,
            "team": None,
            "enterprise": {"id": org, "name": name},
            "is_enterprise_install": True,
            "authed_user": self._authed_user(None, record),
        }

    def _authed_user(self, team_id: str | None, record: _InstallCode) -> dict[str, Any]:
        user: dict[str, Any] = {"id": record.grant.installer}
        if record.user_scopes:
            token = self.slack.tokens.issue_user(
                team_id, record.grant.installer, record.user_scopes
            )
            user.update(
                scope=",".join(record.user_scopes), access_token=token.token, token_type="user"
            )
        return user

    def _refresh(self, params: dict[str, Any]) -> dict[str, Any]:
        spent = self.slack.tokens.spend_refresh(str(params.get("refresh_token") or ""))
        if spent is None or spent.team_id is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        ws = self.slack.workspace(spent.team_id)
        answer = self.slack.rotate_tokens(ws)
        return {
            "ok": True,
            "app_id": self.slack.app_id,
            **answer,
            "team": {"id": ws.team_id, "name": ws.name},
            "enterprise": ws.enterprise,
            "is_enterprise_install": False,
        }

    def oidc_token(self, params: dict[str, Any], basic: tuple[str, str] | None) -> dict[str, Any]:
        """openid.connect.token: a Sign in with Slack code → a user token and an id_token."""
        error = self._client_error(params, basic)
        if error:
            return {"ok": False, "error": error}
        grant_type = str(params.get("grant_type") or "authorization_code")
        if grant_type != "authorization_code":
            return {"ok": False, "error": "invalid_grant_type"}
        record = self._sign_in_codes.get(str(params.get("code") or ""))
        if record is None or record.used:
            return {"ok": False, "error": "invalid_code"}
        if record.redirect_uri is not None and params.get("redirect_uri") != record.redirect_uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        record.used = True
        token = self.slack.tokens.issue_user(
            record.team_id, record.user_id, record.scopes, kind="oidc"
        )
        claims = {
            "iss": "https://slack.com",
            "aud": self.slack.client_id,
            "exp": int(time.time()) + 3600,
            "iat": int(time.time()),
            "auth_time": int(time.time()),
            **({"nonce": record.nonce} if record.nonce else {}),
            **self.claims(token),
        }
        header = {"typ": "JWT", "alg": "RS256", "kid": "fake-slack"}
        id_token = f"{_b64(header)}.{_b64(claims)}.{_b64(secrets.token_bytes(32))}"
        return {
            "ok": True,
            "access_token": token.token,
            "token_type": "Bearer",
            "id_token": id_token,
        }

    def user_info(self, token: FakeToken) -> dict[str, Any]:
        """openid.connect.userInfo for a Sign in with Slack token."""
        if token.kind != "oidc":
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, **self.claims(token)}

    def claims(self, token: FakeToken) -> dict[str, Any]:
        """What Slack says of the signed-in person: always who and which workspace; name and
        picture with the `profile` scope; the email with `email`."""
        ws = self.slack.workspace(str(token.team_id))
        user = ws.user(token.user_id)
        claims: dict[str, Any] = {
            "sub": user.id,
            "https://slack.com/user_id": user.id,
            "https://slack.com/team_id": ws.team_id,
        }
        if "email" in token.scopes:
            claims.update(
                email=user.shown_email, email_verified=True, date_email_verified=1700000000
            )
        if "profile" in token.scopes:
            claims.update(
                {
                    "name": user.shown_real_name,
                    "picture": f"https://avatars.example.com/{user.id}_512.png",
                    "given_name": user.shown_real_name.split(" ")[0],
                    "family_name": " ".join(user.shown_real_name.split(" ")[1:]),
                    "locale": "en-US",
                    "https://slack.com/team_name": ws.name,
                    "https://slack.com/team_domain": ws.domain,
                }
            )
            if ws.enterprise_id is not None:
                claims["https://slack.com/enterprise_id"] = ws.enterprise_id
        return claims
