"""With many workspaces a TikTok link is confirmed only by the browser of the Slack user it is
for: after TikTok's consent the page asks to Sign in with Slack (OpenID Connect, `openid`,
into the link's workspace), bound to this browser by a cookie, and shows the confirm form only
when Slack says the signed-in person is the link's own. Anyone else, another workspace's user
with the same ID, a browser without the cookie, a reused or expired sign-in, Slack refusing,
failing or too slow: nothing is linked. Don't link works without signing in; parked tokens of
a page nobody confirmed are still revoked. With one workspace nothing changes.

Driven over HTTP: signed Slack commands, the browser's visits (cookies carried by hand, as
`sandbox.fakes.browser` does), the fake Slack's Sign in with Slack, the fake TikTok.
"""

from __future__ import annotations

import asyncio
import logging
from http.cookies import SimpleCookie

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.fakes.browser import Browser
from tests.conftest import button_urls, confirm_form, db_bytes, db_execute, db_rows
from tests.fuzz.counting import count_case
from tests.signin_helpers import (
    ALEX,
    BLAKE,
    back_from_slack,
    links,
    many,
    query_of,
    sha256,
    sign_in_page,
    sign_in_url,
    state_row,
    visit,
    words,
)
from tests.test_parked_tokens import prune_rounds

SIGNIN = "/slack/signin"
CONFIRM = "/tiktok/oauth/confirm"


@pytest.fixture
async def hm(h):
    return await many(h)


async def post_confirm(d, form: dict, choice: str = "link") -> tuple[int, str]:
    page = await d.browser.post(d.url() + CONFIRM, {**form, "choice": choice})
    return page.status, page.text


