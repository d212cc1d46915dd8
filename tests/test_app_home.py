"""The App Home tab: published on `app_home_opened`, and its buttons run the same functions as
the command (a Home click has no response_url: the answer is DMed and the Home republished).

Slack's side is the fake Slack: a signed `event_callback` and signed `block_actions` payloads
from a view container go in; `views.publish` and `chat.postMessage` calls come out.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from bot import messages
from sandbox.fakes.slack_requests import block_actions_payload
from tests.conftest import NOTIFY, notify, text_of

PID = "v_pub_url~v2.6001"
PID2 = "v_pub_url~v2.6002"
PID_DONE = "v_pub_url~v2.6003"
ADMIN = "UADMIN"
BOB = "UBOB"


@pytest.fixture
async def ha(h):
    await h.restart(admin_users=frozenset({ADMIN}), notify_token=NOTIFY)
    return h


# --- talking to the bot as Slack does ----------------------------------------------------


def home_opened_body(user_id: str, tab: str = "home") -> str:
    now = int(time.time())
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0001",
            "api_app_id": "A1",
            "event": {
                "type": "app_home_opened",
                "user": user_id,
                "channel": "D" + user_id,
                "tab": tab,
                "event_ts": f"{now}.000100",
            },
            "type": "event_callback",
            "event_id": f"Ev{user_id}{time.monotonic_ns()}",
            "event_time": now,
            "authorizations": [
                {
                    "team_id": "T0001",
                    "user_id": "UBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
    )


def publishes_for(h, user_id: str) -> list:
    return [c for c in h.slack.calls_to("views.publish") if c.params.get("user_id") == user_id]


async def wait_for_publish(h, user_id: str, count: int) -> dict:
    """Wait until `user_id`'s Home was published `count` times; returns the newest view."""
    await h.slack._wait(
        lambda: len(publishes_for(h, user_id)) >= count,
        10,
        lambda: f"expected {count} views.publish for {user_id}, got {publishes_for(h, user_id)}",
    )
    view = publishes_for(h, user_id)[count - 1].params["view"]
    assert isinstance(view, dict)
    return view


async def open_home(h, user_id: str = "U1") -> dict:
    before = len(publishes_for(h, user_id))
    status, _ = await h.post_slack(
        home_opened_body(user_id), extra_headers={"Content-Type": "application/json"}
    )
    assert status == 200
    return await wait_for_publish(h, user_id, before + 1)


async def home_click(h, action_id: str, value: str, user_id: str = "U1") -> None:
    """A button on the Home tab: container is the view, and Slack gives no response_url."""
    payload = block_actions_payload(action_id, value, response_url="", user_id=user_id)
    del payload["response_url"]
    del payload["channel"]
    del payload["message"]
    payload["container"] = {"type": "view", "view_id": "V1"}
    payload["view"] = {"id": "V1", "type": "home", "blocks": [], "state": {"values": {}}}
    status, _ = await h.post_slack(urlencode({"payload": json.dumps(payload)}))
    assert status == 200


def view_text(view: dict) -> str:
    parts = []
    for block in view["blocks"]:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), dict):
                parts.append(element["text"]["text"])
    return "\n".join(parts)


def view_buttons(view: dict) -> list[dict]:
    found = []
    for block in view["blocks"]:
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found.append(accessory)
        if block.get("type") == "actions":
            found.extend(e for e in block["elements"] if e.get("type") == "button")
    return found


def buttons_named(view: dict, action_id: str) -> list[dict]:
    return [b for b in view_buttons(view) if b.get("action_id") == action_id]


def dms_to(h, user_id: str) -> list:
    return [c for c in h.slack.calls_to("chat.postMessage") if c.params.get("channel") == user_id]


async def announce(h, publish_id: str, account: str = "", title: str = "") -> None:
    body = {"publish_id": publish_id, "channel": "C1"}
    if account:
        body["account"] = account
    if title:
        body["title"] = title
    status, answer = await notify(h, body)
    assert status == 201, answer


# --- what the Home shows -------------------------------------------------------------------


async def test_home_of_a_linked_user_shows_the_account_and_a_disconnect_button(h):
    await h.link("U1", open_id="open-1", display_name="Alice Own")
    view = await open_home(h, "U1")
    assert view["type"] == "home"
    shown = view_text(view)
    assert "Alice Own" in shown
    assert "open-1" in shown
    assert "<!date^" in shown  # the link's expiry
    assert len(buttons_named(view, "disconnect_tiktok")) == 1
    assert buttons_named(view, "connect_tiktok") == []
    for secret in h.tiktok.all_secrets():
        assert secret not in json.dumps(view)


