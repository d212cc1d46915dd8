"""Team accounts: admins, `team connect|grant|revoke|remove`, `as <account>`, `accounts`, the
one token rule (a shared refresh is in test_token_refresh.py, the CLI's `accounts` and
`audit export` in test_cli_accounts.py and test_cli_audit_export.py).

Driven over HTTP like everything else: signed slash commands and clicks, the OAuth round trip
through the fake TikTok, `POST /notifications` for announced uploads. Each test checks what
the person reads, which token TikTok saw, and what landed in SQLite.
"""

from __future__ import annotations

import json

import pytest

from tests.accounts import (
    BOB,
    CAROL,
    assert_no_secrets,
    cancel_calls,
    cancel_rows,
    decrypt,
    grant_of,
    team_links,
    team_with_bob,
)
from tests.conftest import (
    NOTIFY,
    button_urls,
    buttons,
    db_bytes,
    db_rows,
    notify,
    text_of,
)

PID = "v_pub_url~v2.5001"
ADMIN = "UADMIN"
DAVE = "UDAVE"  # not granted, no link
NOBODY = "UNOBODY"  # an ordinary workspace member


@pytest.fixture
async def ha(h):
    """The harness with UADMIN in ADMIN_USERS and POST /notifications enabled."""
    await h.restart(admin_users=frozenset({ADMIN}), notify_token=NOTIFY)
    return h


# --- reading SQLite and TikTok's side -------------------------------------------------------


def grants_of(h, account: str = "brand") -> list[str]:
    found = db_rows(h, "SELECT user_id FROM grants WHERE account = ? ORDER BY user_id", account)
    return [r["user_id"] for r in found]


def snapshot(h) -> dict:
    """Everything a team command could change, to compare before and after."""
    return {
        "links": db_rows(h, "SELECT * FROM links ORDER BY kind, owner"),
        "grants": db_rows(h, "SELECT * FROM grants ORDER BY account, user_id"),
        "states": db_rows(h, "SELECT * FROM oauth_states ORDER BY created_at"),
        "audit": db_rows(h, "SELECT * FROM audit ORDER BY id"),
    }


async def announce(h, publish_id: str, account: str = "brand", title: str = "") -> dict:
    body = {"publish_id": publish_id, "channel": "C1", "account": account}
    if title:
        body["title"] = title
    status, answer = await notify(h, body)
    assert status == 201, answer
    return answer


# --- who is an admin -------------------------------------------------------------------------


NON_ADMIN_COMMANDS = [
    "team connect brand",
    "team connect newbrand",
    f"team grant brand <@{DAVE}|dave>",
    f"team revoke brand <@{BOB}>",
    "team remove brand",
]


@pytest.mark.parametrize("text", NON_ADMIN_COMMANDS)
async def test_non_admin_is_told_who_can_and_nothing_changes(ha, text):
    h = ha
    await team_with_bob(h)
    h.slack.set_user(NOBODY)  # an ordinary member: neither admin nor owner
    before = snapshot(h)
    tiktok_calls = len(h.tiktok.calls)

    answer = await h.command(text, user_id=NOBODY)

    shown = text_of(answer)
    assert "Only admins manage team accounts" in shown
    assert "nothing changed" in shown
    assert f"<@{ADMIN}>" in shown
    assert "workspace admin or owner" in shown
    assert button_urls(answer) == []  # no consent link for a non-admin
    assert snapshot(h) == before  # no state row, no grant, no link, no audit change
    assert len(h.tiktok.calls) == tiktok_calls


