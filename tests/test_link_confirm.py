"""Linking cannot be hijacked: after TikTok's consent the bot shows a page naming the Slack user,
the workspace and the TikTok account, and links only when that page's form is posted (once,
within 10 minutes). Then the DM names the TikTok account, `whoami` says when and how it was
linked, and the retry button carries a short key, not the reason.

Driven over HTTP: the browser's GET of the callback and POST of the confirm form, signed Slack
commands and clicks, the TikTok stand-in. Each test reads the page, the DM, the database.
"""

from __future__ import annotations

import html
import re
import time

import pytest
from cryptography.fernet import Fernet
from slack_sdk.models.blocks import Block
from sqlite_utils import Database

from storage.db import Store, database_url
from storage.legacy_sqlite import _v4
from tests.conftest import (
    button_urls,
    buttons,
    confirm_form,
    db_bytes,
    db_execute,
    db_rows,
    state_of,
    text_of,
)

PID = "v_pub_url~v2.424242"
ADMIN = "UADMIN"


def links(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM links ORDER BY kind, owner")


def connects(h) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] in ("connect", "team_connect")]


def visible(page: str) -> str:
    """The page's text as a browser shows it: tags dropped (a detail's name and value apart),
    entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"</d[td]>", " ", page)))


def assert_valid_blocks(message: dict) -> None:
    for block in message["blocks"]:
        Block.parse(block).validate_json()


async def consent_page(h, user_id: str = "U1", open_id: str = "open-1", name: str = "Brand"):
    """Connect as `user_id`, consent at TikTok as `open_id`: the confirm page and its state."""
    if open_id not in h.tiktok.users:
        h.tiktok.add_user(open_id, name)
    state = state_of(await h.connect_url(user_id))
    status, page = await h.callback({"code": h.tiktok.issue_code(open_id), "state": state})
    return status, page, state


async def post_confirm(h, data: dict) -> tuple[int, str]:
    async with h.session.post(h.url + "/tiktok/oauth/confirm", data=data) as resp:
        return resp.status, await resp.text()


# --- the confirm page ------------------------------------------------------------------------


async def test_callback_shows_whom_it_would_link_and_links_nothing_yet(h):
    h.slack.set_user("U1", name="alex", real_name="Alex Rivera", display_name="Alex R")
    status, page, state = await consent_page(h, "U1", "open-1", "Brand Social")

    assert status == 200
    text = visible(page)
    assert "Link this TikTok account to this Slack account?" in text
    assert "Link the TikTok account Brand Social to the Slack account @alex (user ID U1)" in text
    assert "in the workspace Fake (T0001)?" in text
    assert "Brand Social (open-1)" in text
    assert "Don't link" in text and "Link it" in text
    assert '<form method=post action="confirm">' in page
    assert confirm_form(page)["state"] == state
    assert links(h) == []
    assert connects(h) == []
    assert h.slack.calls_to("chat.postMessage") == []
    (row,) = db_rows(h, "SELECT * FROM oauth_states")
    assert row["used_at"] is not None and row["confirmed_at"] is None
    grant = h.tiktok.grants[-1]
    fernet = Fernet(h.settings.token_encryption_key.encode())
    parked = fernet.decrypt(row["pending_grant"].encode()).decode()  # parked, encrypted
    assert grant.access_token in parked and grant.refresh_token in parked
    raw = db_bytes(h)
    assert grant.access_token.encode() not in raw and grant.refresh_token.encode() not in raw
    token = confirm_form(page)["confirm"]
    assert token.encode() not in raw  # only its hash is stored


async def test_the_pages_are_never_cached_or_framed(h):
    status, page, _ = await consent_page(h)
    async with h.session.get(
        h.url + "/tiktok/oauth/callback", params={"code": "c", "state": "x"}
    ) as resp:
        refused = resp.headers
    for headers in (refused,):
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
    form = confirm_form(page)
    async with h.session.post(
        h.url + "/tiktok/oauth/confirm", data={**form, "choice": "link"}
    ) as resp:
        assert resp.status == 200
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Cache-Control"] == "no-store"


async def test_confirming_links_dms_the_tiktok_account_and_whoami_says_how(h):
    status, page, _ = await consent_page(h, "U1", "open-1", "Brand Social")

    status, done = await h.confirm(page)

    assert status == 200
    assert "Linked as Brand Social" in done
    (row,) = links(h)
    assert (row["owner"], row["open_id"], row["linked_by"], row["linked_via"]) == (
        "U1",
        "open-1",
        "U1",
        "confirmed",
    )
    (state_row,) = db_rows(h, "SELECT * FROM oauth_states")
    assert state_row["confirmed_at"] is not None and state_row["pending_grant"] is None
    (dm,) = await h.slack.wait_for_call("chat.postMessage")
    assert dm.params["channel"] == "U1"
    dm_text = text_of(dm.params)
    assert "The TikTok account *Brand Social* (open_id `open-1`) is linked to your Slack" in dm_text
    assert "`/tiktok-cancel disconnect` unlinks it" in dm_text
    assert_valid_blocks(dm.params)
    (entry,) = connects(h)
    assert (entry["outcome"], entry["open_id"], entry["account"]) == (
        "ok",
        "open-1",
        "Brand Social",
    )

    whoami = text_of(await h.command("whoami"))
    assert "by you: you allowed it on TikTok's page and confirmed it on ours" in whoami
    assert "Linked <!date^" in whoami


async def test_the_confirm_works_once(h):
    _, page, _ = await consent_page(h)
    assert (await h.confirm(page))[0] == 200

    status, again = await h.confirm(page)

    assert status == 400
    assert "This link was already used" in html.unescape(again)
    assert len(links(h)) == 1
    assert len(connects(h)) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda f: {**f, "confirm": "x" * 43}, id="wrong-token"),
        pytest.param(lambda f: {**f, "state": "y" * 43}, id="wrong-state"),
        pytest.param(lambda f: {"state": f["state"]}, id="no-token"),
        pytest.param(lambda f: {}, id="empty-form"),
        pytest.param(lambda f: {**f, "confirm": "z" * 5000}, id="huge-token"),
    ],
)
async def test_a_confirm_without_the_pages_token_links_nothing(h, tamper):
    _, page, _ = await consent_page(h)

    status, refused = await post_confirm(h, {**tamper(confirm_form(page)), "choice": "link"})

    assert 400 <= status < 500
    assert "Nothing" in refused or "nothing" in refused
    assert links(h) == []
    # the real token still works afterwards
    assert (await h.confirm(page))[0] == 200
    assert len(links(h)) == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("&".join(f"f{i}=x" for i in range(50)), id="many-fields"),
        pytest.param(b"\xff\xfe\x00state=\x80", id="not-utf8"),
        pytest.param("x" * 10_000, id="too-big"),
        pytest.param("%%%=%%%", id="bad-escapes"),
    ],
)
async def test_a_garbled_confirm_post_is_a_4xx_page(h, body):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with h.session.post(h.url + "/tiktok/oauth/confirm", data=body, headers=headers) as r:
        status, page = r.status, await r.text()
    assert 400 <= status < 500
    assert "Nothing" in page or "nothing" in page
    assert "Traceback" not in page
    assert links(h) == []


async def test_a_token_from_another_consent_does_not_confirm_this_one(h):
    _, first, _ = await consent_page(h, "U1", "open-1")
    _, second, _ = await consent_page(h, "U2", "open-2")
    mixed = {"state": confirm_form(first)["state"], "confirm": confirm_form(second)["confirm"]}

    status, _ = await post_confirm(h, {**mixed, "choice": "link"})

    assert status == 400
    assert links(h) == []


async def test_an_expired_confirm_links_nothing(h):
    _, page, _ = await consent_page(h)
    db_execute(h, "UPDATE oauth_states SET confirm_expires_at = ?", time.time() - 1)

    status, refused = await h.confirm(page)

    assert status == 400
    assert "This link has expired" in html.unescape(refused)
    assert links(h) == []


async def test_dont_link_links_nothing_and_tiktok_forgets_the_access(h):
    _, page, _ = await consent_page(h, "U1", "open-1", "Brand Social")
    grant = h.tiktok.grants[-1]

    status, done = await h.confirm(page, choice="decline")

    assert status == 200
    assert "Nothing was linked" in html.unescape(done)
    assert links(h) == []
    assert h.tiktok.revoked == [grant.access_token]
    (entry,) = connects(h)
    assert entry["outcome"] == "declined"
    (state_row,) = db_rows(h, "SELECT * FROM oauth_states")
    assert state_row["pending_grant"] is None
    assert (await h.confirm(page))[0] == 400  # and it can't be linked afterwards


async def test_someone_opening_another_persons_connect_link_sees_whose_it_is(h):
    """Mallory sends her Connect link to Vic; Vic consents with his TikTok account. The page
    tells Vic it would link *Mallory's* Slack account; he declines and nothing is linked."""
    h.slack.set_user("UMAL", name="mallory")
    status, page, _ = await consent_page(h, "UMAL", "open-vic", "Vic's Brand")

    text = visible(page)
    assert "to the Slack account @mallory (user ID UMAL)" in text
    assert "If that isn't you, or you didn't ask for this in Slack yourself" in text
    assert (await h.confirm(page, choice="decline"))[0] == 200
    assert links(h) == []
    answer = text_of(await h.command("whoami", user_id="UMAL"))
    assert "haven't linked" in answer


