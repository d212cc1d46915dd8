"""`GET /metrics`: who may read it (METRICS_TOKEN on the bot's port, METRICS_PORT without a
token), and each metric moving by the expected amount when its event happens: read the page
before, make the event happen through the stand-ins, read it after."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from cryptography.fernet import Fernet

from bot import exposition
from bot.settings import SettingsError, load_settings
from sandbox.fakes.server import Reply
from sandbox.fakes.slack_requests import slash_command_payload
from storage.db import Store, database_url
from tests.approval_helpers import approval_body
from tests.conftest import ADMIN, NOTIFY, UPLOAD, db_execute, db_rows, notify
from tests.held_helpers import body as held_body
from tests.held_helpers import submit
from tests.metrics_helpers import METRICS_TOKEN, parse, scrape, scrape_text, settled, value
from tests.upload_helpers import PID, announce, make_due, settle, webhook

CANCEL = "/v2/post/publish/cancel/"
TOKEN = "/v2/oauth/token/"
PID2 = "v_pub_url~v2.222222222"
PID3 = "v_pub_url~v2.333333333"


@pytest.fixture
def settings(settings):
    """The bot with /metrics on its port (METRICS_TOKEN), both pipeline tokens and an admin."""
    return replace(
        settings,
        metrics_token=METRICS_TOKEN,
        notify_token=NOTIFY,
        upload_token=UPLOAD,
        admin_users=frozenset({ADMIN}),
    )


async def _get(h, url: str, headers: dict | None = None, method: str = "GET"):
    async with h.session.request(method, url, headers=headers or {}) as resp:
        return resp.status, resp.headers, await resp.text()


# --- who may read it ---------------------------------------------------------------------------


async def test_without_metrics_token_there_is_no_metrics_route(h):
    await h.restart(metrics_token=None)
    status, _, _ = await _get(h, h.url + "/metrics", {"Authorization": "Bearer anything"})
    assert status == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {METRICS_TOKEN}", "Bearer", f"Bearer {METRICS_TOKEN}x"],
)
async def test_a_missing_or_wrong_bearer_is_refused(h, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    status, headers_back, text = await _get(h, h.url + "/metrics", headers)
    assert status == 401
    assert headers_back["WWW-Authenticate"] == "Bearer"
    assert METRICS_TOKEN not in text and "tiktok_cancel_" not in text


async def test_the_right_bearer_reads_the_page(h):
    for scheme in ("Bearer", "bearer"):
        headers = {"Authorization": f"{scheme} {METRICS_TOKEN}"}
        status, headers_back, text = await _get(h, h.url + "/metrics", headers)
        assert status == 200
        assert headers_back["Content-Type"].startswith("text/plain; version=0.0.4")
        samples, families = parse(text)
        assert "tiktok_cancel_commands" in families
        assert "process_cpu_seconds" in families  # the process collector is on the registry
        assert METRICS_TOKEN not in text


async def test_metrics_port_serves_only_metrics_without_a_token(h):
    await h.restart(metrics_token=None, metrics_port=0)
    port = h.bot.metrics_port
    assert port and port != h.bot.port
    text = await scrape_text(h, port=port)
    assert "tiktok_cancel_held_uploads" in text
    base = f"http://127.0.0.1:{port}"
    for path in ("/healthz", "/", "/metrics/", "/notifications", "/slack/events"):
        status, _, _ = await _get(h, base + path)
        assert status == 404, path
    status, _, _ = await _get(h, base + "/slack/events", method="POST")
    assert status == 404
    status, _, _ = await _get(h, base + "/metrics", method="POST")
    assert status == 405  # the path exists for GET only
    status, _, _ = await _get(h, h.url + "/metrics")  # no METRICS_TOKEN: not on the bot's port
    assert status == 404
    await h.stop()  # its server stops with the bot
    with pytest.raises(OSError):
        await _get(h, base + "/metrics")


# --- commands, acks and replies ------------------------------------------------------------------


async def test_commands_are_counted_by_kind_with_their_ack_and_reply_times(h):
    before = await scrape(h)
    for text in ("help", "help", "stauts v_pub_url~v2.1"):
        await h.command(text)
    await settled(h)
    after = await scrape(h)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("tiktok_cancel_commands_total", kind="help") == 2
    assert moved("tiktok_cancel_commands_total", kind="usage") == 1
    assert moved("tiktok_cancel_commands_total", kind="cancel") == 0
    assert ("tiktok_cancel_commands_total", frozenset({("kind", "cancel")})) in after  # at 0
    assert moved("tiktok_cancel_ack_seconds_count", kind="command") == 3
    assert moved("tiktok_cancel_ack_seconds_bucket", kind="command", le="+Inf") == 3
    assert 0 < moved("tiktok_cancel_ack_seconds_sum", kind="command") < 3 * 3.0
    assert moved("tiktok_cancel_reply_seconds_count", kind="help") == 2
    assert moved("tiktok_cancel_reply_seconds_count", kind="usage") == 1
    assert 0 < moved("tiktok_cancel_reply_seconds_sum", kind="help") < 2 * 5.0
    assert moved("tiktok_cancel_slack_calls_total", method="response_url", error="ok") == 3


async def test_a_click_is_acked_as_interactive(h):
    before = await scrape(h)
    sent = await h.driver.send_click("cancel_upload", PID)
    assert sent.status == 200
    await h.driver.answer(sent.response_url)
    await settled(h)
    after = await scrape(h)
    labels = {"kind": "interactive"}
    name = "tiktok_cancel_ack_seconds_count"
    assert value(after, name, **labels) - value(before, name, **labels) == 1
    assert value(after, name, kind="command") == value(before, name, kind="command")


async def test_socket_mode_acks_and_replies_are_timed(h):
    await h.restart(slack_app_token=h.slack.app_token)
    await h.slack.wait_for_socket()
    before = await scrape(h)
    url = h.slack.new_response_url()
    envelope_id = await h.slack.send_envelope(
        "slash_commands", slash_command_payload("help", response_url=url)
    )
    await h.slack.wait_for_ack(envelope_id)
    await h.slack.wait_for_responses(url, 1)
    await settled(h)
    after = await scrape(h)
    for name, labels in [
        ("tiktok_cancel_ack_seconds_count", {"kind": "command"}),
        ("tiktok_cancel_reply_seconds_count", {"kind": "help"}),
        ("tiktok_cancel_commands_total", {"kind": "help"}),
    ]:
        assert value(after, name, **labels) - value(before, name, **labels) == 1, name


# --- TikTok and Slack calls ----------------------------------------------------------------------


async def test_tiktok_calls_are_counted_by_endpoint_and_outcome(h):
    before = await scrape(h)
    await h.link()
    for pid in (PID, PID2, PID3):
        h.tiktok.add_upload(pid)
    await h.command(PID)  # TikTok: ok
    h.tiktok.script_error("cancel", 400, "a_code_nobody_documented")
    await h.command(PID2)
    h.tiktok.script("cancel", Reply(200, body="<html>not json</html>", content_type="text/html"))
    await h.command(PID3)
    await settled(h)
    after = await scrape(h)

    def moved(endpoint, outcome):
        labels = {"endpoint": endpoint, "outcome": outcome}
        name = "tiktok_cancel_tiktok_calls_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(CANCEL, "ok") == 1
    assert moved(CANCEL, "other_code") == 1  # a code the catalog doesn't know: never itself
    assert moved(CANCEL, "bad_response") == 1
    assert moved(TOKEN, "ok") == 1  # linking traded its code once
    assert "a_code_nobody_documented" not in await scrape_text(h)


async def test_slack_calls_are_counted_by_method_and_error(h):
    before = await scrape(h)
    h.slack.fail("chat.postMessage", "channel_not_found")
    status, _ = await notify(h, {"publish_id": PID, "channel": "CGONE"})
    assert status >= 400
    await announce(h, PID2)
    h.slack.fail_response(404)
    sent = await h.driver.send_command("help")
    assert sent.status == 200
    await settled(h)
    after = await scrape(h)

    def moved(method, error):
        labels = {"method": method, "error": error}
        name = "tiktok_cancel_slack_calls_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("chat.postMessage", "channel_not_found") == 1
    assert moved("chat.postMessage", "ok") == 1
    assert moved("response_url", "error") == 1  # the answer Slack refused ("error", HTTP 404)
    assert moved("response_url", "ok") == 0


# --- state in the database -----------------------------------------------------------------------


async def test_held_uploads_by_state_and_approvals_waiting_are_read_from_the_database(h):
    await h.link_team("brand", admin=ADMIN, open_id="open-brand")
    empty = await scrape(h)
    assert value(empty, "tiktok_cancel_held_uploads", state="held") == 0
    assert value(empty, "tiktok_cancel_approvals_waiting") == 0
    status, answer = await submit(h, held_body("m-held", hold_s=3600))
    assert status == 202, answer
    status, answer = await submit(h, approval_body("m-approval", needed=2))
    assert status == 202, answer
    status, answer = await submit(h, approval_body("m-approval-2", needed=1))
    assert status == 202, answer
    samples = await scrape(h)
    assert value(samples, "tiktok_cancel_held_uploads", state="held") == 1
    assert value(samples, "tiktok_cancel_held_uploads", state="awaiting_approval") == 2
    assert ("tiktok_cancel_held_uploads", frozenset({("state", "started")})) in samples
    assert value(samples, "tiktok_cancel_held_uploads", state="started") == 0
    assert value(samples, "tiktok_cancel_approvals_waiting") == 3  # 2 + 1 still needed
    db_execute(h, "UPDATE held_uploads SET state = 'expired' WHERE upload_key = 'm-approval'")
    samples = await scrape(h)
    assert value(samples, "tiktok_cancel_held_uploads", state="awaiting_approval") == 1
    assert value(samples, "tiktok_cancel_held_uploads", state="expired") == 1
    assert value(samples, "tiktok_cancel_approvals_waiting") == 1


async def test_a_database_that_does_not_answer_still_gives_a_page_that_says_so(h, tmp_path):
    samples = await scrape(h)
    assert value(samples, "tiktok_cancel_database_answered") == 1
    unreachable = Store(database_url(path=str(tmp_path / "not-a-folder" / "x.sqlite3")))
    (tmp_path / "not-a-folder").write_text("a file where the folder should be")
    text = (await exposition.page(unreachable)).decode()
    assert "tiktok_cancel_database_answered 0.0" in text
    assert "tiktok_cancel_commands_total" in text  # what this process counted is still there
    unreachable.close()
    assert value(await scrape(h), "tiktok_cancel_database_answered") == 1


# --- webhooks, polls, refreshes, lease waits -----------------------------------------------------


async def test_webhook_deliveries_duplicates_and_refusals_are_counted(h):
    before = await scrape(h)
    body = h.tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
    signature = h.tiktok.sign_webhook(body)
    assert await webhook(h, body, signature) == 200
    assert await webhook(h, body, signature) == 200  # TikTok delivers it again
    assert await webhook(h, body, "t=1,s=00") == 401
    after = await scrape(h)
    for result, delta in (("delivered", 1), ("duplicate", 1), ("refused", 1)):
        name = "tiktok_cancel_webhook_deliveries_total"
        moved = value(after, name, result=result) - value(before, name, result=result)
        assert moved == delta, result


async def test_polls_are_counted_by_outcome(h):
    await h.link()
    h.tiktok.add_upload(PID)
    await announce(h)
    await h.bot.parts.poller.next_pass()  # the announcement's wake-up is spent
    await h.bot.parts.poller.stop()  # polls driven by hand below
    h.tiktok.script_error("cancel", 500, "internal_error", times=3)
    await h.command(PID)  # U1 acted on it: polls use U1's link
    await settle(h)
    before = await scrape(h)
    make_due(h)
    assert await h.bot.parts.poller.poll_due() == 1
    h.tiktok.script_error("status", 200, "invalid_publish_id")
    make_due(h)
    assert await h.bot.parts.poller.poll_due() == 1
    after = await scrape(h)
    for outcome, delta in (("fetched", 1), ("no_status", 1), ("no_link", 0)):
        name = "tiktok_cancel_polls_total"
        moved = value(after, name, outcome=outcome) - value(before, name, outcome=outcome)
        assert moved == delta, outcome
    name = "tiktok_cancel_tiktok_calls_total"
    labels = {"endpoint": "/v2/post/publish/status/fetch/", "outcome": "invalid_publish_id"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1


def _near_expiry(h) -> None:
    """The link's access token has two minutes left: the next use refreshes it first."""
    db_execute(h, "UPDATE links SET access_expires_at = ?", time.time() + 120)