async def test_home_of_an_unlinked_user_offers_a_connect_url_button(h):
    view = await open_home(h, "U1")
    (connect,) = buttons_named(view, "connect_tiktok")
    assert connect["url"].startswith(h.settings.tiktok_authorize_url + "?")
    assert buttons_named(view, "disconnect_tiktok") == []


async def test_home_lists_the_team_accounts_the_user_may_use(ha):
    h = ha
    await h.link_team("brand", open_id="open-brand", display_name="Brand Social")
    await h.link_team("video", open_id="open-video", display_name="Video Desk")
    await h.command(f"team grant brand <@{BOB}|bob>", user_id=ADMIN)

    bob = view_text(await open_home(h, BOB))
    assert "`brand`" in bob and "Brand Social" in bob
    assert "`video`" not in bob and "Video Desk" not in bob

    nobody = view_text(await open_home(h, "UNOBODY"))
    assert "`brand`" not in nobody and "`video`" not in nobody

    admin = view_text(await open_home(h, ADMIN))
    assert "`brand`" in admin and "`video`" in admin


async def test_home_lists_announced_uploads_in_flight_with_cancel_buttons(ha):
    h = ha
    await h.link("U1", open_id="open-1")
    for pid in (PID, PID2, PID_DONE):
        h.tiktok.add_upload(pid, open_id="open-1")
    await announce(h, PID, title="Spring teaser")
    await announce(h, PID2)
    await announce(h, PID_DONE)
    await h.command(PID_DONE)  # TikTok is stopping it: listed, but no Cancel button
    await h.slack.wait_for_call("chat.update")

    view = await open_home(h, "U1")

    cancels = buttons_named(view, "cancel_upload")
    assert sorted(b["value"] for b in cancels) == sorted([PID, PID2])
    assert all(b.get("confirm") for b in cancels)  # same confirm dialog as the announcement
    assert "Spring teaser" in view_text(view)


async def test_home_shows_only_the_last_ten_audit_entries_of_the_caller(ha):
    h = ha
    ids = [f"v_pub_url~v2.70{n:02d}" for n in range(1, 13)]
    for pid in ids:  # twelve attempts, none reaching TikTok
        await h.command(f"as nosuch {pid}", user_id="U1")
    await h.command("as nosuch v_pub_url~v2.7999", user_id=BOB)  # someone else's

    view = await open_home(h, "U1")

    shown = view_text(view)
    assert "last 10 actions" in shown
    history = next(b["text"]["text"] for b in view["blocks"] if "last 10" in b["text"]["text"])
    lines = [line for line in history.splitlines() if line.startswith("\u2022")]
    assert len(lines) == 10
    for pid in ids[2:]:
        assert pid in history
    for pid in ids[:2]:
        assert pid not in history
    assert "v_pub_url~v2.7999" not in shown
    assert ids[-1] in lines[0] and ids[2] in lines[-1]  # newest first
    assert h.tiktok.calls_to("cancel") == []


async def test_home_opened_on_the_messages_tab_publishes_nothing(h):
    status, _ = await h.post_slack(
        home_opened_body("U1", tab="messages"), extra_headers={"Content-Type": "application/json"}
    )
    assert status == 200
    await h.command("help")  # something later that does reach the bot
    assert publishes_for(h, "U1") == []


async def test_home_history_names_the_team_account_an_attempt_was_about(ha):
    """An `as nosuch …` attempt's history line says which account was missing."""
    h = ha
    await h.link_team("brand", open_id="open-brand")
    await h.command("as nosuch v_pub_url~v2.7101", user_id=BOB)
    await h.command("as brand v_pub_url~v2.7102", user_id=BOB)  # not granted

    history = view_text(await open_home(h, BOB))

    assert "your TikTok account" not in history
    nosuch = next(line for line in history.splitlines() if "v_pub_url~v2.7101" in line)
    assert "no team account called nosuch" in nosuch
    brand = next(line for line in history.splitlines() if "v_pub_url~v2.7102" in line)
    assert "team account brand" in brand


def test_home_history_is_plain_words_and_date_tokens():
    rows = [
        {
            "action": "disconnect",
            "outcome": "revoke_failed",
            "state": "finished",
            "started_at": "2026-11-30T01:02:03.000Z",
        },
        {
            "action": "cancel",
            "outcome": "ok",
            "state": "finished",
            "publish_id": PID,
            "started_at": "2026-11-30T01:02:03.000Z",
        },
    ]
    view = messages.home_view(None, "", False, [], [], rows, 0)
    text = "\n".join(b["text"]["text"] for b in view["blocks"] if "text" in b)
    assert "revoke_failed" not in text and " UTC \u2014" not in text
    assert "TikTok didn't confirm it forgot the access" in text
    assert "<!date^1796000523^" in text


