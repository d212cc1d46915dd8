"""Add to Slack (many workspaces) over real HTTP against the Slack stand-in: the install page
and its Secure state cookie, the round trip that stores the workspace, the state used once
(also by two racing visits), expired, or brought by another browser, a refusal, a code Slack
won't take, Slack's own errors, a reinstall that keeps one row, org-wide installs refused and
their token revoked, the installed workspace answered with its own token (in HTTP and Socket
Mode), the redirect URL from TIKTOK_REDIRECT_URI, one workspace's 404s, the start-up error
when both modes are set, and a fuzz of both routes (never a 5xx)."""

from __future__ import annotations

import asyncio
import hashlib
import html
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.fakes.browser import Browser, links_to
from sandbox.fakes.slack_requests import slash_command_payload
from tests.cli_process import run_bot
from tests.conftest import db_bytes, db_execute, db_rows, text_of
from tests.fuzz.counting import count_case
from tests.install_helpers import (
    INSTALL,
    REDIRECT,
    STATE_COOKIE,
    consent_for,
    installations,
    many_harness,
    opened,
)

TEAM_B = "T0002"
MANIFEST_SCOPES = (
    "commands,chat:write,chat:write.public,im:write,users:read,users:read.email,"
    "channels:read,groups:read,mpim:read,im:read,usergroups:read"
)
HELP_HEADLINE = "How to use /tiktok-cancel"


@pytest.fixture
async def hm(slack, tiktok, settings):
    async with many_harness(slack, tiktok, settings) as harness:
        yield harness


async def get(h, path: str, **params) -> tuple[int, str, dict]:
    url = h.url + path + (("?" + urlencode(params)) if params else "")
    async with h.session.get(url, allow_redirects=False) as resp:
        return resp.status, await resp.text(), dict(resp.headers)


# --- the install page -------------------------------------------------------------------------


async def test_the_install_page_has_one_add_to_slack_link_and_a_secure_state_cookie(hm):
    status, page, headers = await get(hm, INSTALL)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Add tiktok-cancel to Slack" in page
    assert headers["Cache-Control"] == "no-store" and headers["X-Frame-Options"] == "DENY"
    (link,) = links_to(page, hm.slack.authorize_url)
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["client_id"] == "1000000001.2000000002"
    assert query["scope"] == MANIFEST_SCOPES
    assert "redirect_uri" not in query  # no public address known: the app's configured one
    assert "user_scope" not in query  # a bot, never a person's token
    cookie = headers["Set-Cookie"]
    assert cookie.startswith(f"{STATE_COOKIE}={query['state']};")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Max-Age=600" in cookie
    (row,) = db_rows(hm, "SELECT * FROM slack_oauth_states")
    assert row["state_hash"] == hashlib.sha256(query["state"].encode()).hexdigest()
    assert 590 < row["expires_at"] - time.time() <= 601
    assert query["state"].encode() not in db_bytes(hm)


async def test_a_team_hint_is_passed_on_only_when_it_is_a_team_id(hm):
    _, page, _ = await get(hm, INSTALL, team=TEAM_B)
    (link,) = links_to(page, hm.slack.authorize_url)
    assert parse_qs(urlsplit(link).query)["team"] == [TEAM_B]
    _, page, _ = await get(hm, INSTALL, team="T0002&redirect_uri=https://evil.example/")
    (link,) = links_to(page, hm.slack.authorize_url)
    query = parse_qs(urlsplit(link).query)
    assert "team" not in query and "redirect_uri" not in query


async def test_the_redirect_url_is_the_public_address_of_tiktok_redirect_uri(
    slack, tiktok, settings
):
    uri = "https://bot.example.com/prefix/tiktok/oauth/callback"
    async with many_harness(slack, tiktok, settings, tiktok_redirect_uri=uri) as h:
        _, page, _ = await get(h, INSTALL)
    (link,) = links_to(page, slack.authorize_url)
    redirect = parse_qs(urlsplit(link).query)["redirect_uri"]
    assert redirect == ["https://bot.example.com/prefix/slack/oauth_redirect"]