async def test_refreshes_are_counted_by_outcome(h):
    await h.link()
    for pid in (PID, PID2):
        h.tiktok.add_upload(pid)
    before = await scrape(h)
    _near_expiry(h)
    await h.command(PID)  # refreshed, then cancelled
    _near_expiry(h)
    h.tiktok.script_error("token", 401, "invalid_client")
    await h.command(PID2)  # TikTok refused our app: the link is kept, used as it is
    await settled(h)
    after = await scrape(h)
    for outcome, delta in (("refreshed", 1), ("refresh_misconfigured", 1), ("link_expired", 0)):
        name = "tiktok_cancel_token_refreshes_total"
        moved = value(after, name, outcome=outcome) - value(before, name, outcome=outcome)
        assert moved == delta, outcome


async def test_a_wait_for_another_holders_lease_is_timed(h):
    await h.link()
    h.tiktok.add_upload(PID)
    (link,) = db_rows(h, "SELECT team_id, kind, owner FROM links")
    name = f"refresh:{link['team_id']}:{link['kind']}:{link['owner']}"
    before = await scrape(h)
    _near_expiry(h)
    # Another replica is refreshing this link for the next half second.
    db_execute(
        h,
        "INSERT INTO leases (name, holder, detail, expires_at) VALUES (?, ?, '', ?)",
        name,
        "another-replica",
        time.time() + 0.5,
    )
    await h.command(PID)
    await settled(h)
    after = await scrape(h)
    labels = {"kind": "refresh"}
    count = "tiktok_cancel_lease_wait_seconds_count"
    total = "tiktok_cancel_lease_wait_seconds_sum"
    assert value(after, count, **labels) - value(before, count, **labels) == 1
    assert 0.3 <= value(after, total, **labels) - value(before, total, **labels) < 20.0
    outcome = "tiktok_cancel_token_refreshes_total"
    assert value(after, outcome, outcome="waited") - value(before, outcome, outcome="waited") == 1
    assert ("tiktok_cancel_lease_wait_seconds_count", frozenset({("kind", "cancel")})) in after


# --- settings ---------------------------------------------------------------------------------


def _env(**values: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "TIKTOK_CLIENT_KEY": "k",
        "TIKTOK_CLIENT_SECRET": "c",
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        **values,
    }


def test_metrics_settings_are_read_and_the_token_is_a_secret():
    settings = load_settings(_env(METRICS_TOKEN="m-token-1", METRICS_PORT="9100"))
    assert (settings.metrics_token, settings.metrics_port) == ("m-token-1", 9100)
    assert "m-token-1" in settings.secrets() and "m-token-1" not in repr(settings)
    unset = load_settings(_env())
    assert (unset.metrics_token, unset.metrics_port) == (None, None)


@pytest.mark.parametrize("port", ["0", "65536", "-1", "91OO", "3000", "1e3"])
def test_a_bad_metrics_port_is_named_without_starting(port):
    with pytest.raises(SettingsError) as refused:
        load_settings(_env(METRICS_PORT=port, PORT="3000"))
    (problem,) = refused.value.problems
    assert problem.startswith("METRICS_PORT must")
