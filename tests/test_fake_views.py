"""The Slack stand-in's modals and the driver's modal submissions, over real HTTP: trigger ids
(issued by the fake, carried by the driver's clicks and commands, good once and briefly),
views.open / views.push / views.update as slack_sdk calls them, `values_for` building Slack's
`state.values`, and signed `view_submission` payloads a Bolt app reads, acks and answers with
`response_action: errors`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.fakes import FakeSlack, FakeTikTok
from sandbox.fakes.driver import Driver, DriverError
from sandbox.fakes.server import LoopbackServer
from sandbox.fakes.view_values import ModalError, unsendable, unsendable_by_field, values_for

CHECKED = "✅"


def option(value: str, text: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


# A modal shaped like the approval post page (block ids from the approval design).
POST_PAGE: dict[str, Any] = {
    "type": "modal",
    "callback_id": "approve_upload",
    "private_metadata": json.dumps({"upload_key": "k1"}),
    "title": {"type": "plain_text", "text": "Post to TikTok"},
    "submit": {"type": "plain_text", "text": "Approve and post"},
    "blocks": [
        {
            "type": "input",
            "block_id": "caption",
            "label": {"type": "plain_text", "text": "Caption"},
            "element": {
                "type": "plain_text_input",
                "action_id": "caption_input",
                "multiline": True,
                "max_length": 2200,
                "initial_value": "Launch day & more <3",
            },
        },
        {
            "type": "input",
            "block_id": "privacy",
            "label": {"type": "plain_text", "text": "Who can see it"},
            "element": {
                "type": "static_select",
                "action_id": "privacy_select",
                "options": [
                    option("PUBLIC_TO_EVERYONE", "Everyone"),
                    option("SELF_ONLY", "Only me"),
                ],
            },
        },
        {
            "type": "input",
            "block_id": "interactions",
            "optional": True,
            "label": {"type": "plain_text", "text": "Allow"},
            "element": {
                "type": "checkboxes",
                "action_id": "interactions_boxes",
                "options": [option("comment", "Comment"), option("stitch", "Stitch")],
            },
        },
        {
            "type": "input",
            "block_id": "commercial",
            "optional": True,
            "label": {"type": "plain_text", "text": "Disclose"},
            "element": {
                "type": "checkboxes",
                "action_id": "commercial_boxes",
                "options": [option("on", "Promotes a brand, product or service")],
            },
        },
    ],
}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client_of(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


async def refused(call) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as error:
        await call
    return error.value.response.data  # type: ignore[return-value]


# -- the fake: views.open, views.push, views.update --------------------------------------


async def test_views_open_with_a_trigger_the_fake_issued_shows_the_modal(slack: FakeSlack):
    trigger = slack.new_trigger_id("U2")
    answer = await client_of(slack).views_open(trigger_id=trigger, view=POST_PAGE)
    view = answer["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert view["state"] == {"values": {}}
    assert view["callback_id"] == "approve_upload"
    assert view["private_metadata"] == '{"upload_key": "k1"}'
    assert view["blocks"] == POST_PAGE["blocks"]
    assert (view["team_id"], view["app_id"], view["root_view_id"]) == ("T0001", "A1", view["id"])

    (shown,) = await slack.wait_for_view(user_id="U2", callback_id="approve_upload")
    assert (shown.method, shown.user_id, shown.trigger_id) == ("views.open", "U2", trigger)
    assert shown.view == view
    assert slack.last_view("U2") == shown and slack.last_view("U3") is None


async def test_views_open_refuses_a_trigger_unknown_used_or_expired(slack: FakeSlack):
    client = client_of(slack)
    assert (await refused(client.views_open(trigger_id="made-up", view=POST_PAGE)))[
        "error"
    ] == "invalid_trigger_id"
    assert (await refused(client.views_open(trigger_id="", view=POST_PAGE)))[
        "error"
    ] == "invalid_trigger_id"

    used = slack.new_trigger_id("U2")
    await client.views_open(trigger_id=used, view=POST_PAGE)
    assert (await refused(client.views_open(trigger_id=used, view=POST_PAGE)))[
        "error"
    ] == "exchanged_trigger_id"

    late = slack.new_trigger_id("U2")
    slack.expire_trigger(late)
    assert (await refused(client.views_open(trigger_id=late, view=POST_PAGE)))[
        "error"
    ] == "expired_trigger_id"

    slack.trigger_ttl = 0.0  # Slack's is 3 s; any wait at all is too long now
    stale = slack.new_trigger_id("U2")
    assert (await refused(client.views_open(trigger_id=stale, view=POST_PAGE)))[
        "error"
    ] == "expired_trigger_id"

    not_a_modal = {**POST_PAGE, "type": "home"}
    fresh = slack.new_trigger_id("U2")
    slack.trigger_ttl = None
    assert (await refused(client.views_open(trigger_id=fresh, view=not_a_modal)))[
        "error"
    ] == "invalid_arguments"
    assert [v.trigger_id for v in slack.views] == [used]  # only the one that opened


async def test_views_update_replaces_the_view_and_checks_its_hash(slack: FakeSlack):
    client = client_of(slack)
    opened = (await client.views_open(trigger_id=slack.new_trigger_id("U2"), view=POST_PAGE))[
        "view"
    ]
    thanks = {
        "type": "modal",
        "callback_id": "approved",
        "title": {"type": "plain_text", "text": "Approved"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Thanks"}}],
    }
    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=thanks))[
        "view"
    ]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert (updated["callback_id"], updated["blocks"]) == ("approved", thanks["blocks"])
    assert updated["private_metadata"] == ""  # an update replaces the whole view

    stale = await refused(
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=thanks)
    )
    assert stale["error"] == "hash_conflict"
    missing = await refused(client.views_update(view_id="VNOPE", view=thanks))
    assert missing["error"] == "not_found"

    records = await slack.wait_for_view(user_id="U2", count=2)
    assert [(r.method, r.callback_id) for r in records] == [
        ("views.open", "approve_upload"),
        ("views.update", "approved"),
    ]
    assert slack.view(opened["id"]) == records[1]
    assert records[1].trigger_id == records[0].trigger_id  # the update keeps who and how


async def test_views_update_by_external_id_and_views_push_on_top(slack: FakeSlack):
    client = client_of(slack)
    page = {**POST_PAGE, "external_id": "upload-k1"}
    opened = (await client.views_open(trigger_id=slack.new_trigger_id("U2"), view=page))["view"]
    again = (await client.views_update(external_id="upload-k1", view=page))["view"]
    assert again["id"] == opened["id"]

    reason = {
        "type": "modal",
        "callback_id": "reject_upload_reason",
        "title": {"type": "plain_text", "text": "Reject"},
        "blocks": [],
    }
    pushed = (await client.views_push(trigger_id=slack.new_trigger_id("U2"), view=reason))["view"]
    assert pushed["previous_view_id"] == opened["id"]
    assert pushed["root_view_id"] == opened["id"]
    assert slack.last_view("U2").id == pushed["id"]  # type: ignore[union-attr]


async def test_close_view_closes_the_top_modal_and_shows_the_one_under_it(slack: FakeSlack):
    client = client_of(slack)
    opened = (await client.views_open(trigger_id=slack.new_trigger_id("U2"), view=POST_PAGE))[
        "view"
    ]
    reason = {"type": "modal", "title": {"type": "plain_text", "text": "Why"}, "blocks": []}
    pushed = (await client.views_push(trigger_id=slack.new_trigger_id("U2"), view=reason))["view"]
    await slack.close_view(pushed["id"])
    assert slack.last_view("U2").id == opened["id"]  # type: ignore[union-attr]
    await slack.close_view(opened["id"])
    assert slack.last_view("U2") is None
    assert slack.view(opened["id"]) is not None  # still on record
    assert [c.method for c in slack.calls] == ["views.open", "views.push"]  # nothing else


async def test_wait_for_view_waits_for_the_modal_and_says_what_it_saw(slack: FakeSlack):
    waiting = asyncio.ensure_future(slack.wait_for_view(user_id="U2", callback_id="approve_upload"))
    await client_of(slack).chat_postMessage(channel="C1", text="not a modal")
    assert not waiting.done()
    await client_of(slack).views_open(trigger_id=slack.new_trigger_id("U2"), view=POST_PAGE)
    (shown,) = await waiting
    assert shown.user_id == "U2"
    with pytest.raises(AssertionError, match="expected 1 view"):
        await slack.wait_for_view(user_id="U3", timeout=0.05)


# -- values_for: what a person leaves in the inputs ---------------------------------------


def test_values_for_answers_slacks_state_shape_by_block_id():
    values = values_for(
        POST_PAGE, privacy="SELF_ONLY", interactions=["comment", "stitch"], commercial=[]
    )
    assert values == {
        "caption": {  # not named: Slack sends what the input holds, its initial value
            "caption_input": {"type": "plain_text_input", "value": "Launch day & more <3"}
        },
        "privacy": {
            "privacy_select": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Only me"},
                    "value": "SELF_ONLY",
                },
            }
        },
        "interactions": {
            "interactions_boxes": {
                "type": "checkboxes",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "Comment"}, "value": "comment"},
                    {"text": {"type": "plain_text", "text": "Stitch"}, "value": "stitch"},
                ],
            }
        },
        "commercial": {"commercial_boxes": {"type": "checkboxes", "selected_options": []}},
    }
    untouched = values_for(POST_PAGE, caption="new words")
    assert untouched["caption"]["caption_input"]["value"] == "new words"
    assert untouched["privacy"]["privacy_select"] == {
        "type": "static_select",
        "selected_option": None,
    }


def test_values_for_refuses_what_the_modal_does_not_offer():
    with pytest.raises(ModalError, match="no input"):
        values_for(POST_PAGE, duet=["duet"])
    with pytest.raises(ModalError, match="offers no option 'FOLLOWER_OF_CREATOR'"):
        values_for(POST_PAGE, privacy="FOLLOWER_OF_CREATOR")
    forged = {"text": {"type": "plain_text", "text": "x"}, "value": "FOLLOWER_OF_CREATOR"}
    sent = values_for(POST_PAGE, privacy=forged)  # an option object goes as given
    assert sent["privacy"]["privacy_select"]["selected_option"] == forged


def test_unsendable_is_what_slacks_client_refuses():
    assert unsendable(POST_PAGE, values_for(POST_PAGE, privacy="SELF_ONLY")) == []
    assert unsendable(POST_PAGE, values_for(POST_PAGE)) == ["'privacy' is required"]
    too_long = values_for(POST_PAGE, caption="x" * 2201, privacy="SELF_ONLY")
    assert unsendable(POST_PAGE, too_long) == ["'caption' takes at most 2200 characters"]
    empty = values_for(POST_PAGE, caption="", privacy="SELF_ONLY")
    assert unsendable(POST_PAGE, empty) == ["'caption' is required"]
    nothing = values_for(POST_PAGE, caption="x" * 2201)
    assert unsendable_by_field(POST_PAGE, nothing) == {
        "caption": "takes at most 2200 characters",
        "privacy": "is required",
    }
    # A block_id may be any name, even the helper's own parameter's.
    view = {"blocks": [{**POST_PAGE["blocks"][0], "block_id": "view"}]}
    assert values_for(view, view="x")["view"]["caption_input"]["value"] == "x"


# -- the driver against a Bolt app: a click, the modal, its submission ---------------------


class BoltApp:
    """A small Bolt app on loopback: Review opens POST_PAGE with the click's trigger id;
    submitting it without a privacy answers `response_action: errors`, else a plain ack."""

    def __init__(self, slack: FakeSlack) -> None:
        self.submissions: list[dict[str, Any]] = []
        self.bolt = AsyncApp(
            signing_secret=slack.signing_secret,
            client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
        )
        self.bolt.action("review_upload")(self.review)
        self.bolt.view("approve_upload")(self.approve)
        web_app = web.Application()
        web_app.router.add_post("/slack/events", self.events)
        self.server = LoopbackServer(web_app)

    async def events(self, request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await self.bolt.async_dispatch(await to_bolt_request(request))
        )

    async def review(self, ack, body, client) -> None:
        await ack()
        metadata = json.dumps({"upload_key": body["actions"][0]["value"]})
        await client.views_open(
            trigger_id=body["trigger_id"], view={**POST_PAGE, "private_metadata": metadata}
        )

    async def approve(self, ack, body, view) -> None:
        self.submissions.append(body)
        privacy = view["state"]["values"]["privacy"]["privacy_select"]["selected_option"]
        if privacy is None:
            await ack(response_action="errors", errors={"privacy": "Choose who can see it"})
        else:
            await ack()


@pytest.fixture
async def bolt(slack: FakeSlack) -> AsyncIterator[BoltApp]:
    app = BoltApp(slack)
    await app.server.start()
    yield app
    await app.server.stop()


def driver_for(slack: FakeSlack, http: aiohttp.ClientSession, url: str) -> Driver:
    return Driver(http, slack, FakeTikTok(), url)


async def test_a_click_opens_the_modal_and_its_submission_reaches_bolt(
    slack: FakeSlack, http: aiohttp.ClientSession, bolt: BoltApp
):
    driver = driver_for(slack, http, bolt.server.url)
    sent = await driver.send_click("review_upload", "k7", user_id="U2")
    assert sent.status == 200
    (shown,) = await slack.wait_for_view(user_id="U2", callback_id="approve_upload")
    assert shown.private_metadata == '{"upload_key": "k7"}'

    # Forged: Slack's client would not send a required select left empty.
    with pytest.raises(ModalError, match="'privacy' is required"):
        await driver.submit_view("U2", interactions=["comment"])
    status, ack = await driver.send_view_submission(
        "approve_upload",
        shown.private_metadata,
        values_for(shown, interactions=["comment"]),
        user_id="U2",
        view_id=shown.id,
    )
    assert (status, ack) == (
        200,
        {"response_action": "errors", "errors": {"privacy": "Choose who can see it"}},
    )
    assert slack.last_view("U2") == shown  # errors keep the modal open

    status, ack = await driver.submit_view(
        "U2", caption="Edited & <b>", privacy="PUBLIC_TO_EVERYONE", interactions=["comment"]
    )
    assert (status, ack) == (200, None)
    body = bolt.submissions[-1]
    assert body["user"] == {"id": "U2", "username": "alice", "name": "alice", "team_id": "T0001"}
    assert body["view"]["id"] == shown.id and body["view"]["hash"] == shown.view["hash"]
    assert body["view"]["private_metadata"] == '{"upload_key": "k7"}'
    state = body["view"]["state"]["values"]
    assert state["caption"]["caption_input"]["value"] == "Edited & <b>"
    assert state["privacy"]["privacy_select"]["selected_option"]["value"] == "PUBLIC_TO_EVERYONE"
    assert [
        o["value"] for o in state["interactions"]["interactions_boxes"]["selected_options"]
    ] == ["comment"]
    # A plain ack closes the modal: there is nothing left to submit.
    with pytest.raises(DriverError, match="U2 has no modal open"):
        await driver.submit_view("U2", privacy="SELF_ONLY")


async def test_a_submission_signed_with_another_secret_is_refused(
    slack: FakeSlack, http: aiohttp.ClientSession, bolt: BoltApp
):
    forged = Driver(http, slack, FakeTikTok(), bolt.server.url, signing_secret="not-it")
    status, ack = await forged.send_view_submission(
        "approve_upload", "{}", values_for(POST_PAGE, privacy="SELF_ONLY"), user_id="U2"
    )
    assert (status, ack) == (401, None)
    assert bolt.submissions == []


async def test_the_view_submission_payload_is_signed_and_shaped_as_slack_sends_it(
    slack: FakeSlack, http: aiohttp.ClientSession
):
    seen: list[tuple[dict[str, str], str]] = []

    async def capture(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.text()))
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", capture)
    server = LoopbackServer(app)
    await server.start()
    try:
        driver = driver_for(slack, http, server.url)
        sent = await driver.send_click("review_upload", "k1", user_id="U2")
        values = values_for(POST_PAGE, privacy="SELF_ONLY")
        status, ack = await driver.send_view_submission(
            "approve_upload", "k1", values, user_id="U2", view_id="VGIVEN"
        )
    finally:
        await server.stop()
    assert sent.status == 200 and (status, ack) == (200, None)

    verifier = SignatureVerifier(slack.signing_secret)
    for headers, text in seen:
        assert verifier.is_valid(
            text, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
        )
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    click = json.loads(parse_qs(seen[0][1])["payload"][0])
    submission = json.loads(parse_qs(seen[1][1])["payload"][0])

    assert submission["type"] == "view_submission"
    assert submission["team"] == {"id": "T0001", "domain": "fake"}
    assert submission["user"]["id"] == "U2" and submission["user"]["team_id"] == "T0001"
    assert submission["api_app_id"] == "A1"
    view = submission["view"]
    assert (view["id"], view["type"], view["callback_id"]) == ("VGIVEN", "modal", "approve_upload")
    assert view["private_metadata"] == "k1" and view["hash"]
    assert view["state"] == {"values": values}

    # Each carries a trigger id the fake issued, good once for views.open.
    client = client_of(slack)
    for trigger in (click["trigger_id"], submission["trigger_id"]):
        assert (await client.views_open(trigger_id=trigger, view=POST_PAGE))["ok"] is True
        assert (await refused(client.views_open(trigger_id=trigger, view=POST_PAGE)))[
            "error"
        ] == "exchanged_trigger_id"
    assert [v.user_id for v in slack.views] == ["U2", "U2"]


async def test_a_commands_trigger_id_opens_a_modal_for_whoever_typed_it(
    slack: FakeSlack, http: aiohttp.ClientSession
):
    seen: list[str] = []

    async def capture(request: web.Request) -> web.Response:
        seen.append(await request.text())
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", capture)
    server = LoopbackServer(app)
    await server.start()
    try:
        await driver_for(slack, http, server.url).send_command("help", user_id="U9")
    finally:
        await server.stop()
    trigger = parse_qs(seen[0])["trigger_id"][0]
    await client_of(slack).views_open(trigger_id=trigger, view=POST_PAGE)
    assert slack.last_view("U9") is not None


async def test_an_ack_that_updates_or_pushes_changes_the_modal_the_person_sees(
    slack: FakeSlack, http: aiohttp.ClientSession
):
    thanks = {
        "type": "modal",
        "callback_id": "approved",
        "title": {"type": "plain_text", "text": "Approved"},
        "blocks": [],
    }
    acks = [
        {"response_action": "update", "view": thanks},
        {"response_action": "push", "view": {**thanks, "callback_id": "more"}},
        {"response_action": "clear"},
    ]

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(acks.pop(0))

    app = web.Application()
    app.router.add_post("/slack/events", answer)
    server = LoopbackServer(app)
    await server.start()
    try:
        driver = driver_for(slack, http, server.url)
        opened = await client_of(slack).views_open(
            trigger_id=slack.new_trigger_id("U2"), view=POST_PAGE
        )
        assert await driver.submit_view("U2", privacy="SELF_ONLY") == (
            200,
            {"response_action": "update", "view": thanks},
        )
        now = slack.last_view("U2")
        assert now is not None and (now.id, now.method) == (opened["view"]["id"], "response_action")
        assert now.callback_id == "approved"

        await driver.submit_view("U2")  # the update has no inputs: nothing to fill
        pushed = slack.last_view("U2")
        assert pushed is not None and pushed.callback_id == "more"
        assert pushed.view["previous_view_id"] == opened["view"]["id"]

        await driver.submit_view("U2")  # clear: every view in the stack closes
        assert slack.last_view("U2") is None
    finally:
        await server.stop()
