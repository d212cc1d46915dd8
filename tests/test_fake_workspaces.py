"""The Slack stand-in with several workspaces, over real HTTP: each bot token is answered from
its own workspace (auth.test, users, conversations, user groups, modals), the same user and
channel ids can mean different people and rooms in two workspaces, a call for one workspace's
things made with another's token is caught as a wrong-team call, and the driver sends every
kind of request (commands, clicks, modal submissions, Home, any event, an uninstall) from the
workspace named. The default workspace stays what single-workspace tests know."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.fakes import FakeSlack, FakeTikTok
from sandbox.fakes.driver import Driver
from sandbox.fakes.server import LoopbackServer

MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def two(slack: FakeSlack) -> FakeSlack:
    """The default workspace T0001 and a second one, TB, with the same ids for other things."""
    slack.add_workspace("TB", "Brand B", bot_user_id="UBOTB", bot_id="BBOTB")
    slack.set_user("U1", name="alice", real_name="Alice A")
    slack.set_user("U1", name="bob", real_name="Bob B", is_admin=True, team_id="TB")
    slack.set_channel("C1", members=["U1", "U2"])
    slack.set_channel("C1", private=False, members=["U1", "U3", "U4"], team_id="TB")
    slack.set_usergroup("S1", handle="leads", users=["U2"])
    slack.set_usergroup("S1", handle="leads", users=["U3", "U4"], team_id="TB")
    return slack


def client(slack: FakeSlack, team_id: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=slack.workspace(team_id).bot_token, base_url=slack.api_url)


async def error_of(call) -> str:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value.response["error"]


async def test_the_default_workspace_answers_as_it_always_did(slack: FakeSlack):
    assert (slack.team_id, slack.bot_token, slack.bot_user_id) == (
        "T0001",
        "xoxb-test-bot-token",
        "UBOT",
    )
    answer = await client(slack).auth_test()
    assert answer.data == {
        "ok": True,
        "url": "https://fake.slack.com/",
        "team": "Fake",
        "user": "tiktokcancel",
        "team_id": "T0001",
        "user_id": "UBOT",
        "bot_id": "BBOT",
        "is_enterprise_install": False,
    }
    assert slack.calls[-1].team_id == "T0001" and slack.calls[-1].token_team == "T0001"


async def test_auth_test_answers_for_each_token(two: FakeSlack):
    b = await client(two, "TB").auth_test()
    assert (b["team_id"], b["team"], b["user_id"], b["bot_id"]) == (
        "TB",
        "Brand B",
        "UBOTB",
        "BBOTB",
    )
    assert b["url"] == "https://tb.slack.com/"
    grid = two.add_workspace("TG", enterprise_id="E1", enterprise_name="Grid Co")
    g = await AsyncWebClient(token=grid.bot_token, base_url=two.api_url).auth_test()
    assert (g["team_id"], g["enterprise_id"]) == ("TG", "E1")
    assert [c.team_id for c in two.calls_to("auth.test")] == ["TB", "TG"]
    assert two.calls_for("TB", "auth.test") == [two.calls[0]]


async def test_the_same_ids_mean_other_people_rooms_and_groups_in_each_workspace(two: FakeSlack):
    a, b = client(two), client(two, "TB")
    alice, bob = (await a.users_info(user="U1"))["user"], (await b.users_info(user="U1"))["user"]
    assert (alice["name"], alice["team_id"], alice["is_admin"]) == ("alice", "T0001", False)
    assert (bob["name"], bob["team_id"], bob["is_admin"]) == ("bob", "TB", True)

    in_a = (await a.conversations_info(channel="C1"))["channel"]
    in_b = (await b.conversations_info(channel="C1"))["channel"]
    assert (in_a["is_private"], in_b["is_private"]) == (True, False)
    assert (await a.conversations_members(channel="C1"))["members"] == ["UBOT", "U1", "U2"]
    assert (await b.conversations_members(channel="C1"))["members"] == ["UBOTB", "U1", "U3", "U4"]
    assert (await b.usergroups_users_list(usergroup="S1"))["users"] == ["U3", "U4"]
    assert (await a.usergroups_users_list(usergroup="S1"))["users"] == ["U2"]

    posted_a = await a.chat_postMessage(channel="C1", text="to A")
    posted_b = await b.chat_postMessage(channel="C1", text="to B")
    assert posted_b["message"]["user"] == "UBOTB"
    assert list(two.messages_in("TB")) == [("C1", posted_b["ts"])]
    assert list(two.messages_in("T0001", channel="C1")) == [("C1", posted_a["ts"])]
    # ambiguous ids (declared in both) say nothing of whose they are: no wrong-team calls
    assert two.wrong_team_calls() == []


async def test_another_workspaces_things_are_not_found_and_the_call_is_a_wrong_team_call(
    two: FakeSlack,
):
    two.set_channel("CB_ONLY", members=["U3"], team_id="TB")
    two.set_user("UB_ONLY", team_id="TB")
    a, b = client(two), client(two, "TB")
    assert await error_of(a.chat_postMessage(channel="CB_ONLY", text="leak")) == "channel_not_found"
    assert await error_of(a.users_info(user="UB_ONLY")) == "user_not_found"
    assert await error_of(a.conversations_open(users="UB_ONLY")) == "user_not_found"
    posted = await b.chat_postMessage(channel="CB_ONLY", text="fine")
    assert await error_of(a.chat_update(channel="CB_ONLY", ts=posted["ts"], text="x")) == (
        "channel_not_found"
    )

    wrong = two.wrong_team_calls("TB")
    assert [(c.method, c.team_id) for c in wrong] == [
        ("chat.postMessage", "T0001"),
        ("users.info", "T0001"),
        ("conversations.open", "T0001"),
        ("chat.update", "T0001"),
    ]
    assert all(c.owners == {"TB"} for c in wrong)
    assert two.wrong_team_calls("T0001") == []
    assert [c.method for c in two.calls_for("TB")] == ["chat.postMessage"]


async def test_expect_team_flags_any_call_made_with_another_teams_token(two: FakeSlack):
    a, b = client(two), client(two, "TB")
    with two.expect_team("TB"):
        await b.chat_postMessage(channel="C1", text="right token")
        await a.chat_postMessage(channel="C1", text="wrong token")
    await a.chat_postMessage(channel="C1", text="outside: no expectation")
    assert [c.params["text"] for c in two.wrong_team_calls("TB")] == ["wrong token"]
    assert [c.params["text"] for c in two.wrong_team_calls()] == ["wrong token"]


async def test_a_trigger_and_a_view_belong_to_their_workspace(two: FakeSlack):
    a, b = client(two), client(two, "TB")
    trigger_b = two.new_trigger_id("U1", team_id="TB")
    assert await error_of(a.views_open(trigger_id=trigger_b, view=MODAL)) == "invalid_trigger_id"
    opened = (await b.views_open(trigger_id=trigger_b, view=MODAL))["view"]
    assert (opened["team_id"], opened["app_installed_team_id"], opened["bot_id"]) == (
        "TB",
        "TB",
        "BBOTB",
    )
    assert two.last_view("U1", team_id="TB").id == opened["id"]
    assert two.last_view("U1", team_id="T0001") is None
    assert await error_of(a.views_update(view_id=opened["id"], view=MODAL)) == "not_found"
    await b.views_update(view_id=opened["id"], view=MODAL)
    assert [c.method for c in two.wrong_team_calls("TB")] == ["views.open", "views.update"]
    waited = await two.wait_for_view("U1", team_id="TB", count=2, timeout=1)
    assert [v.method for v in waited] == ["views.open", "views.update"]


# -- the driver, from a workspace ---------------------------------------------------------------


class Recorder:
    """Stands in for the bot: checks Slack's signature and keeps what came."""

    def __init__(self, secret: str):
        self.verifier = SignatureVerifier(secret)
        self.bodies: list[dict] = []
        app = web.Application()
        app.router.add_post("/slack/events", self.events)
        self.server = LoopbackServer(app)

    async def events(self, request: web.Request) -> web.Response:
        raw = await request.text()
        headers = request.headers
        valid = self.verifier.is_valid(
            raw, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
        )
        if not valid:
            return web.Response(status=401)
        if raw.startswith("{"):
            self.bodies.append(json.loads(raw))
        else:
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            self.bodies.append(json.loads(form["payload"]) if "payload" in form else form)
        return web.Response(text="")


