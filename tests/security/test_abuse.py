"""Abuse the bot could meet, beyond what the other suites already check.

Already covered elsewhere, so not repeated here: forged, missing and stale Slack signatures
(test_slack_requests.py); /notifications and /tiktok/webhook with bad or missing credentials
(test_announcements.py); OAuth state forged, reused, expired, or finished in someone else's
browser (test_linking.py); mrkdwn injection in echoed input, titles and warnings
(test_slack_requests.py, test_announcements.py); acting with a team account not granted
(test_team_accounts.py); a secrets grep of an in-process DEBUG session (test_secrets.py).

Here: a replayed slash command inside and outside Slack's 5-minute window, bodies over 1 MB,
path- and SQL-looking input, Block Kit injection through a title or a reason (and through the
JSON value of the retry button), and a whole-run secrets grep of `python -m bot` at DEBUG.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import time
from pathlib import Path

import aiohttp
import pytest

from sandbox.fakes import FakeSlack, FakeTikTok
from sandbox.fakes.slack_requests import sign, slash_command_body
from tests.conftest import button_urls, buttons, db_rows, state_of, text_of
from tests.faults.conftest import ADMIN, AUDIT_CHANNEL, BotProcess

PID = "v_pub_url~v2.6600001"
SENTINEL_PID = "v_pub_url~v2.6600099"
NOTIFY = "notify-token-for-abuse-tests"
SIGNATURE_WINDOW_S = 300  # Slack: refuse a request whose timestamp is 5 minutes off
OVER_1MB = 1024 * 1024 + 4096


def schema(h) -> list[tuple]:
    """Every table and column (SQLite's own record of its schema; PostgreSQL's catalogue)."""
    if h.settings.database_url:
        sql = (
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, column_name"
        )
    else:
        sql = "SELECT type, name, sql FROM sqlite_master"
    return [tuple(r.values()) for r in db_rows(h, sql)]


def cancel_rows(h) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] == "cancel"]


# --- a replayed slash command ------------------------------------------------------------------


async def test_replayed_cancel_calls_tiktok_once_in_the_window_and_is_refused_after(h):
    """The exact bytes and headers of one signed cancel, sent three times. Slack's replay
    protection is the timestamp: inside 5 minutes a copy is accepted, so the in-flight check
    must keep it from a second TikTok call; once the timestamp is 5 minutes old it is refused."""
    await h.link()
    h.tiktok.add_upload(PID, open_id="open-1")
    hold = h.tiktok.hold("cancel")  # the first cancel stays in flight until the replay is in
    url = h.slack.new_response_url()
    body = slash_command_body(f"{PID} replay me", response_url=url)
    signed_at = int(time.time()) - (SIGNATURE_WINDOW_S - 2)  # captured almost 5 minutes ago
    headers = sign(h.settings.slack_signing_secret, body, signed_at)

    async def send() -> int:
        async with h.session.post(h.url + "/slack/events", data=body, headers=headers) as resp:
            return resp.status

    assert await send() == 200
    await hold.wait_arrived(timeout=10)
    assert await send() == 200  # the replay, while the first cancel is in flight
    await h.slack.wait_for_responses(url, 1, timeout=10)  # the replay's answer, TikTok held
    hold.release()
    answers = [text_of(a) for a in await h.slack.wait_for_responses(url, 2, timeout=10)]
    assert len(h.tiktok.calls_to("cancel")) == 1
    assert sum("TikTok is stopping" in a for a in answers) == 1
    assert sum("already under way" in a for a in answers) == 1
    rows = cancel_rows(h)
    assert sorted(r["outcome"] for r in rows) == ["in_flight", "ok"]  # every attempt has a row
    assert {r["reason"] for r in rows} == {"replay me"}

    # the same bytes once the timestamp is more than 5 minutes old
    await wait_until_age(signed_at, SIGNATURE_WINDOW_S + 1.2)
    assert await send() == 401
    # a fresh command after it (the sentinel, another upload) is served; by then the stale
    # replay would have been too, and it wasn't: no third answer, call or row for PID
    h.tiktok.add_upload(SENTINEL_PID, open_id="open-1")
    assert "TikTok is stopping" in text_of(await h.command(SENTINEL_PID))
    await h.bot.parts.cancels.drain()
    assert len(h.slack.responses[url]) == 2
    assert [c.body.get("publish_id") for c in h.tiktok.calls_to("cancel")] == [
        PID,
        SENTINEL_PID,
    ]
    assert [r["publish_id"] for r in cancel_rows(h)].count(PID) == 2


async def wait_until_age(signed_at: int, age: float) -> None:
    delay = signed_at + age - time.time()
    assert delay < 10, "the clock moved too far"
    if delay > 0:
        await asyncio.sleep(delay)


# --- bodies over 1 MB ------------------------------------------------------------------------


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def bot_process(slack, tiktok, tmp_path, session):
    process = BotProcess(slack, tiktok, tmp_path / "bot", session)
    try:
        await process.start()
        yield process
    finally:
        await process.close()


async def post_raw(bot: BotProcess, path: str, data, headers: dict[str, str]) -> int | str:
    """POST to the bot; the status, or the name of the error if the bot cut the upload off."""
    try:
        async with bot.session.post(bot.url + path, data=data, headers=headers) as resp:
            await resp.read()
            return resp.status
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        return type(exc).__name__


async def in_chunks(data: bytes, size: int = 64 * 1024):
    """An async body: aiohttp sends it chunked, with no Content-Length to refuse it by."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_bodies_over_1mb_are_refused_and_the_bot_keeps_serving(bot_process):
    bot = bot_process
    url = bot.slack.new_response_url()
    slack_body = slash_command_body(f"{PID} " + "x" * OVER_1MB, response_url=url)
    slack_headers = sign(bot.env["SLACK_SIGNING_SECRET"], slack_body)
    notify_body = json.dumps({"publish_id": PID, "channel": "C1", "title": "x" * OVER_1MB})
    bearer = {"Authorization": f"Bearer {bot.env['NOTIFY_TOKEN']}"}
    hook_body = bot.tiktok.webhook_body(
        "post.publish.complete", {"publish_id": PID, "x": "y" * OVER_1MB}
    )
    hook_headers = {"TikTok-Signature": bot.tiktok.sign_webhook(hook_body)}
    cases = [
        ("/slack/events", slack_body.encode(), slack_headers),
        ("/notifications", notify_body.encode(), bearer),
        ("/notifications", notify_body.encode(), {}),
        ("/tiktok/webhook", hook_body, hook_headers),
    ]
    for path, data, headers in cases:
        whole = await post_raw(bot, path, data, headers)
        chunked = await post_raw(bot, path, in_chunks(data), headers)
        for answer in (whole, chunked):
            refused = answer in ("ClientOSError", "ServerDisconnectedError") or (
                isinstance(answer, int) and 400 <= answer < 500
            )
            assert refused, (path, answer)
        assert whole in (401, 413), (path, whole)
        assert bot.running, f"the bot died on a big body to {path}:\n{bot.log_tail()}"
    # the bot still serves: the same kinds of request, small, sent after them (the sentinels)
    # are served; by then the big ones would have been too, and nothing of theirs came
    async with bot.session.get(bot.url + "/healthz") as resp:
        assert resp.status == 200
    sentinel = {"publish_id": SENTINEL_PID, "channel": "C1", "title": "small"}
    async with bot.session.post(bot.url + "/notifications", json=sentinel, headers=bearer) as r:
        assert r.status == 201
    assert "/tiktok-cancel status" in text_of(await bot.command("help"))
    await bot.command(f"{PID} small")  # answered: nobody here is linked, so no TikTok call
    assert len(bot.cancel_rows(PID)) == 1  # the sentinel's row: the big one never got a row
    assert bot.slack.responses.get(url, []) == []
    assert bot.tiktok.calls_to("cancel") == []
    (posted,) = bot.posts_to("C1")  # the sentinel's announcement only
    assert "small" in text_of(posted.params)
    assert "Traceback" not in bot.log_text()


