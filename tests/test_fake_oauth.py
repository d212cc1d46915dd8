"""The Slack stand-in's OAuth over real HTTP: "Add to Slack" (OAuth v2, with Bolt's own OAuth
flow as the app: its install page, its Secure state cookie, its redirect), codes spent once,
token rotation (a refresh token spent once, the old access token good until it expires),
org-wide installs, revoking and uninstalling, and Sign in with Slack (OpenID Connect), each
in Slack's wire format as slack_sdk reads it. Whatever a browser or a client sends the
stand-in's OAuth endpoints, it answers without a 5xx."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.fakes import FakeSlack, FakeTikTok
from sandbox.fakes.browser import Browser, links_to
from sandbox.fakes.driver import Driver
from sandbox.fakes.server import LoopbackServer
from tests.fuzz.counting import count_case

CLIENT_ID = "1000000001.2000000002"  # the stand-in's defaults
CLIENT_SECRET = "fake-client-secret"
SCOPES = ["chat:write", "commands", "users:read"]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class BoltApp:
    """Bolt's own OAuth flow (install page, state cookie, redirect, installation store) on a
    loopback port, talking to the stand-in: what the bot will build on."""

    def __init__(self, slack: FakeSlack, tmp: Path, user_scopes: list[str] | None = None):
        self.installations = FileInstallationStore(base_dir=str(tmp / "installations"))
        flow = AsyncOAuthFlow(
            client=AsyncWebClient(base_url=slack.api_url),
            settings=AsyncOAuthSettings(
                client_id=slack.client_id,
                client_secret=slack.client_secret,
                scopes=SCOPES,
                user_scopes=user_scopes or [],
                authorization_url=slack.authorize_url,
                installation_store=self.installations,
                state_store=FileOAuthStateStore(expiration_seconds=600, base_dir=str(tmp / "s")),
            ),
        )
        self.app = AsyncApp(  # its authorize (and token rotation) calls the stand-in too
            signing_secret=slack.signing_secret,
            oauth_flow=flow,
            installation_store=self.installations,
            client=AsyncWebClient(base_url=slack.api_url),
        )
        self.app.event("app_home_opened")(self._home)
        self.server = LoopbackServer(self.app.server(path="/slack/events").web_app)

    @staticmethod
    async def _home(ack=None) -> None:
        return None

    async def bot(self, team_id: str):
        return await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)


@pytest.fixture
async def bolt(slack: FakeSlack, tmp_path: Path) -> AsyncIterator[BoltApp]:
    app = BoltApp(slack, tmp_path)
    await app.server.start()
    yield app
    await app.server.stop()


def driver_for(http: aiohttp.ClientSession, slack: FakeSlack, url: str) -> Driver:
    return Driver(http, slack, FakeTikTok(), url)


def api(slack: FakeSlack, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.api_url)


async def error_of(call) -> str:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value.response["error"]


# -- Add to Slack, with Bolt as the app --------------------------------------------------------


async def test_add_to_slack_installs_the_workspace_named_through_bolts_own_flow(
    slack: FakeSlack, bolt: BoltApp, http: aiohttp.ClientSession
):
    ws = slack.add_workspace("T0002", "Brand Two", bot_user_id="UBOT2", bot_id="BBOT2")
    driver = driver_for(http, slack, bolt.server.url)
    status, page = await driver.install(team_id="T0002", installer="U9")
    assert status == 200 and "Thank you" in page  # Bolt's success page: the cookie came back
    assert "slack-app-oauth-state" not in driver.browser.cookies  # Bolt deleted it after
    installed = await bolt.bot("T0002")
    assert installed is not None
    assert (installed.team_id, installed.team_name) == ("T0002", "Brand Two")
    assert (installed.bot_user_id, installed.bot_id) == ("UBOT2", "BBOT2")
    assert installed.bot_token == ws.bot_token and installed.bot_token.startswith("xoxb-")
    assert installed.bot_scopes == SCOPES
    visit = slack.install_requests[-1]
    assert visit["client_id"] == CLIENT_ID and visit["scope"] == "chat:write,commands,users:read"
    access = slack.calls_to("oauth.v2.access")[-1]
    assert access.client == (CLIENT_ID, CLIENT_SECRET)  # HTTP Basic, as slack_sdk sends it
    assert slack.calls_for("T0002", "auth.test")  # Bolt asked who the new token is
    assert await bolt.bot("T0001") is None  # the default workspace did not install


async def test_the_state_cookie_is_needed_and_a_refusal_comes_back_as_access_denied(
    slack: FakeSlack, bolt: BoltApp, http: aiohttp.ClientSession
):
    driver = driver_for(http, slack, bolt.server.url)
    status, page = await driver.install(deny=True)
    assert status == 200 and "reason: access_denied" in page  # Bolt's failure page
    assert await bolt.bot("T0001") is None

    # the consent page's redirect, followed by a browser that lost Bolt's cookie
    browser = Browser(http)
    start = await browser.get(bolt.server.url + "/slack/install")
    assert "slack-app-oauth-state" in browser.cookies
    browser.cookies.clear()
    (link,) = links_to(start.text, slack.authorize_url)
    page = await browser.follow(link)
    assert page.status == 400 and await bolt.bot("T0001") is None
    assert [c for c in slack.calls_to("oauth.v2.access")] == []  # never traded


async def test_a_code_is_good_once_for_its_client_and_redirect_uri(
    slack: FakeSlack, http: aiohttp.ClientSession
):
    slack.add_workspace("T0002", "Brand Two")
    redirect = "https://bot.example.com/slack/oauth_redirect"
    query = {"client_id": CLIENT_ID, "scope": "chat:write", "state": "st-1", "team": "T0002"}

    async def code_for(**extra: str) -> str:
        url = slack.authorize_url + "?" + urlencode({**query, **extra})
        async with http.get(url, allow_redirects=False) as resp:
            assert resp.status == 302
            back = urlparse(resp.headers["Location"])
        assert back._replace(query="").geturl() == redirect
        answered = parse_qs(back.query)
        assert answered["state"] == ["st-1"]
        return answered["code"][0]

    client = api(slack)
    code = await code_for(redirect_uri=redirect)
    wrong_secret = client.oauth_v2_access(client_id=CLIENT_ID, client_secret="x", code=code)
    assert await error_of(wrong_secret) == "bad_client_secret"
    other = client.oauth_v2_access(client_id="9.9", client_secret=CLIENT_SECRET, code=code)
    assert await error_of(other) == "invalid_client_id"
    elsewhere = client.oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code, redirect_uri="https://x/"
    )
    assert await error_of(elsewhere) == "bad_redirect_uri"
    first = await client.oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code, redirect_uri=redirect
    )
    token = first["access_token"]
    assert first.data == {
        "ok": True,
        "access_token": token,
        "token_type": "bot",
        "scope": "chat:write",
        "bot_user_id": "UBOTT0002",
        "app_id": "A1",
        "team": {"id": "T0002", "name": "Brand Two"},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {"id": "U1"},
    }
    again = client.oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code, redirect_uri=redirect
    )
    assert await error_of(again) == "invalid_code"

    # no redirect_uri at authorize: the app's configured one, and none needed to trade it
    slack.oauth_redirect_url = redirect
    code = await code_for()
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code}
    async with http.post(slack.api_url + "oauth.v2.access", data=form) as resp:
        assert (await resp.json())["access_token"] == token  # the same live bot token


async def test_an_install_with_user_scopes_gives_the_installer_a_user_token(
    slack: FakeSlack, http: aiohttp.ClientSession
):
    slack.oauth_redirect_url = "https://bot.example.com/r"
    slack.next_install("T0002", installer="U7")
    url = (
        slack.authorize_url
        + "?"
        + urlencode(
            {"client_id": CLIENT_ID, "scope": "commands", "user_scope": "openid,users:read"}
        )
    )
    async with http.get(url, allow_redirects=False) as resp:
        code = parse_qs(urlparse(resp.headers["Location"]).query)["code"][0]
    answer = await api(slack).oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code
    )
    user = answer["authed_user"]
    assert (user["id"], user["scope"], user["token_type"]) == ("U7", "openid,users:read", "user")
    assert user["access_token"].startswith("xoxp-")
    who = await api(slack, user["access_token"]).auth_test()
    assert (who["team_id"], who["user_id"]) == ("T0002", "U7") and "bot_id" not in who


# -- token rotation --------------------------------------------------------------------------


async def test_a_refresh_token_is_spent_once_and_the_old_access_token_works_until_it_expires(
    slack: FakeSlack,
):
    ws = slack.add_workspace("T0003", "Rotating", rotation=True, expires_in=43200)
    first_access, first_refresh = ws.bot_token, ws.refresh_token
    assert first_access.startswith("xoxe.xoxb-1-") and first_refresh.startswith("xoxe-1-")
    client = api(slack)

    def refresh(token: str):
        return client.oauth_v2_access(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            grant_type="refresh_token",
            refresh_token=token,
        )

    renewed = await refresh(first_refresh)
    assert renewed["token_type"] == "bot" and 43100 <= renewed["expires_in"] <= 43200
    assert renewed["team"] == {"id": "T0003", "name": "Rotating"}
    assert renewed["bot_user_id"] == "UBOTT0003" and renewed["is_enterprise_install"] is False
    second_access, second_refresh = renewed["access_token"], renewed["refresh_token"]
    assert {second_access, second_refresh}.isdisjoint({first_access, first_refresh})
    assert (ws.bot_token, ws.refresh_token) == (second_access, second_refresh)
    assert await error_of(refresh(first_refresh)) == "invalid_refresh_token"  # spent

    old = api(slack, first_access)
    assert (await old.auth_test())["team_id"] == "T0003"  # still good until it expires
    slack.expire_token(first_access)
    assert await error_of(old.auth_test()) == "token_expired"
    assert (await api(slack, second_access).auth_test())["expires_in"] > 43000
    assert slack.calls[-1].team_id == "T0003"
    expired = slack.calls_to("auth.test")[-2]
    assert (expired.team_id, expired.token_team) == (None, "T0003")


async def test_bolt_refreshes_a_rotating_token_that_is_about_to_expire(
    slack: FakeSlack, bolt: BoltApp, http: aiohttp.ClientSession
):
    slack.add_workspace("T0003", "Rotating", rotation=True, expires_in=600)
    driver = driver_for(http, slack, bolt.server.url)
    assert (await driver.install(team_id="T0003"))[0] == 200
    installed = await bolt.bot("T0003")
    assert installed.bot_refresh_token.startswith("xoxe-1-")
    # Bolt rotates tokens that expire within two hours, before it handles the event
    assert await driver.open_home("U1", team_id="T0003") == 200
    refreshes = [
        c
        for c in slack.calls_to("oauth.v2.access")
        if c.params.get("grant_type") == "refresh_token"
    ]
    assert [c.params["refresh_token"] for c in refreshes] == [installed.bot_refresh_token]
    renewed = await bolt.bot("T0003")
    assert renewed.bot_token != installed.bot_token
    assert renewed.bot_token == slack.workspace("T0003").bot_token


# -- org-wide installs, revoking, uninstalling ----------------------------------------------


async def test_an_org_wide_install_names_the_org_and_no_team(
    slack: FakeSlack, http: aiohttp.ClientSession
):
    slack.oauth_redirect_url = "https://bot.example.com/r"
    slack.next_install(enterprise_id="E0001", org=True)
    url = slack.authorize_url + "?" + urlencode({"client_id": CLIENT_ID, "scope": "commands"})
    async with http.get(url, allow_redirects=False) as resp:
        code = parse_qs(urlparse(resp.headers["Location"]).query)["code"][0]
    answer = await api(slack).oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code
    )
    assert answer["is_enterprise_install"] is True and answer["team"] is None
    assert answer["enterprise"] == {"id": "E0001", "name": "Org E0001"}
    org = api(slack, answer["access_token"])
    who = await org.auth_test()
    assert (who["is_enterprise_install"], who["enterprise_id"]) == (True, "E0001")
    assert await error_of(org.chat_postMessage(channel="C1", text="x")) == (
        "team_access_not_granted"
    )


async def test_auth_revoke_and_uninstall_end_a_workspaces_tokens(slack: FakeSlack):
    ws = slack.add_workspace("T0002", "Brand Two")
    b = api(slack, ws.bot_token)
    assert (await b.auth_revoke(test=True))["revoked"] is False
    assert (await b.auth_test())["team_id"] == "T0002"
    assert (await b.auth_revoke())["revoked"] is True
    assert await error_of(b.auth_test()) == "token_revoked"
    assert await error_of(api(slack, "xoxb-never-issued").auth_test()) == "invalid_auth"

    revoked = ws.bot_token
    again = slack.install_tokens(ws, ["chat:write"])  # installed again: a new token
    assert again["access_token"] not in (revoked, "") and ws.bot_token == again["access_token"]
    fresh = api(slack, again["access_token"])
    assert (await fresh.auth_test())["team_id"] == "T0002"
    assert slack.uninstall("T0002") == {"oauth": [], "bot": ["UBOTT0002"]}
    assert await error_of(fresh.chat_postMessage(channel="C1", text="x")) == "token_revoked"
    # the default workspace is untouched
    assert (await api(slack, slack.bot_token).auth_test())["team_id"] == "T0001"


# -- Sign in with Slack ------------------------------------------------------------------------


class SignInApp:
    """An app's Sign in with Slack callback: trades the code, asks who signed in."""

    def __init__(self, slack: FakeSlack):
        self.slack = slack
        self.answers: list[dict] = []
        app = web.Application()
        app.router.add_get("/oidc/callback", self.callback)
        self.server = LoopbackServer(app)

    @property
    def redirect_uri(self) -> str:
        return self.server.url + "/oidc/callback"

    def start_url(self, **extra: str) -> str:
        query = {
            "response_type": "code",
            "scope": "openid profile email",
            "client_id": CLIENT_ID,
            "state": "s-42",
            "nonce": "n-42",
            "redirect_uri": self.redirect_uri,
            **extra,
        }
        return self.slack.oidc_authorize_url + "?" + urlencode(query)

    async def callback(self, request: web.Request) -> web.Response:
        if "error" in request.query:
            return web.Response(status=403, text=f"refused: {request.query['error']}")
        client = AsyncWebClient(base_url=self.slack.api_url)
        token = await client.openid_connect_token(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            code=request.query["code"],
            redirect_uri=self.redirect_uri,
        )
        self.answers.append(token.data)
        me = AsyncWebClient(token=token["access_token"], base_url=self.slack.api_url)
        info = await me.openid_connect_userInfo()
        self.answers.append(info.data)
        who = f"{info['https://slack.com/user_id']} of {info['https://slack.com/team_id']}"
        return web.Response(text=f"signed in as {who}, state {request.query['state']}")