async def test_a_display_name_copied_from_someone_else_still_shows_who_is_asking(h):
    """Mallory calls herself "Alex Rivera", as Alex does, and sends Alex her Connect link.
    The page still names her by what she can't copy: her user ID, handle and email; the names
    she chose are marked as self-chosen."""
    h.slack.set_user(
        "U1",
        name="alex",
        real_name="Alex Rivera",
        display_name="Alex Rivera",
        email="alex@brand.example",
    )
    h.slack.set_user(
        "UMAL",
        name="mallory",
        real_name="Alex Rivera",
        display_name="Alex Rivera",
        email="mallory@elsewhere.example",
    )
    status, page, _ = await consent_page(h, "UMAL", "open-alex", "Alex's Brand")

    assert status == 200
    text = visible(page)
    assert "to the Slack account @mallory (user ID UMAL) in the workspace Fake (T0001)?" in text
    assert "Slack account: user ID UMAL (set by Slack; no one else in this workspace has it)" in (
        text
    )
    assert "Slack account: handle @mallory (no one else in this workspace has it)" in text
    assert "Slack account: email mallory@elsewhere.example (no one else in this workspace" in (text)
    assert "Slack account: real name Alex Rivera (self-chosen: anyone can call themselves" in (text)
    assert "Slack account: display name Alex Rivera (self-chosen: anyone can call themselves" in (
        text
    )
    assert "Slack workspace Fake (T0001) (its ID is set by Slack)" in text
    assert "Check the user ID, handle and email: no one else in the workspace can have them." in (
        text
    )
    assert "A real name or display name proves nothing" in text
    assert "U1" not in text.replace("UMAL", "") and "alex@brand.example" not in text
    assert "@alex" not in text


