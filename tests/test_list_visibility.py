"""`list` and the App Home show an announced upload only to people who can see its channel:
everyone for a public channel, members for a private channel, group DM or DM. Slack is asked
(conversations.info, conversations.members on the fake Slack) and the answers are remembered
briefly; when Slack can't be asked, those uploads are hidden and the answer says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.fakes import Reply
from tests.conftest import NOTIFY, notify, text_of
from tests.fuzz.blockkit import problems_in
from tests.test_app_home import open_home, view_buttons

PUBLIC_PID = "v_pub_url~v2.7001"
PRIVATE_PID = "v_pub_url~v2.7002"
DM_PID = "v_pub_url~v2.7003"
PUBLIC = "CPUBLIC"
PRIVATE = "GSECRET"
MEMBER = "UMEMBER"
OUTSIDER = "UOUTSIDER"
HIDDEN_LINE = (
    "Some uploads may be hidden: we couldn't ask Slack who can see the channels they were "
    "announced in. Try again in a minute."
)
NONE_SHOWN = (
    "We couldn't ask Slack who can see the channels uploads were announced in, so none are "
    "shown. Try again in a minute."
)


@pytest.fixture
async def hv(h):
    await h.restart(notify_token=NOTIFY)
    h.slack.set_channel(PRIVATE, private=True, members=[MEMBER])
    await announce(h, PUBLIC_PID, PUBLIC, "Public teaser")
    await announce(h, PRIVATE_PID, PRIVATE, "Secret launch")
    return h


async def announce(h, publish_id: str, channel: str, title: str) -> None:
    status, body = await notify(h, {"publish_id": publish_id, "channel": channel, "title": title})
    assert status == 201, body


def cancel_values(message: dict) -> list[str]:
    return sorted(
        b["value"]
        for b in view_buttons(message)  # accessories, as list and Home both carry them
        if b.get("action_id") == "cancel_upload"
    )


def assert_valid_message(message: dict) -> None:
    assert problems_in("response_url", message) == []  # Block Kit, deeply (slack_sdk models)


def assert_valid_view(view: dict) -> None:
    assert problems_in("views.publish", {"view": view}) == []


def visibility_calls(h) -> list:
    return h.slack.calls_to("conversations.info") + h.slack.calls_to("conversations.members")


# --- who sees what ---------------------------------------------------------------------------


async def test_a_private_channels_upload_is_hidden_from_a_non_member_in_list(hv):
    answer = await hv.command("list", user_id=OUTSIDER)

    assert cancel_values(answer) == [PUBLIC_PID]
    shown = text_of(answer)
    assert "Public teaser" in shown
    assert "Secret launch" not in shown and PRIVATE_PID not in str(answer)
    assert HIDDEN_LINE not in shown  # Slack answered: nothing unknown to own up to
    assert_valid_message(answer)
    assert hv.audit_rows() == []  # listing is not an attempt


async def test_a_private_channels_upload_is_shown_to_a_member_in_list(hv):
    answer = await hv.command("list", user_id=MEMBER)

    assert cancel_values(answer) == sorted([PUBLIC_PID, PRIVATE_PID])
    assert "Secret launch" in text_of(answer)
    assert HIDDEN_LINE not in text_of(answer)
    assert_valid_message(answer)


async def test_home_hides_a_private_channels_upload_from_a_non_member_and_shows_it_to_a_member(
    hv,
):
    outsider = await open_home(hv, OUTSIDER)
    assert cancel_values(outsider) == [PUBLIC_PID]
    assert "Secret launch" not in text_of(outsider)
    assert PRIVATE_PID not in str(outsider)
    assert_valid_view(outsider)

    member = await open_home(hv, MEMBER)
    assert cancel_values(member) == sorted([PUBLIC_PID, PRIVATE_PID])
    assert "Secret launch" in text_of(member)
    assert_valid_view(member)


async def test_a_public_channels_upload_is_shown_to_everyone(hv):
    for user in (OUTSIDER, MEMBER, "USOMEONE"):
        answer = await hv.command("list", user_id=user)
        assert PUBLIC_PID in cancel_values(answer), user
        assert "Public teaser" in text_of(answer)


async def test_a_dm_and_a_group_dm_are_seen_only_by_their_members(hv):
    h = hv
    h.slack.set_channel("GMPIM", type="mpim", members=[MEMBER, "UOTHER"])
    await announce(h, DM_PID, "GMPIM", "Group chat upload")
    await announce(h, "v_pub_url~v2.7004", "D" + OUTSIDER, "Direct upload")

    member = cancel_values(await h.command("list", user_id=MEMBER))
    outsider = cancel_values(await h.command("list", user_id=OUTSIDER))

    assert member == sorted([PUBLIC_PID, PRIVATE_PID, DM_PID])
    assert outsider == sorted([PUBLIC_PID, "v_pub_url~v2.7004"])


async def test_someone_added_to_the_private_channel_sees_it_once_the_memory_expires(hv):
    h = hv
    assert cancel_values(await h.command("list", user_id=OUTSIDER)) == [PUBLIC_PID]
    h.slack.add_member(PRIVATE, OUTSIDER)
    # as after its 60 s: the next ask goes to Slack
    h.bot.parts.router.in_flight.visibility.forget()

    assert cancel_values(await h.command("list", user_id=OUTSIDER)) == sorted(
        [PUBLIC_PID, PRIVATE_PID]
    )


async def test_members_are_read_across_pages(hv):
    h = hv
    crowd = [f"U{n:05d}" for n in range(2500)]
    h.slack.set_members(PRIVATE, [*crowd, MEMBER])

    answer = await h.command("list", user_id=MEMBER)

    assert cancel_values(answer) == sorted([PUBLIC_PID, PRIVATE_PID])
    pages = [c for c in h.slack.calls_to("conversations.members") if c.params["channel"] == PRIVATE]
    assert len(pages) == 3  # 2 502 members at 1 000 a page


# --- Slack can't be asked: fail closed, and say so ------------------------------------------


async def test_slack_failing_hides_private_and_unknown_channels_and_the_answer_says_so(hv):
    h = hv
    h.slack.fail("conversations.members", error="internal_error", times=1)

    answer = await h.command("list", user_id=MEMBER)

    assert PRIVATE_PID not in cancel_values(answer)
    assert "Secret launch" not in text_of(answer)
    assert HIDDEN_LINE in text_of(answer)
    assert_valid_message(answer)


async def test_slack_down_for_every_channel_shows_none_and_says_why(hv):
    h = hv
    h.slack.fail_http("conversations.info", status=500, times=20)  # slack_sdk retries 5xx

    answer = await h.command("list", user_id=MEMBER)

    assert cancel_values(answer) == []
    assert text_of(answer).startswith(NONE_SHOWN)
    assert "No announced uploads are still running" not in text_of(answer)
    assert_valid_message(answer)


async def test_slack_failing_hides_private_uploads_on_home_and_the_home_says_so(hv):
    h = hv
    h.slack.fail("conversations.members", error="ratelimited_forever", times=1)

    view = await open_home(h, MEMBER)

    assert cancel_values(view) == [PUBLIC_PID]
    assert HIDDEN_LINE in text_of(view)
    assert_valid_view(view)


async def test_slack_down_on_home_says_unknown_instead_of_none(hv):
    h = hv
    h.slack.fail("conversations.info", error="internal_error", times=2)

    view = await open_home(h, MEMBER)

    assert cancel_values(view) == []
    shown = text_of(view)
    assert "*Uploads still running:* unknown." in shown
    assert "*Uploads still running:* none." not in shown
    assert_valid_view(view)


async def test_slack_not_answering_hides_the_upload_within_the_time_budget(hv):
    h = hv
    h.slack.script("conversations.members", Reply(hang=True))

    answer = await h.command("list", user_id=MEMBER)  # waits 20 s at most

    assert cancel_values(answer) == [PUBLIC_PID]
    assert HIDDEN_LINE in text_of(answer)


async def test_a_failure_is_not_remembered_the_next_list_asks_again(hv):
    h = hv
    h.slack.fail("conversations.members", error="internal_error", times=1)
    first = await h.command("list", user_id=MEMBER)
    assert PRIVATE_PID not in cancel_values(first)

    second = await h.command("list", user_id=MEMBER)

    assert cancel_values(second) == sorted([PUBLIC_PID, PRIVATE_PID])
    assert HIDDEN_LINE not in text_of(second)


# --- the memory keeps Slack calls down -------------------------------------------------------


async def test_the_memory_limits_slack_calls(hv):
    h = hv
    for user in (OUTSIDER, MEMBER, OUTSIDER, "UTHIRD"):
        await h.command("list", user_id=user)
    await open_home(h, MEMBER)
    await open_home(h, OUTSIDER)

    info = sorted(c.params["channel"] for c in h.slack.calls_to("conversations.info"))
    members = [c.params["channel"] for c in h.slack.calls_to("conversations.members")]
    assert info == [PUBLIC, PRIVATE]  # once per channel, not per person or per request
    assert members == [PRIVATE]  # public channels need no member list
    assert len(visibility_calls(h)) == 3


def test_the_manifest_asks_for_the_scopes_visibility_needs():
    manifest = (Path(__file__).resolve().parents[1] / "manifest.yml").read_text()
    for scope in ("channels:read", "groups:read", "mpim:read", "im:read"):
        assert f"- {scope} " in manifest, scope


# --- the Slack stand-in's conversations, through slack_sdk ------------------------------------


async def test_the_fake_slack_describes_and_pages_conversations_as_slack_does(slack):
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    slack.set_channel("GPRIV", members=["UA", "UB", "UC"])
    slack.set_channel("GMP", type="mpim", members=["UA", "UD"])

    public = (await client.conversations_info(channel="CANY"))["channel"]
    private = (await client.conversations_info(channel="GPRIV"))["channel"]
    dm = (await client.conversations_info(channel="DUA"))["channel"]
    assert (public["is_private"], public["is_im"], public["is_mpim"]) == (False, False, False)
    assert (private["is_private"], private["is_channel"]) == (True, True)
    assert (dm["is_im"], dm["user"]) == (True, "UA")

    first = await client.conversations_members(channel="GPRIV", limit=2)
    assert first["members"] == ["UBOT", "UA"]
    cursor = first["response_metadata"]["next_cursor"]
    second = await client.conversations_members(channel="GPRIV", limit=2, cursor=cursor)
    assert second["members"] == ["UB", "UC"]
    assert second["response_metadata"]["next_cursor"] == ""

    slack.remove_member("GPRIV", "UB")
    slack.add_member("GPRIV", "UE")
    again = await client.conversations_members(channel="GPRIV")
    assert again["members"] == ["UBOT", "UA", "UC", "UE"]

    mine = await client.users_conversations(user="UA", types="private_channel,mpim")
    assert sorted(c["id"] for c in mine["channels"]) == ["GMP", "GPRIV"]
    assert [c.method for c in slack.calls][-1] == "users.conversations"


async def test_with_nothing_visible_list_and_home_say_none_in_channels_you_can_see(h):
    await h.restart(notify_token=NOTIFY)
    h.slack.set_channel(PRIVATE, private=True, members=[MEMBER])
    await announce(h, PRIVATE_PID, PRIVATE, "Secret launch")

    answer = await h.command("list", user_id=OUTSIDER)
    view = await open_home(h, OUTSIDER)

    assert text_of(answer) == (
        "No announced uploads are still running or held in channels you can see. "
        "Nothing to cancel.\n"
        "No announced uploads are still running or held in channels you can see. "
        "Nothing to cancel."
    )  # the notification text, then the section
    assert "*Uploads still running or held:* none in channels you can see." in text_of(view)
    assert "Secret launch" not in text_of(view)
    assert_valid_message(answer)
    assert_valid_view(view)