@pytest.fixture
async def sign_in_app(slack: FakeSlack) -> AsyncIterator[SignInApp]:
    app = SignInApp(slack)
    await app.server.start()
    yield app
    await app.server.stop()


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def test_sign_in_with_slack_says_who_signed_in_in_which_workspace(
    slack: FakeSlack, sign_in_app: SignInApp, http: aiohttp.ClientSession
):
    slack.add_workspace("T0002", "Brand Two", domain="brand-two")
    slack.set_user("U7", name="dana", real_name="Dana Scully", team_id="T0002")
    driver = driver_for(http, slack, "http://127.0.0.1:9")
    status, page = await driver.sign_in(sign_in_app.start_url(), team_id="T0002", user_id="U7")
    assert (status, page) == (200, "signed in as U7 of T0002, state s-42")
    token, info = sign_in_app.answers
    assert token["token_type"] == "Bearer" and token["access_token"].startswith("xoxp-")
    claims = jwt_claims(token["id_token"])
    assert (claims["sub"], claims["nonce"], claims["aud"]) == ("U7", "n-42", CLIENT_ID)
    assert claims["https://slack.com/team_id"] == "T0002"
    assert info["sub"] == "U7" and info["https://slack.com/user_id"] == "U7"
    assert (info["name"], info["given_name"], info["family_name"]) == (
        "Dana Scully",
        "Dana",
        "Scully",
    )
    assert info["email"] == "u7@example.com" and info["email_verified"] is True
    assert info["https://slack.com/team_name"] == "Brand Two"
    assert info["https://slack.com/team_domain"] == "brand-two"