async def test_workspace_admin_may_manage_without_admin_users_and_users_info_is_cached(ha):
    h = ha
    h.slack.set_user("UWSADMIN", is_admin=True)
    await h.link_team(admin="UWSADMIN")
    assert grants_of(h) == ["UWSADMIN"]
    grant = await h.command(f"team grant brand <@{BOB}>", user_id="UWSADMIN")
    assert f"<@{BOB}> may now act with" in text_of(grant)
    listing = await h.command("accounts", user_id="UWSADMIN")
    assert "*Team accounts*" in text_of(listing)

    asked = [c for c in h.slack.calls_to("users.info") if c.params.get("user") == "UWSADMIN"]
    # three admin checks share one users.info; the confirm page asked once more, for the name
    assert len(asked) == 2
    assert grants_of(h) == sorted([BOB, "UWSADMIN"])


async def test_workspace_owner_may_remove_a_team_account(ha):
    h = ha
    await team_with_bob(h)
    h.slack.set_user("UOWNER", is_owner=True)
    answer = await h.command("team remove brand", user_id="UOWNER")
    assert "Removed the team account" in text_of(answer)
    assert team_links(h) == []


async def test_ordinary_member_per_users_info_is_refused_and_the_answer_is_cached(ha):
    h = ha
    await h.link_team()
    h.slack.set_user(NOBODY)
    for text in ("team connect other", f"team grant brand <@{NOBODY}>"):
        answer = await h.command(text, user_id=NOBODY)
        assert "Only admins manage team accounts" in text_of(answer)
    asked = [c for c in h.slack.calls_to("users.info") if c.params.get("user") == NOBODY]
    assert len(asked) == 1
    assert grants_of(h) == [ADMIN]


async def test_admin_users_members_are_not_looked_up(ha):
    h = ha
    await team_with_bob(h)
    asked = [c for c in h.slack.calls_to("users.info") if c.params.get("user") == ADMIN]
    assert len(asked) == 1  # the confirm page's name only; never to check admin-ness
    before = len(h.slack.calls_to("users.info"))
    await h.command("team revoke brand <@UBOB>", user_id=ADMIN)
    assert len(h.slack.calls_to("users.info")) == before


async def test_without_admin_users_the_refusal_points_at_workspace_admins(h):
    h.slack.set_user(NOBODY)
    answer = await h.command("team connect brand", user_id=NOBODY)
    shown = text_of(answer)
    assert "Only admins manage team accounts" in shown
    assert "any workspace admin or owner" in shown
    assert db_rows(h, "SELECT * FROM oauth_states") == []


# --- team connect ----------------------------------------------------------------------------


async def test_team_connect_offers_consent_bound_to_the_team_account(ha):
    h = ha
    answer = await h.command("team connect brand", user_id=ADMIN)
    assert "`brand`" in text_of(answer)
    (button,) = [b for b in buttons(answer) if b.get("action_id") == "connect_tiktok"]
    assert button["url"].startswith(h.settings.tiktok_authorize_url + "?")
    (state,) = db_rows(h, "SELECT * FROM oauth_states")
    assert (state["user_id"], state["kind"], state["owner"]) == (ADMIN, "team", "brand")
    assert team_links(h) == []  # nothing linked until TikTok's consent comes back


async def test_team_connect_stores_an_encrypted_team_link_and_grants_the_admin(ha):
    h = ha
    page = await h.link_team(display_name="Brand Social")
    assert "Brand Social" in page

    (row,) = team_links(h)
    grant = grant_of(h, "open-brand")
    assert (row["owner"], row["open_id"], row["display_name"]) == (
        "brand",
        "open-brand",
        "Brand Social",
    )
    assert row["linked_by"] == ADMIN
    assert decrypt(h, row["access_token"]) == grant.access_token
    assert decrypt(h, row["refresh_token"]) == grant.refresh_token
    raw = db_bytes(h)
    assert grant.access_token.encode() not in raw
    assert grant.refresh_token.encode() not in raw
    assert db_rows(h, "SELECT * FROM links WHERE kind = 'user'") == []  # not the admin's own link

    assert grants_of(h) == [ADMIN]
    (linked,) = [r for r in h.audit_rows() if r["action"] == "team_connect"]
    assert (linked["user_id"], linked["account_kind"], linked["outcome"]) == (
        ADMIN,
        "team",
        "ok",
    )
    assert linked["open_id"] == "open-brand"
    (used,) = db_rows(h, "SELECT used_at FROM oauth_states")
    assert used["used_at"]

    dms = await h.slack.wait_for_call("chat.postMessage")
    (dm,) = [c for c in dms if c.params.get("channel") == ADMIN]
    assert "`brand`" in text_of(dm.params)