# --- the round trip ---------------------------------------------------------------------------


async def test_add_to_slack_stores_the_workspace_and_its_commands_use_its_own_token(hm):
    ws = hm.slack.add_workspace(TEAM_B, "Brand Two", installed=False)
    driver = hm.driver
    status, page = await driver.install(team_id=TEAM_B, installer="U9")
    assert status == 200, page
    assert "Added to Brand Two" in page and "/tiktok-cancel help" in page
    assert STATE_COOKIE not in driver.browser.cookies  # the success page dropped it
    (row,) = installations(hm)
    assert (row["team_id"], row["team_name"], row["installer_user_id"]) == (
        TEAM_B,
        "Brand Two",
        "U9",
    )
    assert (row["bot_user_id"], row["bot_id"]) == ("UBOTT0002", "BBOTT0002")
    assert row["bot_scopes"] == MANIFEST_SCOPES
    assert (row["bot_refresh_token"], row["bot_token_expires_at"]) == ("", 0)
    assert opened(hm, row["bot_token"]) == ws.bot_token
    assert ws.bot_token.encode() not in db_bytes(hm)
    assert db_rows(hm, "SELECT * FROM slack_oauth_states") == []  # used once, gone

    answer = await driver.command("help", user_id="U1", team_id=TEAM_B)
    assert HELP_HEADLINE in text_of(answer)
    assert driver.slack.calls_for(TEAM_B, "auth.test")
    assert all(call.token == ws.bot_token for call in hm.slack.calls_for(TEAM_B))
    assert hm.slack.wrong_team_calls(TEAM_B) == []

    # a call the bot makes on its own (the Home tab), with B's token too
    assert await driver.open_home("U1", team_id=TEAM_B) == 200
    (publish,) = await hm.slack.wait_for_call("views.publish")
    assert publish.token == ws.bot_token and publish.team_id == TEAM_B


async def test_a_workspace_that_did_not_install_gets_no_answer_with_anyones_token(hm):
    hm.slack.add_workspace(TEAM_B, "Brand Two", installed=False)
    await hm.driver.install(team_id=TEAM_B)
    sent = await hm.driver.send_command("help", user_id="U1")  # the default workspace, T0001
    assert sent.status == 200
    (answer,) = await hm.slack.wait_for_responses(sent.response_url, 1)
    assert HELP_HEADLINE not in text_of(answer)
    assert "isn't installed in this workspace" in text_of(answer)
    assert hm.slack.calls_for("T0001") == []  # never the default workspace's own token
    assert hm.slack.wrong_team_calls() == []


async def test_a_reinstall_keeps_one_row_and_when_it_was_first_installed(hm):
    hm.slack.add_workspace(TEAM_B, "Brand Two", installed=False)
    assert (await hm.driver.install(team_id=TEAM_B, installer="U1"))[0] == 200
    (first,) = installations(hm)
    assert (await hm.driver.install(team_id=TEAM_B, installer="U2"))[0] == 200
    (again,) = installations(hm)
    assert again["installed_at"] == first["installed_at"]
    assert again["updated_at"] >= first["updated_at"]
    assert again["installer_user_id"] == "U2"


async def test_two_workspaces_installed_each_answered_with_its_own_token(hm):
    b = hm.slack.add_workspace(TEAM_B, "Brand Two", installed=False)
    c = hm.slack.add_workspace("T0003", "Brand Three", installed=False)
    await hm.driver.install(team_id=TEAM_B)
    await hm.driver.install(team_id="T0003")
    assert [r["team_id"] for r in installations(hm)] == [TEAM_B, "T0003"]
    for team, ws in ((TEAM_B, b), ("T0003", c)):
        answer = await hm.driver.command("help", team_id=team)
        assert HELP_HEADLINE in text_of(answer)
        assert {call.token for call in hm.slack.calls_for(team)} == {ws.bot_token}
    assert hm.slack.wrong_team_calls() == []