@pytest.fixture
async def recorder(slack: FakeSlack) -> AsyncIterator[Recorder]:
    rec = Recorder(slack.signing_secret)
    await rec.server.start()
    yield rec
    await rec.server.stop()


@pytest.fixture
async def driver(slack: FakeSlack, recorder: Recorder) -> AsyncIterator[Driver]:
    async with aiohttp.ClientSession() as session:
        yield Driver(session, slack, FakeTikTok(), recorder.server.url)


async def test_the_driver_sends_commands_clicks_and_submissions_from_the_workspace_named(
    two: FakeSlack, driver: Driver, recorder: Recorder
):
    await driver.send_command("status", team_id="TB")
    await driver.send_click("cancel", "p1", team_id="TB")
    await driver.send_click("home_button", "v", team_id="TB", home=True)
    command, click, home = recorder.bodies
    assert command["team_id"] == "TB" and two.trigger_team(command["trigger_id"]) == "TB"
    assert click["team"]["id"] == "TB" and two.trigger_team(click["trigger_id"]) == "TB"
    assert home["view"]["app_installed_team_id"] == "TB"

    opened = await client(two, "TB").views_open(trigger_id=click["trigger_id"], view=MODAL)
    await driver.submit_view("U1", team_id="TB")
    submitted = recorder.bodies[-1]
    assert submitted["type"] == "view_submission" and submitted["team"]["id"] == "TB"
    assert submitted["view"]["id"] == opened["view"]["id"]
    assert submitted["view"]["app_installed_team_id"] == "TB"
    await driver.send_command("status")  # no team named: the default workspace
    assert recorder.bodies[-1]["team_id"] == "T0001"


async def test_the_driver_sends_events_and_an_uninstall_as_slack_does(
    two: FakeSlack, driver: Driver, recorder: Recorder
):
    assert await driver.open_home("U1", team_id="TB") == 200
    home = recorder.bodies[-1]
    assert (home["type"], home["team_id"], home["event"]["type"]) == (
        "event_callback",
        "TB",
        "app_home_opened",
    )
    assert await driver.send_event({"type": "app_mention"}, team_id="TB", authorizations=True)
    assert recorder.bodies[-1]["authorizations"][0]["user_id"] == "UBOTB"

    token_b = two.workspace("TB").bot_token
    assert await driver.uninstall("TB", order=("app_uninstalled", "tokens_revoked")) == [200, 200]
    gone, revoked = recorder.bodies[-2:]
    assert (gone["team_id"], gone["event"]) == ("TB", {"type": "app_uninstalled"})
    assert (revoked["team_id"], revoked["event"]) == (
        "TB",
        {"type": "tokens_revoked", "tokens": {"bot": ["UBOTB"]}},
    )
    assert gone["event_id"] != revoked["event_id"]
    assert two.token(token_b).revoked and not two.workspace("TB").installed
    b = AsyncWebClient(token=token_b, base_url=two.api_url)
    assert await error_of(b.auth_test()) == "token_revoked"
    assert (await client(two).auth_test())["team_id"] == "T0001"  # the other one works on