async def test_team_connect_again_replaces_the_tokens(ha):
    h = ha
    await team_with_bob(h)
    first = grant_of(h, "open-brand")
    h.tiktok.add_user(open_id="open-brand-2", display_name="Brand Social 2")
    await h.link_team(open_id="open-brand-2")

    (row,) = team_links(h)
    second = grant_of(h, "open-brand-2")
    assert row["open_id"] == "open-brand-2"
    assert row["display_name"] == "Brand Social 2"
    assert decrypt(h, row["access_token"]) == second.access_token
    assert decrypt(h, row["refresh_token"]) == second.refresh_token
    assert first.access_token.encode() not in db_bytes(h)
    assert grants_of(h) == sorted([ADMIN, BOB])  # grants survive a re-link

    h.tiktok.add_upload(PID, open_id="open-brand-2")
    answer = await h.command(f"as brand {PID}", user_id=BOB)
    assert "TikTok is stopping" in text_of(answer)
    (call,) = cancel_calls(h)
    assert call.token == second.access_token


async def test_team_connect_with_a_bad_account_name_is_a_usage_answer(ha):
    h = ha
    answer = await h.command("team connect br@nd!", user_id=ADMIN)
    assert "isn't a team account name" in text_of(answer)
    assert db_rows(h, "SELECT * FROM oauth_states") == []


# --- team grant / revoke ---------------------------------------------------------------------


async def test_grant_and_revoke_with_escaped_and_plain_mentions_land_in_the_audit(ha):
    h = ha
    await h.link_team()

    granted = await h.command(f"team grant brand <@{BOB}|bob> <@{CAROL}>", user_id=ADMIN)
    shown = text_of(granted)
    assert f"<@{BOB}>" in shown and f"<@{CAROL}>" in shown
    assert "may now act with" in shown
    assert grants_of(h) == sorted([ADMIN, BOB, CAROL])
    (row,) = db_rows(h, "SELECT * FROM grants WHERE user_id = ?", BOB)
    assert row["granted_by"] == ADMIN

    again = await h.command(f"team grant brand <@{BOB}|bob>", user_id=ADMIN)
    assert "already could" in text_of(again)

    revoked = await h.command(f"team revoke brand <@{CAROL}|carol>", user_id=ADMIN)
    assert f"<@{CAROL}> may no longer act with" in text_of(revoked)
    assert grants_of(h) == sorted([ADMIN, BOB])

    changes = [r for r in h.audit_rows() if r["action"] in ("grant", "revoke")]
    assert [(r["action"], r["account"], r["user_id"]) for r in changes] == [
        ("grant", "brand", ADMIN),
        ("revoke", "brand", ADMIN),
    ]  # the repeated grant changed nothing, so it wrote nothing
    assert set(changes[0]["reason"].split(",")) == {BOB, CAROL}
    assert changes[1]["reason"] == CAROL
    assert all(r["account_kind"] == "team" for r in changes)


async def test_grant_with_a_bad_mention_is_a_usage_answer(ha):
    h = ha
    await h.link_team()
    before = snapshot(h)
    answer = await h.command("team grant brand bob", user_id=ADMIN)
    assert "isn't a Slack mention" in text_of(answer)
    answer = await h.command("team grant brand", user_id=ADMIN)
    assert "Whom?" in text_of(answer)
    assert snapshot(h) == before