async def test_sign_in_refuses_without_a_person_openid_or_the_same_redirect(
    slack: FakeSlack, sign_in_app: SignInApp, http: aiohttp.ClientSession
):
    driver = driver_for(http, slack, "http://127.0.0.1:9")
    assert await driver.sign_in(sign_in_app.start_url()) == (403, "refused: access_denied")
    slack.sign_in_as("T0001", "U1")
    assert await driver.sign_in(sign_in_app.start_url(scope="profile")) == (
        403,
        "refused: invalid_scope",
    )
    assert await driver.sign_in(sign_in_app.start_url(team="T0009")) == (
        403,
        "refused: access_denied",
    )
    # only openid: who, and nothing of the profile or email
    assert (await driver.sign_in(sign_in_app.start_url(scope="openid")))[0] == 200
    assert set(sign_in_app.answers[-1]) == {
        "ok",
        "sub",
        "https://slack.com/user_id",
        "https://slack.com/team_id",
    }

    url = sign_in_app.start_url()
    async with http.get(url, allow_redirects=False) as resp:
        code = parse_qs(urlparse(resp.headers["Location"]).query)["code"][0]
    client = api(slack)
    moved = client.openid_connect_token(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code, redirect_uri="https://x/"
    )
    assert await error_of(moved) == "bad_redirect_uri"
    ok = await client.openid_connect_token(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        code=code,
        redirect_uri=sign_in_app.redirect_uri,
    )
    assert ok["ok"] is True
    reused = client.openid_connect_token(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        code=code,
        redirect_uri=sign_in_app.redirect_uri,
    )
    assert await error_of(reused) == "invalid_code"
    bot = api(slack, slack.bot_token)
    assert await error_of(bot.openid_connect_userInfo()) == "invalid_auth"
    person = api(slack, ok["access_token"])
    assert await error_of(person.chat_postMessage(channel="C1", text="x")) == "missing_scope"


