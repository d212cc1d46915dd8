"""Linking a TikTok account (OAuth): connect, the callback, tokens at rest, disconnect (renewing
the tokens is in test_token_refresh.py).

Everything is driven over HTTP: signed slash commands and clicks, the browser's visit to the
OAuth callback, and a scripted fake TikTok. Each test checks what the person sees (the Slack
message or the HTML page) and what was stored (`links`, `oauth_states`, `audit`).
"""

from __future__ import annotations

import hashlib
import html
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.fernet import Fernet

from sandbox.fakes.server import Reply
from storage.db import database_url, open_engine
from storage.oauth_states import PendingLink, StateProblem, consume_state, create_state
from storage.sql import Db
from tests.accounts import assert_connect_button, current_grant, stored_tokens, token_calls
from tests.conftest import (
    REDIRECT_URI,
    button_urls,
    buttons,
    db_bytes,
    db_execute,
    db_rows,
    state_of,
    text_of,
)

PID = "v_pub_url~v2.123456789"
CONNECT_AGAIN = "/tiktok-cancel connect"


# --- reading and poking the database -------------------------------------------------------


def links(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM links ORDER BY owner")


def states(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM oauth_states ORDER BY created_at")


# --- reading TikTok's side ----------------------------------------------------------------


def refresh_calls(h) -> list:
    return token_calls(h, "refresh_token")


async def finish_consent(h, url: str, open_id: str = "open-1") -> tuple[int, str]:
    """What TikTok's consent page does after the person agrees: redirect with a code."""
    if open_id not in h.tiktok.users:
        h.tiktok.add_user(open_id=open_id, display_name="Brand Social")
    code = h.tiktok.issue_code(open_id)
    return await h.consent({"code": code, "state": state_of(url), "scopes": "x"})


# --- 1. connect ---------------------------------------------------------------------------


async def test_connect_answers_a_consent_button_with_a_random_state_stored_only_hashed(h):
    first = await h.command("connect")
    second = await h.command("connect")

    assert first["response_type"] == "ephemeral"
    assert "Link your TikTok account" in text_of(first)
    url = assert_connect_button(h, first)
    parsed = urlparse(url)
    assert f"{parsed.scheme}://{parsed.netloc}{parsed.path}" == h.settings.tiktok_authorize_url
    query = parse_qs(parsed.query)
    assert query["client_key"] == [h.tiktok.client_key]
    assert query["scope"] == ["user.info.basic,video.upload,video.publish"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [REDIRECT_URI]
    state = query["state"][0]
    other = state_of(assert_connect_button(h, second))
    assert state != other
    assert len(state) >= 32 and len(other) >= 32

    stored = states(h)
    assert [r["state_hash"] for r in stored] == [
        hashlib.sha256(s.encode()).hexdigest() for s in (state, other)
    ]
    for row in stored:
        assert row["user_id"] == "U1" and row["owner"] == "U1" and row["kind"] == "user"
        assert row["used_at"] is None
        assert row["expires_at"] - row["created_at"] == pytest.approx(600)
        assert state not in row.values() and other not in row.values()
    raw = db_bytes(h)
    assert state.encode() not in raw and other.encode() not in raw
    assert h.tiktok.calls == []  # making a link talks to nobody


async def test_connect_says_the_button_lasts_10_minutes_not_the_link(h):
    text = text_of(await h.command("connect"))
    assert "The button works once, for 10 minutes" in text
    assert "lasts until you disconnect it or TikTok stops renewing it" in text
    assert "and works for 10 minutes" not in text
    assert button_urls(await h.command("connect"))


# --- 2. callback success ------------------------------------------------------------------


async def test_callback_links_the_account_stores_tokens_encrypted_and_dms_the_person(h):
    h.tiktok.add_user("open-1", "Brand Social")
    url = await h.connect_url("U1")

    status, page = await finish_consent(h, url)

    assert status == 200
    assert "Linked as Brand Social" in page
    assert "close this tab" in page
    grant = current_grant(h)
    (row,) = links(h)
    assert (row["team_id"], row["kind"], row["owner"]) == ("T0001", "user", "U1")
    assert row["open_id"] == "open-1"
    assert row["display_name"] == "Brand Social"
    assert row["scope"] == "user.info.basic,video.upload,video.publish"
    assert row["access_token"] != grant.access_token
    assert row["refresh_token"] != grant.refresh_token
    assert stored_tokens(h) == (grant.access_token, grant.refresh_token)
    assert row["access_expires_at"] == pytest.approx(time.time() + 86400, abs=60)
    raw = db_bytes(h)
    for secret in h.tiktok.all_secrets():  # tokens, the code, the client secret
        assert secret.encode() not in raw
    (state_row,) = states(h)
    assert state_row["used_at"] is not None

    (dm,) = await h.slack.wait_for_call("chat.postMessage")
    assert dm.params["channel"] == "U1"
    assert "Brand Social" in dm.params["text"] and "linked" in dm.params["text"]
    assert not [b for b in buttons(dm.params) if b.get("action_id") == "retry_cancel_key"]

    answer = await h.command("whoami")
    text = text_of(answer)
    assert "Brand Social" in text
    assert "open-1" in text
    for scope in ("user.info.basic", "video.upload", "video.publish"):
        assert scope in text
    assert "<!date^" in text  # the expiry, in the reader's time zone
    for secret in h.tiktok.all_secrets():
        assert secret not in str(answer)

    (entry,) = [r for r in h.audit_rows() if r["action"] == "connect"]
    assert entry["outcome"] == "ok"
    assert entry["user_id"] == "U1"
    assert entry["open_id"] == "open-1"
    assert entry["account"] == "Brand Social"
    assert entry["state"] == "finished"


async def test_link_holds_even_when_the_linked_dm_cannot_be_sent(h):
    h.slack.fail("chat.postMessage", "channel_not_found")
    h.tiktok.add_user("open-1", "Brand Social")

    status, page = await finish_consent(h, await h.connect_url("U1"))

    assert status == 200
    assert "Linked as Brand Social" in page
    await h.slack.wait_for_call("chat.postMessage")
    (row,) = links(h)
    assert row["owner"] == "U1"
    assert "Brand Social" in text_of(await h.command("whoami"))


async def test_display_name_from_tiktok_is_escaped_on_the_page_in_the_dm_and_in_whoami(h):
    name = "<!channel> <script>x</script> & Co"
    h.tiktok.add_user("open-1", name)

    status, page = await finish_consent(h, await h.connect_url("U1"))

    assert status == 200
    assert "<script>" not in page and "<!channel>" not in page
    assert html.unescape(page).count(name) >= 1
    (dm,) = await h.slack.wait_for_call("chat.postMessage")
    escaped = "&lt;!channel&gt; &lt;script&gt;x&lt;/script&gt; &amp; Co"
    assert "<!channel>" not in str(dm.params), dm.params  # text fallback and blocks alike
    assert escaped in text_of(dm.params)
    whoami = await h.command("whoami")
    assert "<!channel>" not in str(whoami)
    assert escaped in text_of(whoami)


async def test_invalid_grant_on_the_callback_page_says_the_same(h):
    url = await h.connect_url()
    state = url.split("state=")[1].split("&")[0]
    h.tiktok.script_error("token", 400, "invalid_grant")
    status, page = await h.consent({"code": "spent-code", "state": state})
    page = html.unescape(page)
    assert "couldn't exchange the sign-in code" in page
    assert "no longer accepts this link" not in page


# --- 3. cancel before linking, then retry from the DM -------------------------------------


async def test_cancel_before_linking_then_retry_button_in_the_dm_cancels(h):
    h.tiktok.add_user("open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")

    answer = await h.command(f"{PID} wrong video")
    assert "haven't linked a TikTok account" in text_of(answer)
    url = assert_connect_button(h, answer)
    assert h.tiktok.calls_to("cancel") == []

    status, page = await finish_consent(h, url)
    assert status == 200, page

    (dm,) = await h.slack.wait_for_call("chat.postMessage")
    assert dm.params["channel"] == "U1"
    assert PID in text_of(dm.params)
    (retry,) = [b for b in buttons(dm.params) if b.get("action_id") == "retry_cancel_key"]
    assert retry["confirm"]["confirm"]["text"] == "Cancel upload"  # same dialog as Cancel
    assert PID not in retry["value"] and "wrong video" not in retry["value"]

    clicked = await h.click("retry_cancel_key", retry["value"])

    assert "TikTok is stopping" in text_of(clicked)
    assert "Still running:* stopping" in text_of(clicked)
    (cancel,) = h.tiktok.calls_to("cancel")
    assert cancel.body == {"publish_id": PID}
    assert cancel.status == 200
    assert h.tiktok.uploads[PID].status == "FAILED"
    cancels = [r for r in h.audit_rows() if r["action"] == "cancel"]
    assert [r["outcome"] for r in cancels] == ["not_linked", "ok"]
    assert cancels[-1]["source"] == "button"
    assert cancels[-1]["reason"] == "wrong video"
    assert cancels[-1]["publish_id"] == PID
    assert cancels[-1]["account"] == "Brand Social"


# --- 4. state misuse ----------------------------------------------------------------------


def assert_refused_page(status: int, page: str, *words: str) -> None:
    assert 400 <= status < 500, (status, page)
    page = html.unescape(page)
    assert CONNECT_AGAIN in page
    assert "nothing" in page.lower()  # says nothing was linked
    for word in words:
        assert word in page


async def test_callback_with_unknown_state_is_refused_without_calling_tiktok(h):
    h.tiktok.add_user("open-1")
    await h.connect_url("U1")  # a real state exists, but this is not it
    code = h.tiktok.issue_code("open-1")

    status, page = await h.callback({"code": code, "state": "not-a-state-we-made"})

    assert_refused_page(status, page, "isn't one we made")
    assert token_calls(h) == []
    assert links(h) == []
    assert states(h)[0]["used_at"] is None  # the real state is untouched


async def test_callback_with_reused_state_is_refused_and_keeps_the_first_link(h):
    h.tiktok.add_user("open-1", "Brand Social")
    h.tiktok.add_user("open-2", "Someone Else")
    url = await h.connect_url("U1")
    status, _ = await finish_consent(h, url, "open-1")
    assert status == 200

    status, page = await finish_consent(h, url, "open-2")

    assert_refused_page(status, page, "already used")
    assert len(token_calls(h)) == 1  # only the first, good use
    (row,) = links(h)
    assert row["open_id"] == "open-1"
    assert len([r for r in h.audit_rows() if r["action"] == "connect"]) == 1


async def test_callback_with_expired_state_is_refused_without_calling_tiktok(h):
    url = await h.connect_url("U1")
    db_execute(h, "UPDATE oauth_states SET expires_at = ?", time.time() - 1)

    status, page = await finish_consent(h, url)

    assert_refused_page(status, page, "expired")
    assert token_calls(h) == []
    assert links(h) == []


async def test_callback_without_state_is_refused_without_calling_tiktok(h):
    h.tiktok.add_user("open-1")
    await h.connect_url("U1")

    status, page = await h.callback({"code": h.tiktok.issue_code("open-1")})

    assert_refused_page(status, page)
    assert token_calls(h) == []
    assert links(h) == []


async def test_callback_access_denied_is_refused_and_the_state_is_spent(h):
    url = await h.connect_url("U1")
    params = {
        "state": state_of(url),
        "error": "access_denied",
        "error_description": "The user denied the request",
    }

    status, page = await h.callback(params)

    assert_refused_page(status, page, "allowed")
    assert token_calls(h) == []
    assert links(h) == []
    status, page = await h.callback(params)  # single use, even when it ended in a refusal
    assert_refused_page(status, page, "already used")
    assert [r for r in h.audit_rows() if r["action"] == "connect"] == []


async def test_callback_token_endpoint_error_is_refused_and_stores_nothing(h):
    h.tiktok.script_error("token", 400, "invalid_grant")
    url = await h.connect_url("U1")

    status, page = await finish_consent(h, url)

    assert_refused_page(status, page, "invalid_grant")
    assert len(token_calls(h)) == 1
    assert links(h) == []
    assert [r for r in h.audit_rows() if r["action"] == "connect"] == []
    # a link that works, made after it (the sentinel), gets its "linked" DM; by then the
    # refused one would have had its own, and there is none
    await h.link("U2", "open-2", "Someone Else")
    (dm,) = await h.slack.wait_for_call("chat.postMessage")
    assert dm.params["channel"] == "U2"


# --- 5. the state is bound to the Slack user who asked ------------------------------------


async def test_state_links_the_user_who_asked_for_it_even_if_someone_else_opens_the_url(h):
    """The callback has no Slack identity: whoever's browser finishes the consent, the link
    belongs to the Slack user the state was made for (U1). U2 gains nothing."""
    h.tiktok.add_user("open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    url_for_u1 = await h.connect_url("U1")

    status, page = await finish_consent(h, url_for_u1)  # opened in U2's browser

    assert status == 200, page
    (row,) = links(h)
    assert row["owner"] == "U1" and row["linked_by"] == "U1"
    (dm,) = await h.slack.wait_for_call("chat.postMessage")
    assert dm.params["channel"] == "U1"
    assert "haven't linked" in text_of(await h.command("whoami", user_id="U2"))
    answer = await h.command(PID, user_id="U2")
    assert "haven't linked a TikTok account" in text_of(answer)
    assert h.tiktok.calls_to("cancel") == []
    assert "Brand Social" in text_of(await h.command("whoami", user_id="U1"))


# --- 6. disconnect ------------------------------------------------------------------------


async def test_disconnect_revokes_at_tiktok_and_deletes_the_link(h):
    await h.link("U1", "open-1", "Brand Social")
    access = current_grant(h).access_token

    answer = await h.command("disconnect")

    text = text_of(answer)
    assert "Unlinked" in text and "Brand Social" in text
    (revoke,) = h.tiktok.calls_to("revoke")
    assert revoke.body["token"] == access
    assert revoke.body["client_key"] == h.tiktok.client_key
    assert links(h) == []
    entry = h.last_audit()
    assert (entry["action"], entry["outcome"], entry["user_id"]) == ("disconnect", "ok", "U1")
    assert "haven't linked" in text_of(await h.command("whoami"))

    again = await h.command("disconnect")

    assert "nothing to unlink" in text_of(again)
    assert len(h.tiktok.calls_to("revoke")) == 1


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(lambda t: t.script_error("revoke", 500, "internal_error"), id="oauth-error"),
        pytest.param(
            lambda t: t.script(
                "revoke", Reply(status=500, body="Internal Server Error", content_type="text/plain")
            ),
            id="bare-500",
        ),
    ],
)
async def test_disconnect_when_revoke_fails_still_unlinks_and_says_to_remove_the_app(h, failure):
    await h.link("U1", "open-1", "Brand Social")
    failure(h.tiktok)

    answer = await h.command("disconnect")

    text = text_of(answer)
    assert "Unlinked" in text
    assert "remove tiktok-cancel" in text and "TikTok app" in text
    assert len(h.tiktok.calls_to("revoke")) >= 1
    assert links(h) == []
    entry = h.last_audit()
    assert (entry["action"], entry["outcome"]) == ("disconnect", "revoke_failed")


# --- 7. restart ---------------------------------------------------------------------------


async def test_restart_with_the_same_database_and_key_keeps_the_link(h):
    await h.link("U1", "open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")

    await h.restart()

    assert "Brand Social" in text_of(await h.command("whoami"))
    answer = await h.command(PID)
    assert "TikTok is stopping" in text_of(answer)
    (cancel,) = h.tiktok.calls_to("cancel")
    assert cancel.status == 200
    assert refresh_calls(h) == []


# --- 8. a changed encryption key ----------------------------------------------------------


async def test_wrong_key_after_restart_asks_to_reconnect_and_makes_no_tiktok_call(h):
    await h.link("U1", "open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    calls_before = len(h.tiktok.calls)

    await h.restart(token_encryption_key=Fernet.generate_key().decode())

    answer = await h.command(PID)
    text = text_of(answer)
    assert "needs to be made again" in text
    assert "security key was changed" in text
    assert_connect_button(h, answer)
    assert h.last_audit()["outcome"] == "link_unreadable"
    assert h.last_audit()["publish_id"] == PID

    whoami = await h.command("whoami")
    assert "needs to be made again" in text_of(whoami)
    assert "Brand Social" not in text_of(whoami)
    url = assert_connect_button(h, whoami)
    assert len(h.tiktok.calls) == calls_before  # nothing at all went to TikTok
    assert links(h)  # the unreadable row is left for `rotate-key` or a new link to replace

    # Linking again through the button repairs it.
    status, _ = await finish_consent(h, url)
    assert status == 200
    assert "Brand Social" in text_of(await h.command("whoami"))
    assert "TikTok is stopping" in text_of(await h.command(PID))


async def test_wrong_key_whoami_talks_about_the_link_not_a_cancel_of_upload_dash(h):
    """whoami tried no cancel: its answer must not read "Couldn't cancel upload `-`"."""
    await h.link("U1", "open-1", "Brand Social")
    await h.restart(token_encryption_key=Fernet.generate_key().decode())

    whoami = await h.command("whoami")

    text = text_of(whoami)
    assert "needs to be made again" in text
    assert_connect_button(h, whoami)
    assert "`-`" not in text
    assert "Couldn't cancel" not in text
    assert "Still running" not in text


async def test_wrong_key_disconnect_unlinks_but_does_not_claim_tiktok_forgot_the_access(h):
    """The token can't be read, so it can't be revoked: the person must remove the app in
    TikTok themselves, and the audit must not record a clean disconnect."""
    await h.link("U1", "open-1", "Brand Social")
    await h.restart(token_encryption_key=Fernet.generate_key().decode())

    answer = await h.command("disconnect")

    text = text_of(answer)
    assert h.tiktok.calls_to("revoke") == []
    assert links(h) == []
    assert "Unlinked" in text
    assert "TikTok has forgotten" not in text
    assert "remove tiktok-cancel" in text and "TikTok app" in text
    entry = h.last_audit()
    assert entry["action"] == "disconnect"
    assert entry["outcome"] != "ok"


# --- 13. linking not configured -----------------------------------------------------------


async def test_connect_without_redirect_uri_explains_and_makes_no_state(h):
    await h.restart(tiktok_redirect_uri=None)

    answer = await h.command("connect")

    text = text_of(answer)
    assert "isn't set up" in text
    assert "TIKTOK_REDIRECT_URI" in text
    assert buttons(answer) == []
    assert states(h) == []
    assert h.tiktok.calls == []


# --- the OAuth state is single-use across replicas (PostgreSQL) ------------------------------


class _BothReadFirst(Db):
    """One callback's connection that, before its first UPDATE, waits until the other
    callback's got that far too: the interleaving two replicas can hit, where each has read
    the state before either marks it used."""

    def __init__(self, conn, meeting: threading.Barrier):
        super().__init__(conn.connection.dbapi_connection, conn.dialect.name)
        self.meeting = meeting
        self.met = False

    def execute(self, sql, params=()):
        if not self.met and sql.lstrip().upper().startswith("UPDATE"):
            self.met = True
            self.meeting.wait(timeout=10)
        return super().execute(sql, params)


@pytest.mark.needs_postgres
def test_two_callbacks_with_one_state_on_two_connections_link_once(postgres_url):
    """TikTok's redirect replayed, or two tabs: two callbacks carry the same state at the same
    moment, on two replicas (two connections to PostgreSQL). Exactly one may use it."""
    engine = open_engine(database_url(postgres_url))
    pending = PendingLink("T0001", "U1", "user", "U1", "", "", "")
    try:
        with engine.begin() as conn:
            state = create_state(Db.over(conn), pending)
        meeting = threading.Barrier(2)

        def callback() -> str:
            try:
                with engine.begin() as conn:
                    consume_state(_BothReadFirst(conn, meeting), state)
                return "linked"
            except StateProblem as problem:
                return problem.why

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = sorted(pool.map(lambda _: callback(), range(2)))
        assert results == ["linked", "used"]
    finally:
        engine.dispose()