def connects(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM audit WHERE action = 'connect' ORDER BY id")


# --- the right person ---------------------------------------------------------------------------


async def test_the_links_own_person_signs_in_with_slack_then_confirms(hm):
    h, d = hm, hm.driver
    status, page, tiktok_state = await sign_in_page(h, d)

    assert status == 200
    shown = words(page)
    assert "Sign in with Slack to link this TikTok account" in shown
    assert (
        "The TikTok account Brand Social would be linked to the Slack account @alex "
        "(user ID U1) in the workspace Fake (T0001)."
    ) in shown
    assert "First sign in with Slack as @alex (user ID U1)" in shown
    assert "Link it" not in shown and "Don't link" in shown
    url = sign_in_url(d, page)
    assert url.startswith(h.slack.oidc_authorize_url + "?")
    asked = query_of(url)
    assert asked.keys() == {
        "response_type",
        "scope",
        "client_id",
        "state",
        "nonce",
        "team",
        "redirect_uri",
    }
    assert (asked["response_type"], asked["scope"], asked["team"]) == ("code", "openid", "T0001")
    assert asked["client_id"] == h.slack.client_id
    assert asked["redirect_uri"] == "https://bot.example.com/slack/signin"
    assert asked["state"] != tiktok_state and asked["nonce"] != asked["state"]
    row = state_row(h)
    assert row["signin_hash"] == sha256(asked["state"]) and row["signed_in_at"] is None
    assert links(h) == []

    h.slack.sign_in_as("T0001", ALEX)
    status, confirm = await visit(d, await back_from_slack(h, d, url))

    assert status == 200, confirm
    shown = words(confirm)
    assert "Link this TikTok account to this Slack account?" in shown
    assert "Link it" in shown and "Don't link" in shown
    assert "This page works once, for 10 more minutes." in shown
    assert '<form method=post action="../tiktok/oauth/confirm">' in confirm
    assert state_row(h)["signed_in_at"] is not None
    (token_call,) = h.slack.calls_to("openid.connect.token")
    assert token_call.client == (h.slack.client_id, h.slack.client_secret)
    assert token_call.params["redirect_uri"] == "https://bot.example.com/slack/signin"
    (info,) = h.slack.calls_to("openid.connect.userInfo")
    assert h.slack.token(info.token).revoked  # the user token was given back at once
    assert links(h) == []

    status, done = await d.confirm(confirm)

    assert status == 200
    assert "Linked as Brand Social" in done
    (link,) = links(h)
    assert (link["team_id"], link["owner"], link["open_id"], link["linked_via"]) == (
        "T0001",
        ALEX,
        "open-1",
        "confirmed",
    )
    assert [e["outcome"] for e in connects(h)] == ["ok"]


async def test_an_admin_signs_in_to_link_a_team_account(hm):
    h = hm
    h.slack.set_user("UADMIN", name="ada", is_admin=True)
    await h.link_team("brand", admin="UADMIN", open_id="open-brand")  # the driver signs in

    (link,) = links(h)
    assert (link["kind"], link["owner"], link["linked_by"]) == ("team", "brand", "UADMIN")
    (asked,) = h.slack.sign_in_requests
    assert asked["team"] == "T0001"


async def callback_headers(h, user_id: str = ALEX) -> tuple[str, str]:
    """The OAuth callback visited by a plain client: its one Set-Cookie header and the page."""
    answer = await h.driver.command("connect", user_id=user_id)
    (connect,) = button_urls(answer)
    params = {"code": h.tiktok.issue_code("open-1"), "state": query_of(connect)["state"]}
    async with h.session.get(h.url + "/tiktok/oauth/callback", params=params) as resp:
        assert resp.status == 200
        (header,) = resp.headers.getall("Set-Cookie")
        return header, await resp.text()


async def test_the_cookie_binds_the_sign_in_to_this_browser(hm):
    h = hm
    h.tiktok.add_user("open-1", "Brand Social")

    header, page = await callback_headers(h)

    cookie: SimpleCookie = SimpleCookie()
    cookie.load(header)
    ((name, morsel),) = cookie.items()
    assert name.startswith("tc_signin_")
    assert morsel["httponly"] and morsel["secure"]  # the public URL is https
    assert morsel["samesite"] == "Lax" and morsel["path"] == "/"
    assert 590 <= int(morsel["max-age"]) <= 600
    assert morsel.value not in page  # the secret is only in the cookie …
    assert morsel.value.encode() not in db_bytes(h)  # … never in the database


async def test_an_http_address_with_a_path_prefix_sets_no_secure_cookie(h):
    public = "http://bot.example.com/tiktok-cancel/tiktok/oauth/callback"
    await many(h, tiktok_redirect_uri=public)
    h.tiktok.add_user("open-1", "Brand Social")

    header, page = await callback_headers(h)

    assert "Secure" not in header and "HttpOnly" in header
    d = h.driver
    (url,) = d.sign_in_links(page)
    assert query_of(url)["redirect_uri"] == "http://bot.example.com/tiktok-cancel/slack/signin"
    _, page, _ = await sign_in_page(h, d)
    status, confirm = await d.sign_in(sign_in_url(d, page), user_id=ALEX)
    assert status == 200 and "Link it" in confirm


# --- anyone else: never linked --------------------------------------------------------------


async def test_someone_else_signed_in_is_refused_and_the_tokens_can_still_be_declined(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    grant = h.tiktok.grants[-1]

    status, refused = await d.sign_in(sign_in_url(d, page), user_id=BLAKE)

    assert status == 403
    assert (
        "You're signed in to Slack as @blake (user ID U2); this link is for @alex (user ID U1). "
        "Nothing was linked."
    ) in words(refused)
    assert "Link it" not in words(refused)
    assert state_row(h)["signed_in_at"] is None
    # The callback page's form can't link (not signed in as the link's person) …
    status, again = await post_confirm(d, confirm_form(page))
    assert status == 400 and "Sign in with Slack first" in words(again)
    assert links(h) == [] and connects(h) == []
    # … but its Don't link still drops and revokes the parked tokens.
    status, declined = await d.confirm(page, "decline")
    assert status == 200 and "Nothing was linked" in declined
    assert h.tiktok.revoked == [grant.access_token]
    assert state_row(h)["pending_grant"] is None
    assert [e["outcome"] for e in connects(h)] == ["declined"]
    assert links(h) == []


async def test_someone_elses_page_that_nobody_declines_is_revoked_when_it_expires(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    grant = h.tiktok.grants[-1]
    assert (await d.sign_in(sign_in_url(d, page), user_id=BLAKE))[0] == 403

    db_execute(h, "UPDATE oauth_states SET confirm_expires_at = confirm_expires_at - 601")
    await prune_rounds(h)

    assert h.tiktok.revoked == [grant.access_token]
    assert state_row(h)["pending_grant"] is None
    assert links(h) == []


async def test_the_same_user_id_in_another_workspace_is_refused(hm):
    h, d = hm, hm.driver
    h.slack.add_workspace("T0002", "Other Co")
    h.slack.set_user(ALEX, name="alex-elsewhere", team_id="T0002")
    _, page, _ = await sign_in_page(h, d)
    url = sign_in_url(d, page)
    # Slack itself signs in only to the workspace asked for …
    h.slack.sign_in_as("T0002", ALEX)
    status, denied = await d.sign_in(url)
    assert status == 400 and "You didn't sign in with Slack" in words(denied)
    assert links(h) == []

    # … so the person edits the URL to drop that hint: the bot still compares the workspace.
    again = d.sign_in_links(denied)[0]
    assert query_of(again)["team"] == "T0001"
    no_hint = again.replace("&team=T0001", "")
    status, refused = await d.sign_in(no_hint)

    assert status == 403
    shown = words(refused)
    assert "You're signed in to Slack as user ID U1 of another Slack workspace (T0002)" in shown
    assert "this link is for @alex (user ID U1). Nothing was linked." in shown
    assert state_row(h)["signed_in_at"] is None
    assert links(h) == []
    assert h.slack.calls_for("T0002", "users.info") == []  # the other workspace isn't asked


async def test_a_confirm_posted_without_signing_in_links_nothing(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)

    status, refused = await post_confirm(d, confirm_form(page))

    assert status == 400
    assert "Sign in with Slack first" in words(refused)
    assert "Nothing was linked" in words(refused)
    assert links(h) == [] and connects(h) == []
    row = state_row(h)
    assert row["confirmed_at"] is None and row["pending_grant"] is not None
    # Signing in afterwards still works, and the callback page's token is spent by it.
    status, confirm = await d.sign_in(sign_in_url(d, page), user_id=ALEX)
    assert status == 200
    assert (await post_confirm(d, confirm_form(page)))[0] == 400
    assert (await d.confirm(confirm))[0] == 200
    assert len(links(h)) == 1


async def test_a_page_whose_sign_in_is_no_longer_recorded_links_nothing(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    status, confirm = await d.sign_in(sign_in_url(d, page), user_id=ALEX)
    assert status == 200
    db_execute(h, "UPDATE oauth_states SET signed_in_at = NULL")

    status, refused = await d.confirm(confirm)

    assert status == 400 and "Sign in with Slack first" in words(refused)
    assert links(h) == []


# --- the sign-in's state and cookie ---------------------------------------------------------


async def test_a_sign_in_state_works_once(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    h.slack.sign_in_as("T0001", ALEX)
    back = await back_from_slack(h, d, sign_in_url(d, page))
    assert (await visit(d, back))[0] == 200

    status, again = await visit(d, back)

    assert status == 400
    assert "This link was already used" in words(again)
    assert len(h.slack.calls_to("openid.connect.token")) == 1


async def test_two_returns_racing_with_one_state_sign_in_once(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    h.slack.sign_in_as("T0001", ALEX)
    back = await back_from_slack(h, d, sign_in_url(d, page))
    held = h.slack.hold("openid.connect.token")
    first = asyncio.create_task(visit(d, back))
    await held.wait_arrived()

    status, second = await visit(d, back)
    held.release()
    first_status, confirm = await first

    assert status == 400 and "This link was already used" in words(second)
    assert first_status == 200 and "Link it" in confirm
    assert len(h.slack.calls_to("openid.connect.token")) == 1


async def test_an_expired_sign_in_links_nothing(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    h.slack.sign_in_as("T0001", ALEX)
    back = await back_from_slack(h, d, sign_in_url(d, page))
    db_execute(h, "UPDATE oauth_states SET confirm_expires_at = confirm_expires_at - 601")

    status, expired = await visit(d, back)

    assert status == 400 and "This link has expired" in words(expired)
    assert h.slack.calls_to("openid.connect.token") == []
    assert state_row(h)["signed_in_at"] is None
    assert (await post_confirm(d, confirm_form(page)))[0] == 400
    assert links(h) == []


@pytest.mark.parametrize("cookie", ["missing", "wrong", "another-pages"])
async def test_a_sign_in_finished_without_this_browsers_cookie_links_nothing(hm, cookie):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    url = sign_in_url(d, page)
    other = Browser(h.session)  # the sign-in link forwarded to another browser
    if cookie == "wrong":
        (name,) = d.browser.cookies
        other.cookies[name] = "not-the-secret-" + "x" * 30
    elif cookie == "another-pages":  # the other browser's own page, of the same person
        mine = h.driver
        await sign_in_page(h, mine)
        other.cookies.update(mine.browser.cookies)
    h.slack.sign_in_as("T0001", ALEX)
    back = await back_from_slack(h, d, url, browser=other)

    status, refused = await visit(d, back, browser=other)

    assert status == 400
    assert "Finish in the browser that opened the link" in words(refused)
    assert h.slack.calls_to("openid.connect.token") == []
    assert links(h) == []
    # Nothing was spent: the browser that opened the page still signs in.
    status, confirm = await visit(d, back)
    assert status == 200 and "Link it" in confirm


# --- Slack says no, fails, or is slow --------------------------------------------------------


async def test_a_cancelled_sign_in_links_nothing_and_can_be_tried_again(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    h.slack.sign_in_as(None)  # nobody signed in: Slack answers access_denied

    status, denied = await d.sign_in(sign_in_url(d, page))

    assert status == 400
    shown = words(denied)
    assert "You didn't sign in with Slack" in shown
    assert "Slack says the sign-in was cancelled, so nothing was linked." in shown
    assert state_row(h)["signed_in_at"] is None and links(h) == []
    (again,) = d.sign_in_links(denied)
    assert query_of(again)["state"] != query_of(sign_in_url(d, page))["state"]
    assert len(d.browser.cookies) == 2  # a fresh cookie for the fresh sign-in

    status, confirm = await d.sign_in(again, user_id=ALEX)
    assert status == 200
    assert (await d.confirm(confirm))[0] == 200
    assert len(links(h)) == 1


@pytest.mark.parametrize(
    "failure, said",
    [
        pytest.param(lambda s: s.fail("openid.connect.token", "invalid_code"), "invalid_code"),
        pytest.param(lambda s: s.fail_http("openid.connect.token", 500), "http_500", id="5xx"),
        pytest.param(lambda s: s.fail("openid.connect.userInfo", "invalid_auth"), "invalid_auth"),
    ],
)
async def test_slack_refusing_or_failing_the_sign_in_links_nothing(hm, failure, said):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    failure(h.slack)

    status, failed = await d.sign_in(sign_in_url(d, page), user_id=ALEX)

    assert status == 400
    shown = words(failed)
    assert "Slack couldn't tell us who signed in" in shown
    assert f"Slack refused or failed the sign-in, so nothing was linked. (Slack said: {said})" in (
        shown
    )
    assert state_row(h)["signed_in_at"] is None and links(h) == []
    status, confirm = await d.sign_in(d.sign_in_links(failed)[0])
    assert status == 200 and "Link it" in confirm


async def test_slack_too_slow_to_sign_in_links_nothing(h):
    await many(h, slack_signin_timeout=0.3)
    d = h.driver
    _, page, _ = await sign_in_page(h, d)
    held = h.slack.hold("openid.connect.token", count=1)

    status, slow = await d.sign_in(sign_in_url(d, page), user_id=ALEX)
    held.release()

    assert status == 400
    assert "Slack didn't answer in time" in words(slow)
    assert "We couldn't learn from Slack who signed in, so nothing was linked." in words(slow)
    assert state_row(h)["signed_in_at"] is None and links(h) == []
    status, confirm = await d.sign_in(d.sign_in_links(slow)[0])
    assert status == 200 and "Link it" in confirm


async def test_a_sign_in_whose_id_token_lacks_the_nonce_links_nothing(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    url = sign_in_url(d, page)
    forged = url.replace(f"nonce={query_of(url)['nonce']}", "nonce=someone-elses-nonce")

    status, refused = await d.sign_in(forged, user_id=ALEX)

    assert status == 400
    assert "(Slack said: nonce)" in words(refused)
    assert state_row(h)["signed_in_at"] is None and links(h) == []


async def test_no_code_token_or_id_token_is_logged(hm, caplog):
    for name in ("bot", "handlers", "storage"):
        caplog.set_level(logging.DEBUG, logger=name)
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    h.slack.fail("openid.connect.userInfo", "invalid_auth")
    _, failed = await d.sign_in(sign_in_url(d, page), user_id=ALEX)
    _, confirm = await d.sign_in(d.sign_in_links(failed)[0])
    assert (await d.confirm(confirm))[0] == 200

    calls = h.slack.calls_to("openid.connect.token") + h.slack.calls_to("auth.revoke")
    secrets = {c.params.get("code") for c in calls} | {c.token for c in calls}
    secrets |= set(d.browser.cookies.values())
    secrets |= {query_of(u)["state"] for u in (sign_in_url(d, page), d.sign_in_links(failed)[0])}
    secrets.discard(None)
    assert len(secrets) >= 6
    assert "slack.sign_in_failed" in caplog.text  # it did log, without them
    for secret in secrets:
        assert secret not in caplog.text


# --- what the pages show --------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script> & <b>'


async def test_the_pages_escape_hostile_names(hm):
    h, d = hm, hm.driver
    h.slack.set_user(ALEX, name="alex", real_name=HOSTILE, display_name=HOSTILE)
    h.slack.set_user(BLAKE, name="blake", real_name=HOSTILE, display_name=HOSTILE)
    _, page, _ = await sign_in_page(h, d, name=HOSTILE)
    _, refused = await d.sign_in(sign_in_url(d, page), user_id=BLAKE)
    _, page2, _ = await sign_in_page(h, d, open_id="open-2", name=HOSTILE)
    _, confirm = await d.sign_in(sign_in_url(d, page2), user_id=ALEX)

    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;"
    for shown in (page, refused, page2, confirm):
        assert "<script>" not in shown and "</script>" not in shown and "<b> " not in shown
    for shown in (page, page2, confirm):
        assert escaped in shown and HOSTILE in words(shown)
    assert "@blake (user ID U2)" in words(refused)  # named by what no one else can have


async def test_the_sign_in_pages_are_never_cached_or_framed(hm):
    h, d = hm, hm.driver
    _, page, _ = await sign_in_page(h, d)
    h.slack.sign_in_as("T0001", ALEX)
    back = await back_from_slack(h, d, sign_in_url(d, page))
    async with h.session.get(back, headers={"Cookie": "x=y"}) as resp:
        refused_headers = resp.headers
    for headers in (refused_headers,):
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"


async def test_one_workspace_asks_no_sign_in_and_serves_no_sign_in_route(h):
    d = h.driver
    _, page, _ = await sign_in_page(h, d)

    assert d.sign_in_links(page) == []
    assert "Link it" in page and d.browser.cookies == {}
    async with h.session.get(h.url + SIGNIN, params={"state": "x", "code": "y"}) as resp:
        assert resp.status == 404
    assert (await d.confirm(page))[0] == 200
    assert len(links(h)) == 1
    assert h.slack.sign_in_requests == []


# --- no input makes a 5xx -------------------------------------------------------------------

ANY = st.text(max_size=60) | st.sampled_from(["", "access_denied", "x" * 43, "a" * 300])


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    query=st.dictionaries(st.sampled_from(["state", "code", "error", "team", "x"]), ANY),
    cookie_name=st.sampled_from(["tc_signin_", "tc_signin_xxxxxxxxxxxx", "other"])
    | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
    cookie_value=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    use_real_state=st.booleans(),
)
async def test_any_sign_in_return_gets_a_page_without_a_5xx(
    hm, query, cookie_name, cookie_value, use_real_state
):
    count_case()
    h = hm
    if use_real_state and not hasattr(h, "fuzz_state"):
        d = h.driver
        _, page, _ = await sign_in_page(h, d)
        h.fuzz_state = query_of(sign_in_url(d, page))["state"]
        h.fuzz_cookie = dict(d.browser.cookies)
    if use_real_state:
        query = {**query, "state": h.fuzz_state}
        (real_name,) = h.fuzz_cookie
        cookie_name = real_name if cookie_value.startswith("a") else cookie_name
    headers = {"Cookie": f"{cookie_name}={cookie_value}"} if cookie_name else {}
    async with h.session.get(
        h.url + SIGNIN, params=query, headers=headers, allow_redirects=False
    ) as resp:
        assert resp.status < 500, await resp.text()
        assert resp.status in (400, 403)
    assert links(h) == []
