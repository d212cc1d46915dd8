"""The sandbox serves many workspaces: its first is installed through Add to Slack as it
starts, the page's Add to Slack installs the second ("Second workspace", T0002) through the
same round trip (the bot's /slack/install, Slack's consent, /slack/oauth_redirect with Bolt's
state cookie), and every endpoint acts in the workspace its `team` names: that workspace's
people, token, pipeline token and nothing of the other. Uninstall makes the bot forget the
second one; Add to Slack installs it again, clean.

Over HTTP, as the page's JavaScript does, against an in-process `Sandbox`.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
from cryptography.fernet import Fernet

from sandbox.server import CHANNEL
from tests.sandbox_page import (
    ALEX,
    SAM,
    announcement,
    audit_of,
    blocks_text,
    hold_body,
    sandbox_rows,
)

FIRST, SECOND = "T0SANDBOX", "T0002"
NOT_LINKED = "You haven't linked a TikTok account yet"


def installed_teams(sb) -> list[str]:
    rows = sandbox_rows(sb, "SELECT team_id FROM slack_installations ORDER BY team_id")
    return [r["team_id"] for r in rows]


def stored_token(sb, team_id: str) -> str:
    (row,) = sandbox_rows(
        sb, "SELECT bot_token FROM slack_installations WHERE team_id = ?", team_id
    )
    key = Fernet(sb.bot.settings.token_encryption_key.encode())
    return key.decrypt(row["bot_token"].encode()).decode()


def nothing_shown(state: dict) -> bool:
    """The page shows nothing at all of Slack in this state."""
    return (
        all(c["messages"] == [] for c in state["channels"])
        and all(m == [] for m in state["dms"].values())
        and all(m == [] for m in state["ephemeral"].values())
        and state["homes"] == {}
        and all(m is None for m in state["modals"].values())
    )


async def signed_in_to_slack(sb) -> dict:
    """Whom the Slack stand-in's Sign in with Slack signs the page's browser in as: its
    OpenID Connect round trip (authorize, openid.connect.token), then openid.connect.userInfo."""
    redirect = "http://127.0.0.1:9/callback"
    query = {
        "response_type": "code",
        "scope": "openid",
        "client_id": sb.slack.client_id,
        "state": "s",
        "redirect_uri": redirect,
    }
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{sb.slack.oidc_authorize_url}?{urlencode(query)}", allow_redirects=False
        ) as resp:
            assert resp.status == 302
            (code,) = parse_qs(urlsplit(resp.headers["Location"]).query)["code"]
        form = {
            "client_id": sb.slack.client_id,
            "client_secret": sb.slack.client_secret,
            "code": code,
            "redirect_uri": redirect,
        }
        async with session.post(sb.slack.api_url + "openid.connect.token", data=form) as resp:
            token = (await resp.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with session.post(
            sb.slack.api_url + "openid.connect.userInfo", headers=headers
        ) as resp:
            claims = await resp.json()
    return {"team": claims["https://slack.com/team_id"], "user": claims["sub"]}


async def add_to_slack(page) -> dict:
    answer = await page.post("/api/install", {})
    assert answer == {"team_id": SECOND, "name": "Second workspace", "installed": True}
    return answer


# --- the first workspace, installed as the sandbox starts ----------------------------------


async def test_the_first_workspace_is_installed_through_add_to_slack_as_it_starts(page, sb):
    (visit,) = sb.slack.install_requests  # Slack's consent page, once
    assert visit["redirect_uri"] == f"{sb.bot_url}/slack/oauth_redirect"
    assert visit["state"] and visit["client_id"] == sb.slack.client_id
    assert len(sb.slack.calls_to("oauth.v2.access")) == 1
    assert installed_teams(sb) == [FIRST]
    assert stored_token(sb, FIRST) == sb.slack.workspace(FIRST).bot_token
    (row,) = sandbox_rows(sb, "SELECT team_name, installer_user_id FROM slack_installations")
    assert row == {"team_name": "Sandbox", "installer_user_id": ALEX}
    # The state was used once: the bot's OAuth state store is empty again.
    assert sandbox_rows(sb, "SELECT * FROM slack_oauth_states") == []
    state = await page.state()
    assert state["team"] == FIRST and state["installed"] is True
    assert state["workspaces"] == [
        {"team_id": FIRST, "name": "Sandbox", "installed": True},
        {"team_id": SECOND, "name": "Second workspace", "installed": False},
    ]
    assert state["pipeline_token"].startswith("tcp_")
    (token,) = sandbox_rows(sb, "SELECT team_id, made_by FROM pipeline_tokens")
    assert token == {"team_id": FIRST, "made_by": "cli"}
    (settings,) = sandbox_rows(sb, "SELECT team_id, audit_channel FROM workspace_settings")
    assert settings == {"team_id": FIRST, "audit_channel": "C0AUDIT"}


# --- Add to Slack on the page ----------------------------------------------------------------


async def test_add_to_slack_installs_the_second_workspace_through_the_round_trip(page, sb):
    await add_to_slack(page)
    first_visit, visit = sb.slack.install_requests
    assert visit["state"] and visit["state"] != first_visit["state"]
    assert visit["redirect_uri"] == f"{sb.bot_url}/slack/oauth_redirect"
    assert installed_teams(sb) == [SECOND, FIRST]
    second_token = sb.slack.workspace(SECOND).bot_token
    assert stored_token(sb, SECOND) == second_token
    assert second_token != sb.slack.workspace(FIRST).bot_token
    (row,) = sandbox_rows(
        sb,
        "SELECT team_name, installer_user_id FROM slack_installations WHERE team_id = ?",
        SECOND,
    )
    assert row == {"team_name": "Second workspace", "installer_user_id": ALEX}
    state = await page.state(SECOND)
    assert state["team"] == SECOND and state["installed"] is True
    assert [w["installed"] for w in state["workspaces"]] == [True, True]
    assert state["pipeline_token"].startswith("tcp_")
    assert state["pipeline_token"] != (await page.state())["pipeline_token"]


async def test_the_second_workspaces_requests_carry_its_own_token(page, sb):
    await add_to_slack(page)
    before = len(sb.slack.calls)
    answer = await page.command("whoami", team=SECOND)
    assert NOT_LINKED in blocks_text(answer)
    result = await page.post("/api/home", {"user": ALEX, "team": SECOND})
    assert result == {"status": 200, "answered": True}
    calls = sb.slack.calls[before:]
    assert calls and {c.token for c in calls} == {sb.slack.workspace(SECOND).bot_token}
    assert sb.slack.wrong_team_calls() == []
    assert [c.method for c in sb.slack.calls_for(SECOND, "views.publish")] == ["views.publish"]
    assert (await page.state(SECOND))["homes"][ALEX]["type"] == "home"
    assert (await page.state())["homes"] == {}


async def test_add_to_slack_again_is_refused_once_every_workspace_has_the_app(page, sb):
    await add_to_slack(page)
    for body in ({}, {"team": SECOND}, {"team": FIRST}):
        answer = await page.post("/api/install", body, expect=409)
        assert "has the app already" in answer["error"]
    assert len(sb.slack.install_requests) == 2


async def test_an_unknown_workspace_is_a_400_everywhere(page, sb):
    for path, body in (
        ("/api/install", {"team": "T0NOPE"}),
        ("/api/uninstall", {"team": "T0NOPE"}),
        ("/api/command", {"user": ALEX, "text": "help", "team": "T0NOPE"}),
        ("/api/home", {"user": ALEX, "team": "T0NOPE"}),
        ("/api/announce", {"publish_id": "v_pub_url~v2.1", "team": "T0NOPE"}),
        ("/api/hold", {**hold_body(), "team": "T0NOPE"}),
    ):
        answer = await page.post(path, body, expect=400)
        assert answer == {"error": "unknown workspace 'T0NOPE'; one of T0SANDBOX, T0002"}
    async with page.session.get("/api/state", params={"team": "T0NOPE"}) as resp:
        assert resp.status == 400
    assert sb.slack.calls_to("chat.postMessage") == []


async def test_the_pipeline_forms_wait_for_the_workspace_to_have_the_app(page, sb):
    for path, body in (
        ("/api/announce", {"publish_id": "v_pub_url~v2.1", "team": SECOND}),
        ("/api/hold", {**hold_body(), "team": SECOND}),
    ):
        answer = await page.post(path, body, expect=409)
        assert answer == {"error": "Second workspace has not installed the app: press Add to Slack"}
    assert sb.slack.calls_to("chat.postMessage") == []
    assert (await page.state(SECOND))["pipeline_token"] == ""


# --- switching: each workspace its own world ----------------------------------------------------


async def test_switching_shows_only_that_workspace(page, sb):
    await page.link()
    await page.announce("v_pub_url~v2.1001")
    await page.post("/api/home", {"user": ALEX})
    await add_to_slack(page)
    assert nothing_shown(await page.state(SECOND))

    answer = await page.command("whoami", team=SECOND)  # the same alex, another Slack account
    assert NOT_LINKED in blocks_text(answer)
    posted = await page.post(
        "/api/announce",
        {"user": SAM, "publish_id": "v_pub_url~v2.2002", "title": "Second's", "team": SECOND},
    )
    assert posted["status"] == 201, posted
    second = await page.until(lambda s: announcement(s, "v_pub_url~v2.2002") and s, team=SECOND)
    assert announcement(second, "v_pub_url~v2.1001") is None
    assert [m["text"] for m in second["dms"][ALEX]] == []
    assert [blocks_text(e) for e in second["ephemeral"][ALEX]] == [blocks_text(answer)]
    assert list(sb.slack.messages_in(SECOND, CHANNEL)) == [(CHANNEL, second_ts(second))]

    first = await page.state()
    assert announcement(first, "v_pub_url~v2.2002") is None
    assert announcement(first, "v_pub_url~v2.1001") is not None
    assert all(NOT_LINKED not in blocks_text(e) for e in first["ephemeral"][ALEX])
    assert any("is linked" in m["text"] for m in first["dms"][ALEX])
    whoami = await page.command("whoami")  # still linked in the first
    assert "open-alex" in blocks_text(whoami)
    assert sb.slack.wrong_team_calls() == []


def second_ts(state: dict) -> str:
    return announcement(state, "v_pub_url~v2.2002")["ts"]


async def test_the_hold_form_links_the_team_account_in_each_workspace(page, sb):
    first = await page.post("/api/hold", hold_body())
    assert first["status"] == 202 and first["linked"] == "brand"
    await add_to_slack(page)
    second = await page.post("/api/hold", {**hold_body(), "team": SECOND})
    assert second["status"] == 202, second
    assert second["linked"] == "brand"  # linked there too: links are per workspace
    again = await page.post("/api/hold", {**hold_body(), "team": SECOND})
    assert again["status"] == 202 and again["linked"] == ""
    rows = sandbox_rows(sb, "SELECT team_id, kind, owner FROM links ORDER BY team_id")
    assert rows == [
        {"team_id": SECOND, "kind": "team", "owner": "brand"},
        {"team_id": FIRST, "kind": "team", "owner": "brand"},
    ]
    state = await page.until(
        lambda s: (
            len([m for m in s["channels"][0]["messages"] if "Held teaser" in m["text"]]) == 2 and s
        ),
        team=SECOND,
    )
    assert [c["id"] for c in state["channels"]] == [CHANNEL, "C0AUDIT"]
    first_state = await page.state()
    held = [m for m in first_state["channels"][0]["messages"] if "Held teaser" in m["text"]]
    assert len(held) == 1


# --- Uninstall ---------------------------------------------------------------------------------


async def test_uninstall_forgets_the_second_workspace_and_add_to_slack_starts_it_clean(page, sb):
    await page.link()  # alex in the first workspace
    await add_to_slack(page)
    old_token = (await page.state(SECOND))["pipeline_token"]
    await sb.link_person(ALEX, SECOND)
    held = await page.post("/api/hold", {**hold_body(hold_s=600), "team": SECOND})
    assert held["status"] == 202 and held["linked"] == "brand"

    answer = await page.post("/api/uninstall", {"team": SECOND})
    assert answer == {
        "team_id": SECOND,
        "name": "Second workspace",
        "installed": False,
        "events": [200, 200],
        "forgotten": True,
    }
    assert installed_teams(sb) == [FIRST]
    assert sandbox_rows(sb, "SELECT * FROM links WHERE team_id = ?", SECOND) == []
    assert sandbox_rows(sb, "SELECT * FROM held_uploads WHERE team_id = ?", SECOND) == []
    assert sandbox_rows(sb, "SELECT * FROM pipeline_tokens WHERE team_id = ?", SECOND) == []
    (cancelled,) = [r for r in audit_of(sb, "cancel_held") if r["team_id"] == SECOND]
    assert (cancelled["source"], cancelled["outcome"]) == ("uninstall", "held_back")
    state = await page.state(SECOND)
    assert state["installed"] is False and state["pipeline_token"] == ""
    assert [w["installed"] for w in state["workspaces"]] == [True, False]
    refused = await page.post(
        "/api/announce", {"publish_id": "v_pub_url~v2.3", "team": SECOND}, expect=409
    )
    assert "has not installed the app" in refused["error"]
    async with page.session.post(
        f"{sb.bot_url}/notifications",
        json={"publish_id": "v_pub_url~v2.3", "channel": CHANNEL},
        headers={"Authorization": f"Bearer {old_token}"},
    ) as resp:
        assert resp.status == 401  # the bot forgot the workspace's pipeline token too
    assert "open-alex" in blocks_text(await page.command("whoami"))  # the first keeps its own
    # A command there now gets what Slack shows of Bolt's ack: the bot's not-installed words.
    gone = await page.command("whoami", team=SECOND)
    assert gone["text"] == (
        "tiktok-cancel isn't installed in this workspace any more, so it did nothing. "
        "Still running: whatever you asked about is unchanged. Next: a workspace admin adds it "
        "again with Add to Slack."
    )
    assert gone["channel"] == CHANNEL
    assert (await page.state(SECOND))["ephemeral"][ALEX][-1] == gone

    await add_to_slack(page)  # again: a clean start
    assert installed_teams(sb) == [SECOND, FIRST]
    assert NOT_LINKED in blocks_text(await page.command("whoami", team=SECOND))
    relinked = await page.post("/api/hold", {**hold_body(), "team": SECOND})
    assert relinked["status"] == 202 and relinked["linked"] == "brand"


async def test_the_first_workspace_keeps_the_app(page, sb):
    answer = await page.post("/api/uninstall", {"team": FIRST}, expect=400)
    assert answer == {"error": "Sandbox keeps the app: the page always shows one workspace"}
    missing = await page.post("/api/uninstall", {}, expect=400)
    assert missing == {"error": "team is required"}
    never = await page.post("/api/uninstall", {"team": SECOND}, expect=409)
    assert never == {"error": "Second workspace has not installed the app"}
    assert installed_teams(sb) == [FIRST]
    assert sb.slack.workspace(FIRST).installed


async def test_the_pages_browser_is_signed_in_to_slack_as_whoever_acts(page, sb):
    """Sign in with Slack (the stand-in's OpenID Connect) signs the page's browser in as the
    person who last acted on the page, in the workspace shown."""
    await add_to_slack(page)
    await page.command("help", user=SAM, team=SECOND)
    assert await signed_in_to_slack(sb) == {"team": SECOND, "user": SAM}
    await page.post("/api/home", {"user": ALEX})
    assert await signed_in_to_slack(sb) == {"team": FIRST, "user": ALEX}