# --- the state: used once, by the browser that started, within 10 minutes ---------------------


async def test_the_state_works_once(hm):
    hm.slack.add_workspace(TEAM_B, installed=False)
    step = await consent_for(hm, TEAM_B)
    page = await step.browser.get(step.redirect)
    assert page.status == 200 and "Added to" in page.text
    step.browser.cookies[STATE_COOKIE] = step.state  # the same visit again, cookie and all
    again = await step.browser.get(step.redirect)
    assert again.status == 400
    assert "already used or has expired" in again.text and "Nothing new was installed" in again.text
    assert len(hm.slack.calls_to("oauth.v2.access")) == 1  # the code was not traded twice


async def test_two_visits_racing_with_one_state_install_once(hm):
    hm.slack.add_workspace(TEAM_B, installed=False)
    step = await consent_for(hm, TEAM_B)
    twin = Browser(hm.session)
    twin.cookies = dict(step.browser.cookies)
    pages = await asyncio.gather(step.browser.get(step.redirect), twin.get(step.redirect))
    assert sorted(p.status for p in pages) == [200, 400]
    assert len(hm.slack.calls_to("oauth.v2.access")) == 1
    assert len(installations(hm)) == 1


async def test_an_expired_state_installs_nothing(hm):
    hm.slack.add_workspace(TEAM_B, installed=False)
    step = await consent_for(hm, TEAM_B)
    db_execute(hm, "UPDATE slack_oauth_states SET expires_at = expires_at - 601")
    page = await step.browser.get(step.redirect)
    assert page.status == 400 and "already used or has expired" in page.text
    assert installations(hm) == [] and hm.slack.calls_to("oauth.v2.access") == []
    assert db_rows(hm, "SELECT * FROM slack_oauth_states") == []  # swept


async def test_another_browser_or_no_cookie_installs_nothing_and_keeps_the_state(hm):
    hm.slack.add_workspace(TEAM_B, installed=False)
    step = await consent_for(hm, TEAM_B)
    other = Browser(hm.session)
    other.cookies[STATE_COOKIE] = "another-browsers-state"
    for browser in (other, Browser(hm.session)):  # another install's cookie; none at all
        page = await browser.get(step.redirect)
        assert page.status == 400 and "didn't start in this browser" in html.unescape(page.text)
    assert installations(hm) == [] and hm.slack.calls_to("oauth.v2.access") == []
    page = await step.browser.get(step.redirect)  # the installer's own browser still can
    assert page.status == 200 and len(installations(hm)) == 1


async def test_refusing_on_slacks_page_installs_nothing(hm):
    status, page = await hm.driver.install(deny=True)
    assert status == 200
    assert "tiktok-cancel wasn't added" in html.unescape(page) and "nothing was installed" in page
    assert 'href="install"' in page  # start again
    assert installations(hm) == []


async def test_a_code_slack_wont_take_installs_nothing_and_is_not_logged(hm, caplog):
    hm.slack.add_workspace(TEAM_B, installed=False)
    step = await consent_for(hm, TEAM_B)
    page = await step.browser.get(step.with_query(code="1700000000.made-up"))
    assert page.status == 400 and "Slack didn't finish the install" in html.unescape(page.text)
    assert installations(hm) == []
    (call,) = hm.slack.calls_to("oauth.v2.access")
    assert call.params["code"] == "1700000000.made-up"
    refused = [r.getMessage() for r in caplog.records if "oauth.v2.access" in r.getMessage()]
    assert refused == ["oauth.v2.access refused the code (invalid_code)"]
    assert "made-up" not in caplog.text