@pytest.mark.parametrize(
    "text", ["team grant nosuch <@UBOB>", "team revoke nosuch <@UBOB>", "team remove nosuch"]
)
async def test_team_commands_on_an_unknown_account_say_so(ha, text):
    h = ha
    await h.link_team()
    before = snapshot(h)
    answer = await h.command(text, user_id=ADMIN)
    assert "There is no team account `nosuch`" in text_of(answer)
    assert h.tiktok.calls_to("revoke") == []
    assert snapshot(h)["grants"] == before["grants"]
    assert snapshot(h)["links"] == before["links"]


# --- the token rule: as <account> ------------------------------------------------------------


async def test_as_account_granted_cancels_with_the_team_token(ha):
    h = ha
    await team_with_bob(h)
    await h.link(BOB, open_id="open-bob", display_name="Bob Himself")  # his own link loses
    h.tiktok.add_upload(PID, open_id="open-brand")

    answer = await h.command(f"as brand {PID} wrong cut", user_id=BOB)

    assert "TikTok is stopping" in text_of(answer)
    (call,) = cancel_calls(h)
    assert call.token == grant_of(h, "open-brand").access_token
    (row,) = cancel_rows(h)
    assert (row["account_kind"], row["account_rule"], row["open_id"]) == (
        "team",
        "as",
        "open-brand",
    )
    assert row["account"] == "Brand Social"
    assert (row["user_id"], row["outcome"], row["reason"]) == (BOB, "ok", "wrong cut")


async def test_as_account_not_granted_says_who_can_grant_and_calls_nobody(ha):
    h = ha
    await team_with_bob(h)
    await h.link(CAROL, open_id="open-carol", display_name="Carol")  # a link is not a grant
    h.tiktok.add_upload(PID, open_id="open-brand")

    answer = await h.command(f"as brand {PID}", user_id=CAROL)

    shown = text_of(answer)
    assert "haven't been given the team account brand" in shown
    assert "Who can grant it" in shown
    assert f"<@{ADMIN}>" in shown
    assert cancel_calls(h) == []
    (row,) = cancel_rows(h)
    assert (row["user_id"], row["outcome"]) == (CAROL, "not_granted")


async def test_as_unknown_account_says_there_is_no_such_account(ha):
    h = ha
    await team_with_bob(h)
    answer = await h.command(f"as nosuch {PID}", user_id=BOB)
    assert "there is no team account called nosuch" in text_of(answer)
    assert cancel_calls(h) == []
    (row,) = cancel_rows(h)
    assert row["outcome"] == "no_such_account"


# --- the token rule: the announcement's account ----------------------------------------------


async def test_announced_account_acts_for_a_granted_clicker(ha):
    h = ha
    await team_with_bob(h)
    await h.link(BOB, open_id="open-bob", display_name="Bob Himself")
    h.tiktok.add_upload(PID, open_id="open-brand")
    await announce(h, PID, title="Spring teaser")

    answer = await h.click("cancel_upload", PID, user_id=BOB)

    assert "TikTok is stopping" in text_of(answer)
    (call,) = cancel_calls(h)
    assert call.token == grant_of(h, "open-brand").access_token
    (row,) = cancel_rows(h)
    assert (row["account_kind"], row["account_rule"], row["source"]) == (
        "team",
        "announcement",
        "button",
    )


async def test_announced_account_not_granted_falls_back_to_the_clickers_own_link(ha):
    h = ha
    await team_with_bob(h)
    await h.link(CAROL, open_id="open-carol", display_name="Carol")
    h.tiktok.add_upload(PID, open_id="open-carol")
    await announce(h, PID)

    answer = await h.click("cancel_upload", PID, user_id=CAROL)

    assert "TikTok is stopping" in text_of(answer)
    (call,) = cancel_calls(h)
    assert call.token == grant_of(h, "open-carol").access_token
    (row,) = cancel_rows(h)
    assert (row["account_kind"], row["account_rule"], row["open_id"]) == (
        "user",
        "own",
        "open-carol",
    )


