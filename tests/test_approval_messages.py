"""Every message approval before posting builds, valid by slack_sdk's Block Kit models deeply
(tests/fuzz/blockkit.py), at its limits: a 2,200-character caption full of `& < >` and emoji,
100 approvers, 256-character ids, every state of the card, the post-page and reject modals."""

from __future__ import annotations

import json
import time

import pytest

from bot.messages import approval_card as cards
from bot.messages import post_page
from bot.messages.announcements import list_message
from bot.messages.held import HeldView, held_message
from bot.uploads.post_choices import CreatorFacts
from tests.fuzz.blockkit import problems_in

CAPTION = ("Spring & <launch> \U0001f680\U0001f469\u200d\U0001f469\u200d\U0001f467 " * 80)[:2200]
APPROVERS = tuple(f"U{n:08d}" for n in range(50)) + tuple(f"S{n:08d}" for n in range(50))
LONG_KEY = "k" * 128


def view(state="awaiting_approval", **changes) -> HeldView:
    base = dict(
        upload_key=LONG_KEY,
        account="a" * 64,
        state=state,
        title=CAPTION,
        privacy_level="PUBLIC_TO_EVERYONE",
        nickname="<Brand> & \U0001f680" * 20,
        approvers=APPROVERS,
        needed=100,
        approve_by=time.time() + 3600,
        submitted_by="U" + "S" * 30,
        approved_by=APPROVERS[:49],
        reason="No & <logo> " * 42,
        avatar_url="https://p16.tiktokcdn.example/" + "a" * 2000 + ".jpeg",
        by_user="UCAROL",
        by_at=time.time(),
        video={
            "format": "mp4" * 20,
            "codec": "<h264>",
            "duration_s": 42.5,
            "width": 1080,
            "height": 1920,
            "fps": 30,
            "size_bytes": 73400320,
        },
    )
    base.update(changes)
    return HeldView(**base)


FACTS = CreatorFacts(
    nickname="<Brand> & \U0001f680" * 20,
    avatar_url="https://p16.tiktokcdn.example/a.jpeg",
    privacy_options=(
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "FOLLOWER_OF_CREATOR",
        "SELF_ONLY",
    ),
    duet_disabled=True,
    max_duration_s=30,
)


def mrkdwn_texts(node) -> list[str]:
    """Every mrkdwn text in a message (plain text, such as an image's alt text, is not
    read as markup)."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            found.append(node.get("text", ""))
        for value in node.values():
            found += mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            found += mrkdwn_texts(value)
    return found


def assert_message_valid(message: dict) -> None:
    assert problems_in("chat.postMessage", message) == []


def assert_view_valid(view_: dict) -> None:
    assert problems_in("views.open", {"view": view_}) == []


@pytest.mark.parametrize("state", ["awaiting_approval", "approved", "rejected", "expired"])
def test_the_card_in_every_state_at_its_limits(state):
    message = held_message(
        view(state), warnings=["Frame rate 120 fps: TikTok takes 23\u201360"] * 5
    )
    assert_message_valid(message)
    everything = json.dumps(message, ensure_ascii=False)
    mrkdwn = json.dumps(mrkdwn_texts(message), ensure_ascii=False)
    assert "<launch>" not in everything and "<Brand>" not in mrkdwn
    if state == "awaiting_approval":
        assert "<!subteam^S00000049>" in everything  # every approver named
        assert "49 of 100" in everything


def test_the_replies_and_answers_at_their_limits():
    v = view()
    post = {
        "privacy_level": "SELF_ONLY",
        "title": CAPTION,
        "disable_comment": False,
        "brand_content_toggle": True,
        "brand_organic_toggle": True,
    }
    edits = ["title", "privacy_level", "brand_content_toggle"]
    for message in (
        cards.approved_reply(v, "U" + "X" * 255, "web", post, edits),
        cards.rejected_reply(view("rejected")),
        cards.expired_reply(view("expired")),
        cards.approver_notice(v, "C" + "1" * 79, "https://bot.example/approve/" + "t" * 200),
        cards.counted_message(v),
        cards.rejected_message(view("rejected")),
        *(cards.refusal_message(code, v, "x" * 256) for code in cards.REFUSALS),
        cards.refusal_message("gone", None),
    ):
        assert_message_valid(message)


def test_the_post_page_modal_at_its_limits():
    modal = post_page.post_page_modal(
        view(), FACTS, "https://cdn.example.com/" + "v" * 2900, web_url="https://b.example/a/t"
    )
    assert_view_valid(modal)
    assert len(modal["private_metadata"]) <= 3000
    assert "initial_option" not in json.dumps(modal["blocks"])
    assert_view_valid(post_page.reject_modal(view()))


def test_the_modal_when_the_creator_turned_every_interaction_off():
    facts = CreatorFacts(
        privacy_options=("SELF_ONLY",),
        comment_disabled=True,
        duet_disabled=True,
        stitch_disabled=True,
    )
    modal = post_page.post_page_modal(view(title=""), facts, "http://not-https.example/v.mp4")
    assert_view_valid(modal)
    ids = [b.get("block_id") for b in modal["blocks"]]
    assert "interactions" not in ids
    assert "Comment, Duet, Stitch: turned off" in json.dumps(modal)


def test_list_with_many_waiting_for_approval_stays_within_slack_limits():
    waiting = [view(upload_key=f"k{n}", approvers=("UME", *APPROVERS[:99])) for n in range(30)]
    message = list_message([], time.time(), awaiting=waiting, user_id="UME")
    assert_message_valid(message)
    assert len(message["blocks"]) <= 50
    assert "Waiting for you" in json.dumps(message)