# -- no input makes a 5xx ----------------------------------------------------------------------

ANY = st.text(max_size=40) | st.sampled_from(["", CLIENT_ID, "code", "openid", "T0001"])


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(
        [
            "/oauth/v2/authorize",
            "/openid/connect/authorize",
            "/api/oauth.v2.access",
            "/api/openid.connect.token",
            "/api/openid.connect.userInfo",
            "/api/auth.revoke",
        ]
    ),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "client_id",
                "client_secret",
                "code",
                "scope",
                "user_scope",
                "state",
                "redirect_uri",
                "team",
                "response_type",
                "grant_type",
                "refresh_token",
                "nonce",
                "token",
            ]
        ),
        ANY,
        max_size=8,
    ),
    basic=st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
)
async def test_any_oauth_request_gets_an_answer_without_a_5xx(
    slack: FakeSlack, http: aiohttp.ClientSession, path, fields, basic
):
    count_case()
    slack.oauth_redirect_url = "https://bot.example.com/r"
    headers = {"Authorization": f"Basic {basic}"} if basic is not None else {}
    if path.startswith("/api/"):
        request = http.post(slack.url + path, data=fields, headers=headers)
    else:
        request = http.get(slack.url + path, params=fields, allow_redirects=False)
    async with request as resp:
        assert resp.status < 500, await resp.text()
