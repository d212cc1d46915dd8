"""TikTok's `authorization.removed` webhook: the link is forgotten and its owner told, in plain
words (which TikTok account, that TikTok says access was removed, why, what to do), or for a
team account its admins. Audited. Later answers say the link stopped working.

Signed webhooks over HTTP to the real bot; the DMs are read back from the Slack stand-in.
"""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import Block

from tests.conftest import db_rows, text_of

PID = "v_pub_url~v2.31337"
ADMIN = "UADMIN"


async def removed(h, open_id: str, content: dict) -> int:
    body = h.tiktok.webhook_body("authorization.removed", content, open_id)
    headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
    async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
        status = resp.status
    await h.bot.parts.webhooks.drain()  # applied, its DMs sent
    return status


async def linked(h, *args, team: bool = False) -> None:
    """Link (a person, or a team account) and wait for the "linked" DM, so counts are stable."""
    sent = len(h.slack.calls_to("chat.postMessage"))
    await (h.link_team(*args) if team else h.link(*args))
    await h.slack.wait_for_call("chat.postMessage", sent + 1)


def dms_to(h, user_id: str) -> list[dict]:
    return [
        c.params for c in h.slack.calls_to("chat.postMessage") if c.params["channel"] == user_id
    ]


def removals(h) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] == "authorization_removed"]


def assert_valid(message: dict) -> None:
    for block in message["blocks"]:
        Block.parse(block).validate_json()


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        (1, "the account's owner disconnected tiktok-cancel in the TikTok app"),
        (2, "the TikTok account was deleted"),
        (3, "the account's age setting changed"),
        (4, "the TikTok account was banned"),
        (5, "the TikTok app behind this bot had its access revoked by its developer"),
        (0, "TikTok didn't say why"),
        (99, "TikTok didn't say why"),
        ("4", "the TikTok account was banned"),
        ("x", "TikTok didn't say why"),
        (True, "TikTok didn't say why"),
        (None, "TikTok didn't say why"),
    ],
)
async def test_the_owner_is_told_which_account_and_why(h, reason, why):
    await linked(h, "U1", "open-1", "Brand Social")
    before = len(dms_to(h, "U1"))
    content = {} if reason is None else {"reason": reason}

    assert await removed(h, "open-1", content) == 200

    (dm,) = dms_to(h, "U1")[before:]
    text = text_of(dm)
    assert (
        "Your TikTok link to *Brand Social* stopped working: TikTok says access was removed."
        in (text)
    )
    assert f"*Why:* {why}." in text
    assert "*Next:* link your account again with `/tiktok-cancel connect`" in text
    assert "Still running" not in text  # no upload here
    assert_valid(dm)
    assert db_rows(h, "SELECT * FROM links") == []
    (tomb,) = db_rows(h, "SELECT * FROM forgotten_links")
    assert (tomb["owner"], tomb["reason"]) == ("U1", "authorization_removed")
    (entry,) = removals(h)
    assert (entry["user_id"], entry["account"], entry["open_id"], entry["outcome"]) == (
        "U1",
        "Brand Social",
        "open-1",
        "link_forgotten",
    )
    assert why in entry["reason"]


async def test_after_removal_answers_say_the_link_stopped_working(h):
    await linked(h, "U1", "open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    await removed(h, "open-1", {"reason": 1})
    calls = len(h.tiktok.calls)

    answer = text_of(await h.command(PID))
    whoami = text_of(await h.command("whoami"))

    assert "haven't linked" not in answer and "haven't linked" not in whoami
    assert "your TikTok link stopped working and needs to be made again" in answer
    assert "Your TikTok link to *Brand Social* stopped working" in whoami
    assert "TikTok says access was removed (the account's owner disconnected" in whoami
    assert len(h.tiktok.calls) == calls  # nothing was sent to TikTok


async def test_a_team_account_removal_tells_the_admins(h):
    await h.restart(admin_users=frozenset({ADMIN, "UADMIN2"}))
    await linked(h, "brand", ADMIN, "open-brand", "Brand Team", team=True)
    await h.command("team grant brand <@U2>", user_id=ADMIN)
    before = {u: len(dms_to(h, u)) for u in (ADMIN, "UADMIN2", "U2")}

    assert await removed(h, "open-brand", {"reason": 4}) == 200

    for admin in (ADMIN, "UADMIN2"):
        (dm,) = dms_to(h, admin)[before[admin] :]
        text = text_of(dm)
        assert "The team account `brand` (TikTok account *Brand Team*) stopped working" in text
        assert "TikTok says access was removed." in text
        assert "*Why:* the TikTok account was banned." in text
        assert "`/tiktok-cancel team connect brand` (its grants are kept)" in text
        assert "<@UADMIN>, <@UADMIN2>, or any workspace admin or owner" in text
        assert_valid(dm)
    assert dms_to(h, "U2")[before["U2"] :] == []  # people granted it learn when they use it
    (entry,) = removals(h)
    assert (entry["account"], entry["account_kind"], entry["outcome"]) == (
        "brand",
        "team",
        "link_forgotten",
    )
    answer = text_of(await h.command(f"as brand {PID}", user_id="U2"))
    assert "the team account brand stopped working and needs to be linked again" in answer
    assert "there is no team account" not in answer


async def test_the_admin_who_linked_a_team_account_is_told_without_admin_users(h):
    h.slack.set_user("UWS", is_admin=True)
    await linked(h, "brand", "UWS", "open-brand", "Brand Team", team=True)
    before = len(dms_to(h, "UWS"))

    await removed(h, "open-brand", {"reason": 1})

    (dm,) = dms_to(h, "UWS")[before:]
    assert "The team account `brand`" in text_of(dm)
    assert "any workspace admin or owner" in text_of(dm)


async def test_a_redelivered_removal_tells_once(h):
    await linked(h, "U1", "open-1", "Brand Social")
    before = len(dms_to(h, "U1"))
    body = h.tiktok.webhook_body("authorization.removed", {"reason": 1}, "open-1")
    headers = {"TikTok-Signature": h.tiktok.sign_webhook(body)}
    for _ in range(2):
        async with h.session.post(h.url + "/tiktok/webhook", data=body, headers=headers) as resp:
            assert resp.status == 200
        await h.bot.parts.webhooks.drain()

    assert len(dms_to(h, "U1")[before:]) == 1
    assert len(removals(h)) == 1


async def test_removal_of_an_account_nobody_linked_tells_nobody(h):
    await linked(h, "U1", "open-1", "Brand Social")
    before = len(h.slack.calls_to("chat.postMessage"))

    assert await removed(h, "open-9", {"reason": 1}) == 200

    assert len(h.slack.calls_to("chat.postMessage")) == before
    assert len(db_rows(h, "SELECT * FROM links")) == 1
    assert removals(h) == []


async def test_relinking_after_removal_works_and_clears_the_notice(h):
    await linked(h, "U1", "open-1", "Brand Social")
    await removed(h, "open-1", {"reason": 1})

    await linked(h, "U1", "open-1", "Brand Social")

    assert db_rows(h, "SELECT * FROM forgotten_links") == []
    assert "You act as *Brand Social*" in text_of(await h.command("whoami"))


async def test_disconnect_after_removal_lets_go_of_the_forgotten_link(h):
    await linked(h, "U1", "open-1", "Brand Social")
    await removed(h, "open-1", {"reason": 2})

    answer = text_of(await h.command("disconnect"))

    assert "nothing to unlink" in answer
    assert db_rows(h, "SELECT * FROM forgotten_links") == []
    assert "haven't linked" in text_of(await h.command("whoami"))