async def test_the_email_is_left_out_without_the_users_read_email_scope(h):
    h.slack.bot_scopes = [s for s in h.slack.bot_scopes if s != "users:read.email"]
    h.slack.set_user("U1", name="alex", real_name="Alex Rivera")
    _, page, _ = await consent_page(h, "U1", "open-1", "Brand Social")

    text = visible(page)
    assert "Slack account: handle @alex" in text
    assert "Check the user ID and handle: no one else" in text
    assert "Slack account: email" not in text
    assert "u1@example.com" not in text


async def test_a_hostile_handle_and_email_are_escaped(h):
    evil = '<img src=x onerror=alert(1)>"&'
    h.slack.set_user("U1", name=evil, email=evil + "@x.example", real_name=evil)
    _, page, _ = await consent_page(h, "U1", "open-1", "Brand Social")

    assert "<img" not in page and '"&' not in page
    assert html.escape("@" + evil, quote=True) in page
    assert html.escape(evil + "@x.example", quote=True) in page


async def test_the_page_shows_the_id_when_slack_gives_no_name(h):
    h.slack.fail("users.info", "user_not_found", times=3)
    _, page, _ = await consent_page(h, "U1", "open-1", "Brand Social")
    assert "to the Slack account <b>user ID U1</b>" in page
    text = visible(page)
    assert "Slack account: user ID U1 (set by Slack; no one else in this workspace has it)" in text
    assert "Check the user ID: no one else in the workspace can have them." in text
    assert "Slack account: handle" not in text  # nothing Slack didn't say
    assert "Slack account: real name" not in text and "Slack account: email" not in text


async def test_hostile_names_are_escaped_on_the_confirm_page(h):
    evil = '<script>alert(1)</script> "&" <b>'
    h.slack.set_user("U1", name=evil)
    _, page, _ = await consent_page(h, "U1", "open-1", evil)

    assert "<script>" not in page and '"&"' not in page
    assert html.escape(evil, quote=True) in page
    status, done = await h.confirm(page)
    assert status == 200 and "<script>" not in done