def test_home_after_a_forgotten_link_says_it_stopped_working():
    view = messages.home_view(
        None, "https://example.com/c", False, [], [], [], 0, link_forgotten=True
    )
    text = "\n".join(b["text"]["text"] for b in view["blocks"] if "text" in b)
    assert "it stopped working, so it needs to be made again" in text
    assert "none yet" not in text


# --- buttons on the Home -------------------------------------------------------------------


async def test_home_cancel_click_cancels_once_dms_the_answer_and_republishes(ha):
    h = ha
    await h.link("U1", open_id="open-1")
    h.tiktok.add_upload(PID, open_id="open-1")
    await announce(h, PID, title="Spring teaser")
    first = await open_home(h, "U1")
    assert [b["value"] for b in buttons_named(first, "cancel_upload")] == [PID]
    dms_before = len(dms_to(h, "U1"))

    await home_click(h, "cancel_upload", PID, user_id="U1")

    republished = await wait_for_publish(h, "U1", 2)
    assert len(h.tiktok.calls_to("cancel")) == 1
    assert h.tiktok.uploads[PID].status == "FAILED"
    dms = dms_to(h, "U1")
    assert len(dms) == dms_before + 1
    assert "TikTok is stopping" in text_of(dms[-1].params)
    assert buttons_named(republished, "cancel_upload") == []  # no longer in flight
    (row,) = [r for r in h.audit_rows() if r["action"] == "cancel"]
    assert (row["user_id"], row["source"], row["outcome"]) == ("U1", "button", "ok")


async def test_home_cancel_click_on_a_team_upload_by_a_granted_user_uses_the_team_token(ha):
    h = ha
    await h.link_team("brand", open_id="open-brand", display_name="Brand Social")
    await h.command(f"team grant brand <@{BOB}>", user_id=ADMIN)
    h.tiktok.add_upload(PID, open_id="open-brand")
    await announce(h, PID, account="brand")

    await home_click(h, "cancel_upload", PID, user_id=BOB)

    await wait_for_publish(h, BOB, 1)
    (call,) = h.tiktok.calls_to("cancel")
    team_grant = [g for g in h.tiktok.grants if g.open_id == "open-brand"][-1]
    assert call.token == team_grant.access_token
    assert "TikTok is stopping" in text_of(dms_to(h, BOB)[-1].params)
    (row,) = [r for r in h.audit_rows() if r["action"] == "cancel"]
    assert (row["account_kind"], row["account_rule"]) == ("team", "announcement")


async def test_home_disconnect_click_revokes_unlinks_and_republishes_with_connect(h):
    await h.link("U1", open_id="open-1", display_name="Alice Own")
    token = h.tiktok.grants[-1].access_token
    await open_home(h, "U1")

    await home_click(h, "disconnect_tiktok", "me", user_id="U1")

    republished = await wait_for_publish(h, "U1", 2)
    assert token in h.tiktok.revoked
    assert "Unlinked" in text_of(dms_to(h, "U1")[-1].params)
    assert buttons_named(republished, "disconnect_tiktok") == []
    assert len(buttons_named(republished, "connect_tiktok")) == 1
    assert "*Your TikTok link:* none yet" in view_text(republished)
    (row,) = [r for r in h.audit_rows() if r["action"] == "disconnect"]
    assert row["outcome"] == "ok"


@pytest.mark.parametrize(
    "action, outcome, said",
    [
        ("approve_upload", "approved", "Approved an upload for brand."),
        ("reject_upload", "rejected", "Rejected an upload for brand: it will not be posted"),
        ("team_approvers", "ok", "Set who approves uploads for the team account brand."),
    ],
)
def test_the_home_history_names_approvals_and_approver_rules(action, outcome, said):
    row = {
        "action": action,
        "outcome": outcome,
        "state": "finished",
        "account": "brand",
        "started_at": "2026-12-05T09:00:00.000Z",
        "reason": "held upload run-1: via modal",
        "publish_id": "",
    }
    view = messages.home_view(None, "", False, [], [], [row], 1_796_000_000.0)
    shown = json.dumps(view)
    assert said in shown
    assert "Did something" not in shown and "didn't work" not in shown