async def test_a_notification_that_arrives_in_pieces_is_read_whole(h):
    """A pipeline's body can reach the bot in more than one network read (chunked here, or
    split across TCP segments): the bot must read all of it, not just the first piece."""
    await h.restart(notify_token=NOTIFY)
    body = json.dumps({"publish_id": PID, "channel": "C1", "title": "Spring teaser"}).encode()

    async def pieces():
        yield body[:20]
        await asyncio.sleep(0.05)
        yield body[20:]

    async with h.session.post(
        h.url + "/notifications", data=pieces(), headers={"Authorization": f"Bearer {NOTIFY}"}
    ) as resp:
        status, answer = resp.status, await resp.json()
    assert status == 201, answer


# --- path- and SQL-looking input ---------------------------------------------------------------

HOSTILE_VALUES = ["../../etc/passwd", "1; DROP TABLE audit;--", "' OR '1'='1"]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=["path", "drop-table", "or-1-1"])
async def test_path_and_sql_looking_input_is_refused_or_kept_verbatim(h, value):
    await h.restart(notify_token=NOTIFY, admin_users=frozenset({ADMIN}))
    await h.link()
    h.tiktok.add_upload(PID, open_id="open-1")
    before = schema(h)

    refused = [
        (value, "nothing was sent to TikTok"),  # as a publish_id
        (f"status {value}", ""),
        (f"explain {value}", "look like a TikTok code"),
        (f"as {value} {PID}", "isn't a team account name"),
        (f"team connect {value}", ""),
    ]
    for typed, words in refused:
        answer = await h.command(typed, user_id=ADMIN if typed.startswith("team") else "U1")
        text = text_of(answer)
        assert "/tiktok-cancel help" in text, (typed, text)  # a usage answer
        assert words in text, (typed, text)
    assert h.tiktok.calls_to("cancel") == [] and h.tiktok.calls_to("status") == []
    assert cancel_rows(h) == []
    assert db_rows(h, "SELECT * FROM links WHERE kind = 'team'") == []

    # as a reason: a normal cancel, the reason stored exactly as typed
    assert "TikTok is stopping" in text_of(await h.command(f"{PID} {value}"))
    (row,) = cancel_rows(h)
    assert (row["outcome"], row["reason"], row["publish_id"]) == ("ok", value, PID)

    # as an announcement's title (stored verbatim) and account (refused)
    async with h.session.post(
        h.url + "/notifications",
        json={"publish_id": "v_pub_url~v2.6600002", "channel": "C1", "title": value},
        headers={"Authorization": f"Bearer {NOTIFY}"},
    ) as resp:
        assert resp.status == 201
    (announced,) = db_rows(h, "SELECT title FROM announcements")
    assert announced["title"] == value
    async with h.session.post(
        h.url + "/notifications",
        json={"publish_id": "v_pub_url~v2.6600003", "channel": "C1", "account": value},
        headers={"Authorization": f"Bearer {NOTIFY}"},
    ) as resp:
        assert resp.status == 400
        assert "account" in (await resp.json())["error"]

    # as an OAuth state: refused, TikTok never asked
    status, _ = await h.callback({"code": "code.x", "state": value})
    assert status == 400
    assert len(h.tiktok.calls_to("token")) == 1  # only the link above

    # the tables are intact
    assert schema(h) == before
    if not h.settings.database_url:  # SQLite checks its own file
        assert db_rows(h, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    assert len(db_rows(h, "SELECT * FROM links")) == 1


async def test_path_like_publish_id_only_ever_travels_in_the_json_body(h):
    """`/` and `.` are allowed in a publish_id, so a path can pass the check: it must reach
    TikTok as a JSON value on the fixed endpoint, never as part of a URL."""
    await h.link()
    sneaky = "v_pub_url~v2.1/../../../v2/oauth/revoke"
    text = text_of(await h.command(f"{sneaky} ../../etc/passwd"))
    assert "Still running:*" in text and "Traceback" not in text
    text = text_of(await h.command(f"status {sneaky}"))
    assert "Still running:*" in text
    (cancel,) = h.tiktok.calls_to("cancel")
    (status,) = h.tiktok.calls_to("status")
    assert cancel.path == "/v2/post/publish/cancel/" and cancel.body == {"publish_id": sneaky}
    assert status.path == "/v2/post/publish/status/fetch/" and status.body == {"publish_id": sneaky}
    assert h.tiktok.calls_to("revoke") == []
    (row,) = cancel_rows(h)
    assert (row["publish_id"], row["reason"], row["outcome"]) == (
        sneaky,
        "../../etc/passwd",
        "invalid_publish_id",
    )


# --- Block Kit injection ------------------------------------------------------------------------

INJECT_TITLE = (
    'Teaser"}]},{"type":"actions","elements":[{"type":"button","text":'
    '{"type":"plain_text","text":"Pwn"},"url":"https://evil.example"}]}'
)
INJECT_REASON = 'wrong cut"}]} {"type":"actions"} ``` <!channel> *bold* _it_'


def shape(message: dict) -> list:
    """The skeleton of a message: block types, and the action_ids of any buttons."""
    blocks = message.get("blocks")
    assert isinstance(blocks, list) and all(isinstance(b, dict) for b in blocks), blocks
    return [(b["type"], [e.get("action_id") for e in b.get("elements", [])]) for b in blocks]


def section_texts(message: dict) -> str:
    return "\n".join(
        b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b
    )


def urls_in(node) -> list[str]:
    """Every "url" anywhere in a message: where a smuggled link button would show."""
    if isinstance(node, dict):
        found = [node["url"]] if isinstance(node.get("url"), str) else []
        return found + [u for value in node.values() for u in urls_in(value)]
    if isinstance(node, list):
        return [u for item in node for u in urls_in(item)]
    return []


async def cancel_announced(h, publish_id: str, title: str, reason: str) -> dict:
    """Announce, cancel by command; the answer, the announcement, its update and thread."""
    h.tiktok.add_upload(publish_id, open_id="open-1")
    async with h.session.post(
        h.url + "/notifications",
        json={"publish_id": publish_id, "channel": "C1", "title": title},
        headers={"Authorization": f"Bearer {NOTIFY}"},
    ) as resp:
        assert resp.status == 201
        ts = (await resp.json())["ts"]
    answer = await h.command(f"{publish_id} {reason}")
    await h.bot.parts.cancels.drain()
    posts = [c.params for c in h.slack.calls_to("chat.postMessage")]
    (announcement,) = [
        p for p in posts if not p.get("thread_ts") and publish_id in json.dumps(p["blocks"])
    ]
    (thread,) = [p for p in posts if p.get("thread_ts") == ts]
    (update,) = [c.params for c in h.slack.calls_to("chat.update") if c.params["ts"] == ts]
    return {"answer": answer, "announcement": announcement, "thread": thread, "update": update}


async def test_title_and_reason_shaped_like_block_kit_stay_text(h):
    await h.restart(notify_token=NOTIFY, audit_channel=AUDIT_CHANNEL)
    await h.link()
    plain = await cancel_announced(h, "v_pub_url~v2.6610001", "Spring teaser", "wrong cut")
    hostile = await cancel_announced(h, "v_pub_url~v2.6610002", INJECT_TITLE, INJECT_REASON)
    for name in ("answer", "announcement", "thread", "update"):
        assert shape(hostile[name]) == shape(plain[name]), name
        assert not [u for u in urls_in(hostile[name]) if "evil" in u], name
    # the title is shown as text where a title is shown
    for name in ("answer", "announcement", "update"):
        assert '{"type":"actions"' in section_texts(hostile[name]), name
    # the reason is shown in the thread, escaped, and kept verbatim in the audit
    thread = section_texts(hostile["thread"])
    assert 'wrong cut"}]} {"type":"actions"} ``` &lt;!channel&gt;' in thread
    assert "<!channel>" not in json.dumps(hostile["thread"])
    (row,) = [r for r in cancel_rows(h) if r["publish_id"] == "v_pub_url~v2.6610002"]
    assert row["reason"] == INJECT_REASON

    # an upload nobody announced: the entry goes to the audit channel, same skeleton
    h.tiktok.add_upload("v_pub_url~v2.6610003", open_id="open-1")
    await h.command(f"v_pub_url~v2.6610003 {INJECT_REASON}")
    await h.bot.parts.cancels.drain()
    (entry,) = [
        p
        for p in (c.params for c in h.slack.calls_to("chat.postMessage"))
        if p["channel"] == AUDIT_CHANNEL
    ]
    assert shape(entry) == shape(plain["thread"])
    assert "&lt;!channel&gt;" in section_texts(entry)


async def test_reason_cannot_rewrite_the_json_value_of_the_retry_button(h):
    """A cancel before linking offers to retry after linking: the button's value is a short key
    to the stored retry, not the reason. A reason written to close JSON and name another
    upload stays a reason."""
    decoy = "v_pub_url~v2.6620666"
    h.tiktok.add_user("open-1", "Brand Social")
    h.tiktok.add_upload(PID, open_id="open-1")
    h.tiktok.add_upload(decoy, open_id="open-1")
    reason = f'x", "publish_id": "{decoy}", "reason": "y'
    answer = await h.command(f"{PID} {reason}")
    assert "haven't linked" in text_of(answer)
    (consent,) = button_urls(answer)
    code = h.tiktok.issue_code("open-1")
    status, _ = await h.consent({"code": code, "state": state_of(consent)})
    assert status == 200
    (dm,) = await h.slack.wait_for_call("chat.postMessage")
    (retry,) = [b for b in buttons(dm.params) if b["action_id"] == "retry_cancel_key"]
    assert decoy not in retry["value"] and "reason" not in retry["value"]
    assert len(retry["value"]) <= 64
    assert "TikTok is stopping" in text_of(await h.click("retry_cancel_key", retry["value"]))
    (call,) = h.tiktok.calls_to("cancel")
    assert call.body == {"publish_id": PID}
    assert h.tiktok.uploads[decoy].status == "PROCESSING_DOWNLOAD"
    assert cancel_rows(h)[-1]["reason"] == reason


# --- a whole run of `python -m bot` at DEBUG: no secret anywhere -------------------------------


@pytest.fixture
async def secret_slack():
    fake = FakeSlack(
        bot_token="xoxb-" + secrets.token_hex(12),
        signing_secret="sign-" + secrets.token_hex(16),
        app_token="xapp-" + secrets.token_hex(12),
    )
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def secret_tiktok():
    fake = FakeTikTok(
        client_key="ck_" + secrets.token_hex(6), client_secret="cs_" + secrets.token_hex(16)
    )
    await fake.start()
    yield fake
    await fake.stop()


def db_files(bot: BotProcess) -> dict[str, bytes]:
    """The SQLite file and its -wal, -shm (whatever exists), by name."""
    db = Path(bot.db_path)
    found = {p.name: p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name)}
    assert db.name in found
    return found