async def test_slacks_own_error_is_shown_escaped(hm):
    step = await consent_for(hm, TEAM_B)
    page = await step.browser.get(step.with_query(error="<b>odd&error</b>"))
    assert page.status == 400
    assert "Slack said: &lt;b&gt;odd&amp;error&lt;/b&gt;" in page.text and "<b>odd" not in page.text
    assert installations(hm) == []


# --- org-wide installs --------------------------------------------------------------------------


async def test_an_org_wide_install_is_refused_never_stored_and_its_token_revoked(hm):
    status, page = await hm.driver.install(org=True, enterprise_id="E0001")
    assert status == 403
    assert "Org-wide installs aren't supported yet" in html.unescape(page)
    assert "pick one workspace" in page
    assert installations(hm) == []
    (revoke,) = hm.slack.calls_to("auth.revoke")
    granted = hm.slack.token(revoke.token)
    assert granted is not None and granted.enterprise_id == "E0001" and granted.team_id is None
    assert granted.revoked
    assert revoke.token.encode() not in db_bytes(hm)


# --- Socket Mode serves Add to Slack too ---------------------------------------------------------


async def test_add_to_slack_in_socket_mode(hm):
    await hm.restart(slack_app_token=hm.slack.app_token)
    await hm.slack.wait_for_socket()
    ws = hm.slack.add_workspace(TEAM_B, "Brand Two", installed=False)
    status, page = await hm.driver.install(team_id=TEAM_B)
    assert status == 200 and "Added to Brand Two" in page
    url = hm.slack.new_response_url()
    envelope = await hm.slack.send_envelope(
        "slash_commands", slash_command_payload("help", response_url=url, team_id=TEAM_B)
    )
    await hm.slack.wait_for_ack(envelope)
    (answer,) = await hm.slack.wait_for_responses(url, 1)
    assert HELP_HEADLINE in text_of(answer)
    assert {c.token for c in hm.slack.calls_for(TEAM_B)} == {ws.bot_token}


# --- one workspace: no Add to Slack; both at once: a start-up error ------------------------------


async def test_one_workspace_serves_no_add_to_slack(h):
    for path in (INSTALL, REDIRECT):
        status, _, _ = await get(h, path, code="x", state="y")
        assert status == 404, path


def test_both_modes_at_once_stop_start_up_naming_both(tmp_path):
    result = run_bot(
        [],
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-both-modes-0001",
        SLACK_CLIENT_ID="1000000001.2000000002",
        SLACK_CLIENT_SECRET="both-modes-client-secret",
        SLACK_SIGNING_SECRET="both-modes-signing-secret",
        TIKTOK_CLIENT_KEY="ck",
        TIKTOK_CLIENT_SECRET="both-modes-tiktok-secret",
        TOKEN_ENCRYPTION_KEY="JmHLEMZ0p4VN3oC5tF8aGqXfZ0zGsG1zjv5dY0kQk9c=",
    )
    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if "SLACK_CLIENT_ID" in line]
    assert "SLACK_BOT_TOKEN" in line and "SLACK_CLIENT_SECRET" in line
    assert "both-modes" not in result.stderr


# --- fuzz: whatever a browser sends, never a 5xx ------------------------------------------------

QUERY_KEYS = st.sampled_from(["code", "state", "error", "team", "x", ""])
QUERY = st.dictionaries(QUERY_KEYS, st.text(max_size=300), max_size=4)
COOKIE = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=200),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from([INSTALL, REDIRECT]), query=QUERY, cookie=COOKIE)
async def test_fuzz_add_to_slack_routes_never_fail_with_a_5xx(hm, path, query, cookie):
    count_case()
    headers = {"Cookie": f"{STATE_COOKIE}={cookie}"} if cookie is not None else {}
    url = hm.url + path + "?" + urlencode(query)
    async with hm.session.get(url, headers=headers, allow_redirects=False) as resp:
        text = await resp.text()
        assert resp.status < 500, text
        assert resp.headers["Content-Type"].startswith("text/html")
        assert resp.headers["X-Frame-Options"] == "DENY"
    assert installations(hm) == []