# --- team accounts -----------------------------------------------------------------------------


async def test_team_connect_page_names_the_admin_and_the_team_account(h):
    await h.restart(admin_users=frozenset({ADMIN}))
    h.slack.set_user(ADMIN, name="ada", real_name="Ada Admin")
    h.tiktok.add_user("open-brand", "Brand Team")
    answer = await h.command("team connect brand", user_id=ADMIN)
    (url,) = button_urls(answer)
    code = h.tiktok.issue_code("open-brand")
    status, page = await h.callback({"code": code, "state": state_of(url)})

    text = visible(page)
    assert status == 200
    assert "Link this TikTok account as a team account?" in text
    assert "Link the TikTok account Brand Team as the team account brand" in text
    assert "The admin @ada (user ID UADMIN) asked for this." in text
    assert "Asked by (admin): user ID UADMIN (set by Slack; no one else in this workspace" in text
    assert "Asked by (admin): email uadmin@example.com (no one else in this workspace" in text
    assert "Asked by (admin): real name Ada Admin (self-chosen: anyone can call" in text
    assert links(h) == []

    status, done = await h.confirm(page)

    assert status == 200 and "Linked as Brand Team" in done
    (row,) = links(h)
    assert (row["kind"], row["owner"], row["linked_by"]) == ("team", "brand", ADMIN)
    (dm,) = await h.slack.wait_for_call("chat.postMessage")
    assert dm.params["channel"] == ADMIN
    assert "The team account `brand` is linked to the TikTok account *Brand Team*" in text_of(
        dm.params
    )
    assert_valid_blocks(dm.params)
    assert [r["action"] for r in connects(h)] == ["team_connect"]

    await h.link(ADMIN, "open-ada", "Ada's Own")  # whoami lists team accounts with their own
    whoami = await h.command("whoami", user_id=ADMIN)
    text = text_of(whoami)
    assert "*Team accounts you may use*" in text
    assert "`brand` \u2014 *Brand Team*, linked <!date^" in text
    assert f"by <@{ADMIN}>, confirmed on our page" in text
    assert_valid_blocks(whoami)


# --- the retry button after linking ------------------------------------------------------------


