"""An upload announced in a private channel stays private through every door: `status <id>`,
`cancel <id>`, the Cancel button, `explain` and the App Home answer someone outside the channel
without its title (the ID they typed is all they are shown), without who else asked to cancel
it, and without pointing at an announcement or thread they can't open. Members see it all.

Who is in the channel is the fake Slack's (`conversations.info`, `conversations.members`);
TikTok still decides whether the outsider's own account may act on the upload.
"""

from __future__ import annotations

import pytest

from tests.conftest import NOTIFY, notify, text_of
from tests.fuzz.blockkit import problems_in
from tests.test_app_home import open_home
from tests.upload_helpers import settle, thread_posts, wait_until

PID = "v_pub_url~v2.6161"
PRIVATE = "GSECRET"
TITLE = "Secret launch"
MEMBER = "UMEMBER"
OUTSIDER = "UOUTSIDER"
THREAD_WORDS = "announcement"  # "we'll confirm on the announcement and in its thread"


@pytest.fixture
async def hp(h):
    await h.restart(notify_token=NOTIFY)
    h.slack.set_channel(PRIVATE, private=True, members=[MEMBER])
    h.tiktok.add_user("open-out", "Outsider's Own")
    h.tiktok.add_upload(PID, open_id="open-out")  # the outsider's account may act on it
    await h.link(OUTSIDER, "open-out", "Outsider's Own")
    status, body = await notify(h, {"publish_id": PID, "channel": PRIVATE, "title": TITLE})
    assert status == 201, body
    h.announced_ts = body["ts"]
    return h


def assert_only_the_id(answer: dict) -> None:
    shown = str(answer)
    assert TITLE not in shown
    assert PID in text_of(answer)
    assert problems_in("response_url", answer) == []


async def test_status_of_a_private_channels_upload_shows_an_outsider_only_the_id(hp):
    answer = await hp.command(f"status {PID}", user_id=OUTSIDER)

    assert_only_the_id(answer)
    assert "Upload `v_pub_url~v2.6161` is still downloading" in text_of(answer)  # by its ID
    assert "Cancel upload" in str(answer)  # still downloading: the button, named by its ID


async def test_status_shows_a_member_the_title(hp):
    await hp.link(MEMBER, "open-out", "Outsider's Own")
    answer = await hp.command(f"status {PID}", user_id=MEMBER)

    assert "\u201cSecret launch\u201d" in text_of(answer)


async def test_cancel_command_by_an_outsider_shows_only_the_id_and_the_thread_still_tells_all(hp):
    answer = await hp.command(PID, user_id=OUTSIDER)

    assert_only_the_id(answer)
    text = text_of(answer)
    assert "TikTok is stopping upload `v_pub_url~v2.6161`." in text
    assert THREAD_WORDS not in text and "thread" not in text  # nowhere they could look
    assert f"check with `/tiktok-cancel status {PID}` in a minute" in text
    await settle(hp)
    # the channel's members still read the whole story in the announcement's thread
    await wait_until(lambda: thread_posts(hp, hp.announced_ts), what="the thread's audit post")
    (post,) = thread_posts(hp, hp.announced_ts)
    assert post.params["channel"] == PRIVATE
    assert TITLE in text_of(post.params) and f"<@{OUTSIDER}>" in text_of(post.params)


async def test_cancel_button_by_an_outsider_shows_only_the_id(hp):
    answer = await hp.click("cancel_upload", PID, user_id=OUTSIDER)

    assert_only_the_id(answer)
    assert THREAD_WORDS not in text_of(answer)


async def test_a_second_cancel_does_not_tell_an_outsider_who_asked_first(hp):
    first = await hp.command(PID, user_id=OUTSIDER)  # TikTok is stopping it now
    assert "TikTok is stopping" in text_of(first)
    await settle(hp)
    hp.slack.add_member(PRIVATE, OUTSIDER)
    hp.bot.parts.router.private.visibility.forget()
    member_view = text_of(await hp.command(PID, user_id=OUTSIDER))
    assert f"<@{OUTSIDER}> asked TikTok to cancel it" in member_view  # a member is told who
    assert TITLE in member_view

    hp.slack.remove_member(PRIVATE, OUTSIDER)
    hp.bot.parts.router.private.visibility.forget()
    answer = await hp.command(PID, user_id=OUTSIDER)

    assert_only_the_id(answer)
    text = text_of(answer)
    assert "Someone asked TikTok to cancel it" in text
    assert f"<@{OUTSIDER}> asked" not in text


async def test_when_slack_cant_say_who_is_in_the_channel_only_the_id_is_shown(hp):
    await hp.link(MEMBER, "open-out", "Outsider's Own")
    hp.slack.fail("conversations.info", "internal_error", times=5)

    answer = await hp.command(f"status {PID}", user_id=MEMBER)

    assert_only_the_id(answer)


async def test_explain_and_the_home_show_an_outsider_nothing_of_it(hp):
    explained = await hp.command(f"explain {PID}", user_id=OUTSIDER)
    assert TITLE not in str(explained)

    home = await open_home(hp, OUTSIDER)
    assert TITLE not in str(home) and PID not in str(home)


async def test_a_public_channels_upload_shows_its_title_to_everyone(hp):
    public_pid = "v_pub_url~v2.6262"
    hp.tiktok.add_upload(public_pid, open_id="open-out")
    status, _ = await notify(hp, {"publish_id": public_pid, "channel": "CPUB", "title": "Open"})
    assert status == 201

    answer = await hp.command(f"status {public_pid}", user_id=OUTSIDER)

    assert "\u201cOpen\u201d" in text_of(answer)