async def test_announced_account_not_granted_and_no_own_link_asks_to_connect(ha):
    h = ha
    await team_with_bob(h)
    h.tiktok.add_upload(PID, open_id="open-brand")
    await announce(h, PID)

    answer = await h.click("cancel_upload", PID, user_id=DAVE)

    connect = [b for b in buttons(answer) if b.get("action_id") == "connect_tiktok"]
    assert len(connect) == 1 and connect[0]["url"]
    assert cancel_calls(h) == []
    assert h.tiktok.uploads[PID].status == "PROCESSING_DOWNLOAD"
    (row,) = cancel_rows(h)
    assert (row["user_id"], row["outcome"]) == (DAVE, "not_linked")


async def test_status_of_an_announced_upload_uses_the_team_account_for_a_granted_user(ha):
    h = ha
    await team_with_bob(h)
    h.tiktok.add_upload(PID, open_id="open-brand")
    await announce(h, PID)

    answer = await h.command(f"status {PID}", user_id=BOB)

    assert "Couldn't" not in text_of(answer)
    (call,) = h.tiktok.calls_to("status")
    assert call.token == grant_of(h, "open-brand").access_token


# --- team remove -----------------------------------------------------------------------------


async def test_team_remove_revokes_at_tiktok_and_forgets_the_account_and_its_grants(ha):
    h = ha
    await team_with_bob(h)
    token = grant_of(h, "open-brand").access_token

    answer = await h.command("team remove brand", user_id=ADMIN)

    assert "Removed the team account `brand`" in text_of(answer)
    assert token in h.tiktok.revoked
    assert team_links(h) == []
    assert grants_of(h) == []
    (removed,) = [r for r in h.audit_rows() if r["action"] == "team_remove"]
    assert (removed["user_id"], removed["account"], removed["outcome"]) == (ADMIN, "brand", "ok")

    h.tiktok.add_upload(PID, open_id="open-brand")
    after = await h.command(f"as brand {PID}", user_id=BOB)
    assert "there is no team account called brand" in text_of(after)
    assert cancel_calls(h) == []


# --- accounts --------------------------------------------------------------------------------


async def two_team_accounts(h) -> None:
    await team_with_bob(h)
    await h.link_team("video", open_id="open-video", display_name="Video Desk")
    await h.command(f"team grant video <@{CAROL}>", user_id=ADMIN)


async def test_accounts_for_a_granted_user_lists_only_theirs(ha):
    h = ha
    await two_team_accounts(h)
    answer = await h.command("accounts", user_id=BOB)
    shown = text_of(answer)
    assert "Team accounts you may use" in shown
    assert "`brand`" in shown and "Brand Social" in shown
    assert "`video`" not in shown and "Video Desk" not in shown
    assert f"<@{CAROL}>" not in shown and f"<@{ADMIN}>" not in shown  # no one else's grants
    assert_no_secrets(h, json.dumps(answer))


async def test_accounts_for_an_admin_lists_every_account_with_its_grants(ha):
    h = ha
    await two_team_accounts(h)
    answer = await h.command("accounts", user_id=ADMIN)
    shown = text_of(answer)
    brand_line = next(line for line in shown.splitlines() if "`brand`" in line)
    video_line = next(line for line in shown.splitlines() if "`video`" in line)
    assert "Brand Social" in brand_line and f"<@{BOB}>" in brand_line
    assert f"<@{ADMIN}>" in brand_line and f"<@{CAROL}>" not in brand_line
    assert "Video Desk" in video_line and f"<@{CAROL}>" in video_line
    assert "<!date^" in brand_line  # the link's expiry
    assert_no_secrets(h, json.dumps(answer))


async def test_accounts_for_someone_with_no_grants_says_so(ha):
    h = ha
    await two_team_accounts(h)
    answer = await h.command("accounts", user_id=DAVE)
    shown = text_of(answer)
    assert "You haven't been given any team accounts" in shown
    assert f"<@{ADMIN}>" in shown
    assert "brand" not in shown and "video" not in shown
    assert_no_secrets(h, json.dumps(answer))