async def test_a_long_reason_keeps_the_retry_button_small_and_the_reason_whole(h):
    reason = "\U0001f525" * 200  # 200 emoji: the old JSON value passed 2,000 characters
    h.tiktok.add_user("open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    answer = await h.command(f"{PID} {reason}")
    (url,) = button_urls(answer)
    status, page = await h.callback({"code": h.tiktok.issue_code("open-1"), "state": state_of(url)})
    assert status == 200

    status, done = await h.confirm(page)

    assert status == 200, done
    (dm,) = await h.slack.wait_for_call("chat.postMessage")
    assert_valid_blocks(dm.params)
    (retry,) = [b for b in buttons(dm.params) if b["action_id"] == "retry_cancel_key"]
    assert len(retry["value"]) <= 64 and reason[:1] not in retry["value"]
    assert retry["confirm"]["title"]["text"] == "Cancel this upload?"
    assert retry["confirm"]["confirm"]["text"] == "Cancel upload"
    assert retry["confirm"]["deny"]["text"] == "Keep it"

    # someone else pressing it (a forwarded value) cancels nothing
    other = await h.click("retry_cancel_key", retry["value"], user_id="U2")
    assert "That button no longer does anything" in text_of(other)
    assert h.tiktok.calls_to("cancel") == []

    clicked = await h.click("retry_cancel_key", retry["value"])

    assert "TikTok is stopping" in text_of(clicked)
    cancels = [r for r in h.audit_rows() if r["action"] == "cancel"]
    assert cancels[-1]["reason"] == reason
    assert cancels[-1]["source"] == "button"


async def test_an_unknown_retry_key_answers_plainly(h):
    answer = await h.click("retry_cancel_key", "no-such-key")
    assert "That button no longer does anything" in text_of(answer)
    assert h.tiktok.calls == []


# --- the migration -----------------------------------------------------------------------------


def test_the_legacy_v4_step_can_run_twice(tmp_path):
    path = str(tmp_path / "x.sqlite3")
    Store(database_url(path=path)).call(lambda db: None)  # the current schema
    db = Database(path)
    _v4(db)  # the 0.1 step on a file that already has its columns: changes nothing
    assert "linked_via" in db["links"].columns_dict
    assert "pending_grant" in db["oauth_states"].columns_dict
    assert db["forgotten_links"].exists() and db["pending_retries"].exists()
    db.close()


# --- every link message is valid Block Kit, whatever it echoes -------------------------------


HOSTILE = ("&<>" * 90)[:256]
HOSTILE_NAMES = [HOSTILE, "\U0001f525" * 256, "`<!channel>` *bold* https://evil.example/login"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_link_messages_are_valid_block_kit_with_hostile_inputs(name):
    from bot import messages as lm
    from bot.actor import Actor
    from bot.outcome import Outcome
    from storage.links import Forgotten, Link

    link = Link(
        team_id="T1",
        kind="user",
        owner="U1",
        open_id=name,
        display_name=name,
        scope=name,
        access_token="a",
        access_expires_at=time.time(),
        refresh_token="r",
        refresh_expires_at=time.time(),
        linked_by="U1",
        linked_at="2026-11-30T01:00:00.000Z",
        linked_via="confirmed",
    )
    team_rows = [
        {"account": "brand", "display_name": name, "linked_by": "U2", "linked_at": "x"}
    ] * 30
    forgotten = Forgotten("T1", "user", "U1", name, name, "authorization_removed", "9", "")
    outcome = Outcome(
        "cancel", "refresh_misconfigured", "v_pub_url~v2." + "9" * 240, Actor("T1", "U1")
    )
    messages = [
        lm.linked_dm(name, name, "k" * 22, "v_pub_url~v2." + "&" * 243),
        lm.team_linked_dm("brand", name, name),
        lm.authorization_removed_dm(name, 3),
        lm.team_authorization_removed_dm("brand", name, "x", ["U1", "U2"]),
        lm.whoami_message(lm.LinkView.of(link), team_rows),
        lm.link_forgotten_message(lm.ForgottenView.of(forgotten), "https://example.com/consent"),
        lm.retry_gone_message(),
        lm.outcome_message(outcome, ["U1"]),  # messages.outcome_message plus who can fix it
    ]
    for number, message in enumerate(messages):
        assert message["text"]
        for block in message["blocks"]:
            Block.parse(block).validate_json()
            if block.get("text"):
                assert len(block["text"]["text"]) <= 3000
            for element in block.get("elements", []):
                if element.get("confirm"):
                    assert len(element["confirm"]["text"]["text"]) <= 300
                if element.get("value"):
                    assert len(element["value"]) <= 2000
        assert "<!channel>" not in str(message)
        if number == len(messages) - 1:
            continue  # bot.messages builds the rest of an outcome; its own rules apply there
        for block in message["blocks"]:  # echoed URLs must not become links
            texts = [block.get("text")] + [e for e in block.get("elements", []) if "type" in e]
            for text in texts:
                if isinstance(text, dict) and text.get("type") == "mrkdwn":
                    assert text["verbatim"] is True


def test_a_v2_database_is_migrated_and_its_links_still_read(tmp_path):
    import sqlite3

    from sqlite_utils import Database

    from bot import messages
    from storage.legacy_sqlite import _v1, _v2
    from storage.links import Links

    path = str(tmp_path / "old.sqlite3")
    fernet = Fernet(Fernet.generate_key())
    old = Database(sqlite3.connect(path))
    _v1(old)
    _v2(old)
    old.execute("PRAGMA user_version = 2")
    old["links"].insert(
        {
            "team_id": "T1",
            "kind": "user",
            "owner": "U1",
            "open_id": "open-1",
            "display_name": "Brand Social",
            "scope": "video.upload",
            "access_token": fernet.encrypt(b"a").decode(),
            "access_expires_at": time.time() + 3600,
            "refresh_token": fernet.encrypt(b"r").decode(),
            "refresh_expires_at": time.time() + 86400,
            "linked_by": "U1",
            "linked_at": "2026-01-02T03:04:05.000Z",
            "updated_at": "2026-01-02T03:04:05.000Z",
        }
    )
    old.conn.commit()
    old.close()

    store = Store(database_url(path=path))
    link = store.call(Links(fernet).get, "T1", "user", "U1")
    store.close()
    assert Database(path).execute("PRAGMA user_version").fetchone()[0] == 4

    assert link is not None and link.linked_via == "" and link.refresh_token == "r"
    text = " ".join(
        b["text"]["text"] for b in messages.whoami_message(messages.LinkView.of(link))["blocks"]
    )
    assert "before the bot asked to confirm links" in text