def leaks(haystack: bytes, needles: list[str]) -> list[str]:
    return [n for n in needles if n.encode() in haystack]


async def test_no_secret_anywhere_after_a_whole_run_of_the_process(
    secret_slack, secret_tiktok, tmp_path, session
):
    slack, tiktok = secret_slack, secret_tiktok
    bot = BotProcess(slack, tiktok, tmp_path / "bot", session)
    states: list[str] = []
    pages: list[str] = []
    confirm_pages: list[tuple[str, str]] = []  # a confirm page carries its own state back
    try:
        await bot.start()
        # link, and a consent link used twice (the second visit is refused)
        tiktok.add_user("open-1", "Brand Social")
        consent = button_urls(await bot.command("connect"))[0]
        states.append(state_of(consent))
        code = tiktok.issue_code("open-1")
        _, confirm_page = await bot.callback({"code": code, "state": states[-1]})
        confirm_pages.append((confirm_page, states[-1]))
        pages.append((await bot.confirm(confirm_page))[1])
        pages.append((await bot.callback({"code": code, "state": states[-1]}))[1])
        assert "Brand Social" in text_of(await bot.command("whoami"))
        # an announced upload cancelled by its button; a cancel by command with a reason
        tiktok.add_upload(PID, open_id="open-1")
        async with session.post(
            bot.url + "/notifications",
            json={"publish_id": PID, "channel": "C1", "title": "Spring teaser"},
            headers={"Authorization": f"Bearer {bot.env['NOTIFY_TOKEN']}"},
        ) as resp:
            assert resp.status == 201
        assert "TikTok is stopping" in text_of(await bot.click("cancel_upload", PID))
        tiktok.add_upload("v_pub_url~v2.6630001", open_id="open-1")
        assert "TikTok is stopping" in text_of(await bot.command("v_pub_url~v2.6630001 wrong cut"))
        # an expired access token: refreshed once, new tokens issued
        tiktok.expire_access_token(tiktok.grants[-1].access_token)
        tiktok.add_upload("v_pub_url~v2.6630002", open_id="open-1")
        assert "TikTok is stopping" in text_of(await bot.command("v_pub_url~v2.6630002"))
        assert tiktok.refresh_count == 1
        # TikTok rate-limits once; Slack's response_url fails once
        tiktok.script_error("cancel", 429, "rate_limit_exceeded")
        slack.fail_response(500)
        tiktok.add_upload("v_pub_url~v2.6630003", open_id="open-1")
        assert "TikTok is stopping" in text_of(await bot.command("v_pub_url~v2.6630003"))
        # a team account, granted and used
        tiktok.add_user("open-brand", "Brand Team")
        team_consent = button_urls(await bot.command("team connect brand", user_id=ADMIN))[0]
        states.append(state_of(team_consent))
        status, page = await bot.consent(
            {"code": tiktok.issue_code("open-brand"), "state": states[-1]}
        )
        assert status == 200, page
        pages.append(page)
        await bot.command("team grant brand <@U2|bob>", user_id=ADMIN)
        tiktok.add_upload("v_pub_url~v2.6630004", open_id="open-brand")
        answer = await bot.command("as brand v_pub_url~v2.6630004", user_id="U2")
        assert "TikTok is stopping" in text_of(answer)
        # a signed TikTok webhook, and one with a wrong signature
        hook = tiktok.webhook_body("post.publish.complete", {"publish_id": PID})
        for signature in (tiktok.sign_webhook(hook), "t=1,s=00"):
            async with session.post(
                bot.url + "/tiktok/webhook", data=hook, headers={"TikTok-Signature": signature}
            ) as resp:
                await resp.read()
        # a consent link nobody finishes, then unlinking (TikTok revokes)
        states.append(state_of(button_urls(await bot.command("connect", user_id="U3"))[0]))
        assert "Unlinked" in text_of(await bot.command("disconnect"))
        assert tiktok.revoked
        running_files = db_files(bot)  # while running: the -wal holds the recent writes
        assert await bot.stop(signal.SIGTERM) == 0
    finally:
        await bot.close()

    needles = sorted(
        set(
            tiktok.all_secrets()  # client secret, codes, every access and refresh token
            + [slack.bot_token, slack.signing_secret, slack.app_token]
            + [bot.env["TOKEN_ENCRYPTION_KEY"], bot.env["NOTIFY_TOKEN"]]
            + states
        )
    )
    assert len(tiktok.grants) >= 3 and all(len(n) >= 8 for n in needles)

    log = bot.log_path.read_bytes() + bot.stdout_path.read_bytes()
    assert b" DEBUG " in log and b"cancel.finished" in log  # the log really saw the run
    assert leaks(log, needles) == []

    assert any(name.endswith("-wal") for name in running_files)
    for files in (running_files, db_files(bot)):  # while running, and after the exit
        for name, data in files.items():
            assert leaks(data, needles) == [], name

    slack_traffic = [json.dumps(c.params) for c in slack.calls] + [
        json.dumps(b) for bodies in slack.responses.values() for b in bodies
    ]
    assert len(slack_traffic) > 10
    for sent in slack_traffic:
        assert leaks(sent.encode(), [n for n in needles if n not in states]) == [], sent[:200]
    for page in pages:  # the OAuth pages a browser was shown
        assert leaks(page.encode(), needles) == []
    for page, own_state in confirm_pages:
        assert leaks(page.encode(), [n for n in needles if n != own_state]) == []
