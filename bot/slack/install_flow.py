"""Add to Slack (many workspaces): Bolt's `AsyncOAuthFlow`, with our stores, pages and rules.

Bolt runs the flow: `GET /slack/install` issues a state (in the database and in a `Secure`,
`HttpOnly` cookie of the installer's browser) and shows the install page; Slack's consent
sends the browser to `GET /slack/oauth_redirect`, where the cookie and the state (used once)
are checked, the code is traded with `oauth.v2.access`, and the installation stored. This
subclass changes only what it must:

- the authorize URL is built with every value URL-encoded, and a `team` hint is passed on only
  when it looks like a team id (Bolt pastes both into the URL as they come);
- the install page is ours (`install_page`, rendered by the web handlers);
- an org-wide (Enterprise Grid) installation is refused: never stored, its token revoked at
  once with `auth.revoke`, and `OrgInstallRefused` raised for the failure page to explain;
- Bolt's warning when a code is refused quotes the code: it is logged without it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation as SlackInstallation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.installation_store import OrgInstallRefused
from bot.slack.output import slack_error

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
AUTHORIZE_PATH = "/oauth/v2/authorize"
TEAM_HINT = re.compile(r"T[A-Z0-9]{2,30}")
SLACK_ERROR = re.compile(r"'error': '([a-z_]{1,60})'")


def authorization_url(slack_api_url: str) -> str:
    """Slack's consent page beside its Web API: `https://slack.com/api/` →
    `https://slack.com/oauth/v2/authorize` (the same for a stand-in or a proxy)."""
    parts = urlsplit(slack_api_url)
    path = parts.path.rstrip("/")
    base = path[: -len("/api")] if path.endswith("/api") else path
    return urlunsplit((parts.scheme, parts.netloc, base + AUTHORIZE_PATH, "", ""))


class _WithoutCodes(logging.Filter):
    """Bolt's "Failed to fetch oauth.v2.access result with code: …" without the code."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "with code:" in message:
            error = SLACK_ERROR.search(message)
            record.msg = "oauth.v2.access refused the code (%s)"
            record.args = (error.group(1) if error else "no answer",)
        return True


def flow_logger() -> logging.Logger:
    logger = logging.getLogger("bolt.oauth")
    if not any(isinstance(f, _WithoutCodes) for f in logger.filters):
        logger.addFilter(_WithoutCodes())
    return logger


class InstallFlow(AsyncOAuthFlow):
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        settings: AsyncOAuthSettings,
        install_page: Callable[[str], str],
    ):
        super().__init__(client=client, logger=flow_logger(), settings=settings)
        self.install_page = install_page

    async def build_authorize_url(self, state: str, request: AsyncBoltRequest) -> str:
        settings = self.settings
        params = {"state": state, "client_id": settings.client_id}
        params["scope"] = ",".join(settings.scopes or ())
        if settings.user_scopes:
            params["user_scope"] = ",".join(settings.user_scopes)
        if settings.redirect_uri:
            params["redirect_uri"] = settings.redirect_uri
        team = (request.query.get("team") or [""])[0]
        if TEAM_HINT.fullmatch(team):
            params["team"] = team
        return f"{settings.authorization_url}?{urlencode(params)}"

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        return self.install_page(url)

    async def store_installation(
        self, request: AsyncBoltRequest, installation: SlackInstallation
    ) -> None:
        if installation.is_enterprise_install or not installation.team_id:
            await self._revoke(installation.bot_token)
            await self._revoke(installation.user_token)
            log.info("slack.org_install_refused")
            raise OrgInstallRefused("org-wide installations are not supported")
        await super().store_installation(request, installation)

    async def _revoke(self, token: str | None) -> None:
        """Give back a token we won't keep; a failure is logged (never the token)."""
        if not token:
            return
        try:
            await self.client.auth_revoke(token=token)
        except SlackApiError as exc:
            log.warning("slack.revoke_failed", extra={"error": slack_error(exc)})
        except Exception as exc:
            log.warning("slack.revoke_failed", extra={"error": type(exc).__name__})


def install_flow(
    *,
    client: AsyncWebClient,
    client_id: str,
    client_secret: str,
    scopes: Sequence[str],
    slack_api_url: str,
    redirect_uri: str | None,
    installation_store: AsyncInstallationStore,
    state_store: AsyncOAuthStateStore,
    callback_options: AsyncCallbackOptions,
    install_page: Callable[[str], str],
) -> InstallFlow:
    """The flow for `GET /slack/install` and `GET /slack/oauth_redirect`, bot scopes only.
    `redirect_uri` None: Slack uses the app's configured Redirect URL."""
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(scopes),
        user_scopes=[],
        redirect_uri=redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=callback_options,
        authorization_url=authorization_url(slack_api_url),
        installation_store=installation_store,
        installation_store_bot_only=True,
        state_store=state_store,
        logger=flow_logger(),
    )
    settings.redirect_uri = redirect_uri  # never SLACK_REDIRECT_URI from the environment
    flow = InstallFlow(client=client, settings=settings, install_page=install_page)
    flow.redirect_uri = redirect_uri
    return flow
