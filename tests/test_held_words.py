"""What a held upload says, in every state and after every code a start can end with, over
HTTP against the Slack and TikTok stand-ins:

- a start stopped by the *team account* (its link expired, can't be read, was removed, or the
  bot's own TikTok settings are wrong) names that account and the admins who can relink it,
  never "your link";
- the next step after a start is for the upload pipeline or an admin (`team connect`), never
  the command's cancel or status for an upload that has no publish_id;
- every state reads in VOICE.md's shape (headline, Still running, next step, context line) in
  the announcement, its thread, the clicker's answer, `list` and the App Home;
- an init whose outcome is unknown says to wait at least an hour and check the account before
  sending it again, which may post it twice;
- internal codes get plain words; only TikTok's own codes are shown, in the small print.

Every message the bot sent is checked with slack_sdk's Block Kit models (tests/fuzz/blockkit).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from cryptography.fernet import Fernet

from bot.messages import held as held_messages
from bot.tiktok.catalog import CATALOG
from sandbox.fakes.server import Reply
from storage.held import STATES, HeldUpload
from tests.conftest import buttons, db_execute, db_rows, text_of
from tests.fuzz.blockkit import problems_in
from tests.held_helpers import (
    ADMIN,
    BOB,
    body,
    held_harness,
    inits,
    msg,
    row,
    submit,
    until,
)
from tests.test_app_home import open_home, view_text
from tests.upload_helpers import thread_posts, top_posts, updates

ASK_ADMIN = f"Ask an admin (<@{ADMIN}>)"
AGAIN = "then have your upload pipeline send the video again with a new upload_key."
RELINK = (
    f"{ASK_ADMIN} to link the team account brand again with "
    f"`/tiktok-cancel team connect brand`, {AGAIN}"
)
NEVER_SENT = "no \u2014 it was never sent to TikTok, and we won't try again on our own"
REFUSED = "no \u2014 TikTok didn't take it, so nothing was posted; we won't try again"
RETRY = "no \u2014 nothing was posted; Start now to try again (we won't on our own)"
UNKNOWN = "unknown \u2014 TikTok may have taken it and be fetching it now"
# Words a held start must never say: the reader's own link, or a command for a publish_id.
NOT_FOR_A_HELD_START = (
    "your TikTok",
    "your link",
    "Your link",
    "Connect button",
    "/tiktok-cancel connect",
    "/tiktok-cancel status",
    "/tiktok-cancel run-1",
    "can never be posted twice",
)
# The bot's own codes: never shown to a person, in a sentence or in the small print.
INTERNAL_CODES = (
    "account_changed",
    "timeout",
    "bad_response",
    "server_error",
    "connection_failed",
    "interrupted",
    "refresh_unavailable",
    "refresh_misconfigured",
    "link_expired",
    "link_unreadable",
    "not_linked",
    "no_such_account",
)


@pytest.fixture
async def hb(h):
    return await held_harness(h)


# --- reading what was sent -----------------------------------------------------------------


def sentences(message: dict) -> str:
    """What a message says in sentences: its text and sections, not the small print."""
    parts = [message.get("text", "")]
    parts += [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    return "\n".join(parts)


def small_print(message: dict) -> str:
    return "\n".join(
        e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]
    )


def announcement(hb, ts: str) -> dict:
    return msg(updates(hb, ts)[-1])


def last_reply(hb, ts: str) -> dict:
    return msg(thread_posts(hb, ts)[-1])


def assert_everything_sent_is_valid(hb) -> None:
    found = []
    for call in hb.slack.calls:
        found += problems_in(call.method, call.params)
    for bodies in hb.slack.responses.values():
        for sent in bodies:
            found += problems_in("response_url", sent)
    assert found == []


def assert_voice(message: dict, still: str, step: str = "") -> None:
    """VOICE.md's shape: a bold headline first, Still running, the next step, a context line
    naming the team account and the upload key."""
    first = next(b for b in message["blocks"] if b["type"] == "section")["text"]["text"]
    headline = first.split("\n")[0]
    assert headline.endswith("*") and "*" in headline[:-1], headline
    said = sentences(message)
    assert f"\n*Still running:* {still}" in said
    assert f"\n*Next step:* {step}" in said
    assert "TikTok account: brand" in small_print(message)
    assert "Upload key: `run-1`" in small_print(message)


def assert_team_words(message: dict, headline: str, still: str, step: str) -> None:
    said = sentences(message)
    assert headline in said
    assert_voice(message, still, step)
    for wrong in NOT_FOR_A_HELD_START:
        assert wrong not in said
    for internal in INTERNAL_CODES:
        assert internal not in text_of(message)


async def held_then_pressed(hb, arm=None, user: str = BOB) -> tuple[str, dict]:
    """Submit run-1 (a 10-minute window), `arm()` TikTok's answers, press Start now; the
    announcement's ts and the clicker's own answer."""
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    if arm is not None:
        arm()
    said = await hb.click("start_held", "run-1", user_id=user)
    return answer["ts"], said


# --- the team account: expired, unreadable, removed, misconfigured ------------------------


async def test_a_team_link_tiktok_no_longer_renews_names_the_account_and_its_admins(hb):
    """The account removed the bot in TikTok: its token is refused, and so is the renewal
    (invalid_grant). The start says the *team account* needs relinking, by an admin."""
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    hb.tiktok.revoke_user("open-brand")
    said = await hb.click("start_held", "run-1", user_id=BOB)
    assert (row(hb)["state"], row(hb)["code"]) == ("refused", "link_expired")
    assert inits(hb) == []
    headline = (
        "Couldn't start \u201cSpring teaser\u201d: the team account brand needs to be linked again."
    )
    ts = answer["ts"]
    for message in (said, announcement(hb, ts), last_reply(hb, ts)):
        assert_team_words(message, headline, NEVER_SENT, RELINK)
    assert (
        "TikTok refused to renew the bot's access to brand: the access ran out or was removed "
        "in the TikTok app, so the bot forgot the link. The video was never sent to TikTok."
    ) in sentences(announcement(hb, ts))
    # The thread says what happened and what to do, not the announcement's whole text again.
    assert "TikTok refused to renew" not in sentences(last_reply(hb, ts))
    assert buttons(announcement(hb, ts)) == []
    # A button pressed again on a stale copy of the message: where it stands, same words.
    again = await hb.click("start_held", "run-1", user_id=ADMIN)
    assert again["text"] == (
        "Nothing changed: \u201cSpring teaser\u201d was already tried, and it didn't start."
    )
    assert_voice(again, NEVER_SENT, RELINK)
    assert_everything_sent_is_valid(hb)


async def test_a_team_link_the_bot_cannot_read_after_a_key_change_names_the_account(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    asked = len(hb.tiktok.calls_to("creator_info"))
    await hb.restart(token_encryption_key=Fernet.generate_key().decode())
    said = await hb.click("start_held", "run-1", user_id=BOB)
    assert (row(hb)["state"], row(hb)["code"]) == ("refused", "link_unreadable")
    assert len(hb.tiktok.calls_to("creator_info")) == asked and inits(hb) == []
    headline = (
        "Couldn't start \u201cSpring teaser\u201d: the team account brand needs to be linked again."
    )
    for message in (said, announcement(hb, answer["ts"]), last_reply(hb, answer["ts"])):
        assert_team_words(message, headline, NEVER_SENT, RELINK)
    assert (
        "The bot's security key (TOKEN_ENCRYPTION_KEY) was changed, so the link to brand "
        "stored under the old key can't be read any more."
    ) in sentences(said)
    assert_everything_sent_is_valid(hb)


async def test_a_team_account_removed_after_the_announcement_names_it(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    removed = await hb.command("team remove brand", user_id=ADMIN)
    assert "brand" in text_of(removed)
    said = await hb.click("start_held", "run-1", user_id=ADMIN)
    assert (row(hb)["state"], row(hb)["code"]) == ("refused", "no_such_account")
    headline = (
        "Couldn't start \u201cSpring teaser\u201d: the team account brand is no longer linked."
    )
    for message in (said, announcement(hb, answer["ts"]), last_reply(hb, answer["ts"])):
        assert_team_words(message, headline, NEVER_SENT, RELINK)
    assert inits(hb) == []
    assert_everything_sent_is_valid(hb)


async def test_tiktok_refusing_the_bots_own_settings_names_the_fix_not_a_relink(hb):
    """The bot's client secret is wrong (invalid_client on the renewal): the admins fix the
    settings; the team account's link is kept and needn't be made again."""
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    await hb.restart(tiktok_client_secret="not-the-secret-tiktok-knows")
    for grant in hb.tiktok.grants:
        if grant.open_id == "open-brand":
            hb.tiktok.expire_access_token(grant.access_token)
    said = await hb.click("start_held", "run-1", user_id=BOB)
    assert (row(hb)["state"], row(hb)["code"]) == ("refused", "refresh_misconfigured")
    assert hb.tiktok.calls_to("token")[-1].response["error"] == "invalid_client"
    headline = (
        "Couldn't start \u201cSpring teaser\u201d: TikTok didn't accept this bot's own settings "
        "when we renewed the access to the team account brand."
    )
    step = (
        f"{ASK_ADMIN} to check TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET against the bot's "
        "app in the TikTok developer portal (`python -m bot check` tests them); brand needn't "
        "be linked again. Then have your upload pipeline send the video again with a new "
        "upload_key."
    )
    for message in (said, announcement(hb, answer["ts"]), last_reply(hb, answer["ts"])):
        assert_team_words(message, headline, NEVER_SENT, step)
        assert "app key" not in message["text"]
    assert "the link to brand is kept" in sentences(said)
    kept = db_rows(hb, "SELECT * FROM links WHERE kind = 'team' AND owner = 'brand'")
    assert len(kept) == 1  # true: the link is kept
    assert inits(hb) == []
    assert_everything_sent_is_valid(hb)


async def test_an_init_refused_even_after_a_renewal_asks_an_admin_to_relink(hb):
    ts, said = await held_then_pressed(
        hb, lambda: hb.tiktok.script_error("init", 401, "access_token_invalid", times=2)
    )
    assert (row(hb)["state"], row(hb)["code"]) == ("refused", "access_token_invalid")
    assert len(inits(hb)) == 2 and hb.tiktok.refresh_count == 1
    headline = (
        "Couldn't start \u201cSpring teaser\u201d: TikTok refused the bot's access to the team "
        "account brand, even freshly renewed."
    )
    for message in (said, announcement(hb, ts), last_reply(hb, ts)):
        assert_team_words(message, headline, REFUSED, RELINK)
        assert "TikTok's code: `access_token_invalid`" in small_print(message)
    assert_everything_sent_is_valid(hb)


async def test_a_team_link_without_posting_permission_asks_to_relink_allowing_it(hb):
    ts, said = await held_then_pressed(
        hb, lambda: hb.tiktok.script_error("creator_info", 401, "scope_not_authorized")
    )
    assert (row(hb)["state"], row(hb)["code"]) == ("refused", "scope_not_authorized")
    headline = (
        "Couldn't start \u201cSpring teaser\u201d: the team account brand is linked without "
        "permission to post videos."
    )
    step = (
        f"{ASK_ADMIN} to link the team account brand again with `/tiktok-cancel team connect "
        f"brand` and allow everything TikTok's page asks for, {AGAIN}"
    )
    for message in (said, announcement(hb, ts), last_reply(hb, ts)):
        assert_team_words(message, headline, REFUSED, step)
    assert inits(hb) == []


async def test_a_team_account_relinked_elsewhere_reads_in_voice_shape(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    assert "brand" in text_of(await hb.command("team remove brand", user_id=ADMIN))
    await hb.link_team("brand", admin=ADMIN, open_id="open-other", display_name="Other Brand")
    said = await hb.click("start_held", "run-1", user_id=ADMIN)
    assert row(hb)["state"] == "account_changed" and inits(hb) == []
    step = (
        "If it should go out as the account brand is linked to now, have your upload pipeline "
        "send the video again with a new upload_key"
    )
    for message in (said, announcement(hb, answer["ts"]), last_reply(hb, answer["ts"])):
        assert_team_words(
            message,
            "\u201cSpring teaser\u201d was not started: the team account brand is now linked to a "
            "different TikTok account than the one it was announced with (Brand Social TT).",
            "no \u2014 it was never sent to TikTok, and we won't start it",
            step,
        )
        assert "account_changed" not in text_of(message)
    assert_everything_sent_is_valid(hb)


# --- TikTok refusing a start: every code creator_info and init can answer ------------------

REFUSALS = [
    # (endpoint, HTTP status, code, headline words, next step words)
    (
        "init",
        400,
        "invalid_param",
        "one of the details sent with it was not valid",
        "Ask whoever runs your upload pipeline to check the details it sends (the video link, "
        "the caption, the privacy setting), then send the video again with a new upload_key.",
    ),
    (
        "init",
        400,
        "invalid_params",
        "Couldn't start \u201cSpring teaser\u201d: TikTok says the request was incomplete or "
        "malformed.",
        "Ask whoever runs your upload pipeline to check the details it sends (the video link, "
        "the caption, the privacy setting), then send the video again with a new upload_key.",
    ),
    (
        "init",
        400,
        "invalid_file_upload",
        "the video file details don't add up",
        "Ask whoever runs your upload pipeline to check the video file its link points to, "
        "then send the video again with a new upload_key.",
    ),
    (
        "init",
        400,
        "app_version_check_failed",
        "the TikTok app on the creator's phone is too old",
        f"Ask whoever uses brand on their phone to update the TikTok app, {AGAIN}",
    ),
    (
        "creator_info",
        200,
        "spam_risk_too_many_posts",
        "this account has posted too many times through apps today",
        "Don't send it again now: TikTok would refuse it the same way. Once the 24 hours are "
        "up, have your upload pipeline send the video again with a new upload_key.",
    ),
    (
        "init",
        403,
        "spam_risk_too_many_posts",
        "this account has posted too many times through apps today",
        "Once the 24 hours are up, have your upload pipeline send the video again",
    ),
    (
        "init",
        403,
        "spam_risk_user_banned_from_posting",
        "TikTok has blocked this account from posting for now",
        "Don't send it again while brand is blocked: TikTok would refuse it the same way. Ask "
        "whoever uses brand to look at the account in the TikTok app; once it can post again, "
        "have your upload pipeline send the video again with a new upload_key.",
    ),
    (
        "creator_info",
        200,
        "spam_risk_too_many_pending_share",
        "this account already has too many drafts waiting in its TikTok inbox",
        "Ask whoever uses brand to post or delete the drafts waiting in the TikTok app's "
        f"inbox, or wait a day, {AGAIN}",
    ),
    (
        "creator_info",
        200,
        "reached_active_user_cap",
        "this bot's TikTok app has reached its daily limit of accounts",
        "Have your upload pipeline send the video again tomorrow with a new upload_key. If it "
        f"keeps happening, ask an admin (<@{ADMIN}>) to request a higher limit",
    ),
    (
        "init",
        403,
        "unaudited_client_can_only_post_to_private_accounts",
        "until TikTok has reviewed this bot's TikTok app, it may only post to private "
        'accounts, as "Only me".',
        f"{ASK_ADMIN} to submit the bot's TikTok app for TikTok's review. Until then, to "
        "test, set brand to private in the TikTok app, then have your upload pipeline send the "
        'video again with the privacy "Only me" (SELF_ONLY) and a new upload_key.',
    ),
    (
        "init",
        403,
        "url_ownership_unverified",
        "TikTok doesn't accept the website the video comes from",
        f"{ASK_ADMIN} to verify the video's website",
    ),
    (
        "init",
        403,
        "privacy_level_option_mismatch",
        "the privacy setting asked for isn't one this account offers",
        "Ask whoever runs your upload pipeline to pick one of the privacy options brand offers "
        "now, then send the video again with a new upload_key.",
    ),
    (
        "init",
        400,
        "scope_permission_missed",
        "TikTok says a permission this needs is missing",
        f"{ASK_ADMIN} to link the team account brand again with `/tiktok-cancel team connect "
        "brand` and allow everything TikTok's page asks for; if that doesn't help, to check",
    ),
    (
        "creator_info",
        200,
        "brand_new_code_2027",
        "TikTok refused to start \u201cSpring teaser\u201d.",
        f"{ASK_ADMIN} to find out from TikTok support what TikTok's code below means",
    ),
]


@pytest.mark.parametrize(
    ("endpoint", "http_status", "code", "headline", "step"),
    REFUSALS,
    ids=[f"{r[0]}-{r[2]}" for r in REFUSALS],
)
async def test_each_start_refusal_has_a_next_step_for_the_pipeline_or_an_admin(
    hb, endpoint, http_status, code, headline, step
):
    ts, said = await held_then_pressed(
        hb, lambda: hb.tiktok.script_error(endpoint, http_status, code)
    )
    assert (row(hb)["state"], row(hb)["code"]) == ("refused", code)
    assert len(inits(hb)) == (1 if endpoint == "init" else 0)
    for message in (said, announcement(hb, ts), last_reply(hb, ts)):
        assert headline in sentences(message)
        assert step in sentences(message)
        assert_voice(message, REFUSED)
        assert f"TikTok's code: `{code}`" in small_print(message)
        for wrong in NOT_FOR_A_HELD_START:
            assert wrong not in sentences(message)
    assert buttons(announcement(hb, ts)) == []
    assert_everything_sent_is_valid(hb)


# --- an init whose outcome is unknown --------------------------------------------------------

UNKNOWN_STEP = (
    "Wait at least an hour: TikTok can take up to an hour to fetch a video, and its review "
    "(moderation) can take longer. Then open the TikTok app as Brand Social TT and look at the "
    "account's posts (and drafts). Only if it isn't there, have your upload pipeline send it "
    "again with a new upload_key: if TikTok did take it after all, sending it again may post "
    "it twice."
)


@pytest.mark.parametrize(
    ("reply", "code", "why", "tiktok_said"),
    [
        (Reply(hang=True), "timeout", "no answer came back in time", ""),
        (
            Reply(500, {"error": {"code": "internal_error", "message": "", "log_id": "L1"}}),
            "internal_error",
            "TikTok reported an error on its side without saying what happened",
            "TikTok's code: `internal_error`",
        ),
        (
            Reply(502, body="<html>Bad gateway</html>", content_type="text/html"),
            "server_error",
            "TikTok's servers failed without saying what happened",
            "TikTok's answer: HTTP 502",
        ),
    ],
    ids=["timeout", "internal_error", "5xx-page"],
)
async def test_an_init_with_no_clear_answer_says_wait_an_hour_and_it_may_post_twice(
    hb, reply, code, why, tiktok_said
):
    ts, said = await held_then_pressed(hb, lambda: hb.tiktok.script("init", reply))
    assert (row(hb)["state"], row(hb)["code"]) == ("unknown", code)
    assert len(inits(hb)) == 1
    for message in (said, announcement(hb, ts), last_reply(hb, ts)):
        assert (
            message["text"] == "TikTok may have started \u201cSpring teaser\u201d: we don't know."
        )
        assert_voice(message, UNKNOWN, UNKNOWN_STEP)
        assert code not in sentences(message)
        if code in INTERNAL_CODES:  # ours: not even in the small print
            assert code not in text_of(message)
        assert "can never be posted twice" not in text_of(message)
        assert tiktok_said in small_print(message)
    assert f"and {why}. We won't ask TikTok again on our own" in sentences(announcement(hb, ts))
    assert buttons(announcement(hb, ts)) == []
    assert_everything_sent_is_valid(hb)


async def test_a_start_whose_process_died_says_so_in_plain_words(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    await hb.stop()
    db_execute(
        hb,
        "UPDATE held_uploads SET state = 'starting', by_at = ?, updated_at = ? "
        "WHERE upload_key = ?",
        time.time() - 5,
        time.time() - 5,
        "run-1",
    )
    await hb.start(held_stale_starting_s=1.0)
    await until(lambda: row(hb)["state"] == "unknown")
    assert row(hb)["code"] == "interrupted"
    await until(lambda: len(thread_posts(hb, answer["ts"])) == 1)  # posted after the move
    for message in (announcement(hb, answer["ts"]), last_reply(hb, answer["ts"])):
        assert_voice(message, UNKNOWN, UNKNOWN_STEP)
        assert "interrupted" not in text_of(message)
    assert (
        "and the bot stopped before TikTok's answer came back. We won't ask TikTok again on our "
        "own: if it did take the video, a second request could post it twice."
    ) in sentences(announcement(hb, answer["ts"]))
    assert inits(hb) == []


# --- VOICE.md's shape in every state, everywhere a state is shown ------------------------


async def test_a_held_upload_reads_in_voice_shape_in_its_message_list_and_home(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    still = f"not yet \u2014 it starts <!date^{int(answer['starts_at'])}^{{date_short_pretty}} at "
    (posted,) = top_posts(hb)
    message = msg(posted)
    assert_voice(
        message,
        still,
        "None if it should go out then. Press Cancel to hold it back for good (certain, since "
        "TikTok hasn't been asked yet), or Start now to send it at once.",
    )
    assert "unless someone cancels it; nothing has been sent to TikTok yet" in sentences(message)
    listed = sentences(await hb.command("list", user_id=BOB))
    assert f"\n*Still running:* {still}" in listed
    home = view_text(await open_home(hb, BOB))
    assert f"\n*Still running:* {still}" in home


async def test_a_starting_upload_says_we_are_asking_tiktok_now(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    hold = hb.tiktok.hold("init")
    click = asyncio.create_task(hb.click("start_held", "run-1", user_id=BOB))
    await hold.wait_arrived()
    starting = announcement(hb, answer["ts"])
    assert starting["text"] == "Starting \u201cSpring teaser\u201d at TikTok as Brand Social TT."
    assert_voice(
        starting,
        "unknown \u2014 we're asking TikTok to take it right now",
        "Nothing yet: the upload's message will say how it went.",
    )
    assert f"Start now pressed by <@{BOB}>" in small_print(starting)
    assert buttons(starting) == []
    # A second press meanwhile is told where it stands, in the same shape.
    again = await hb.click("start_held", "run-1", user_id=ADMIN)
    assert (
        "Nothing changed: \u201cSpring teaser\u201d is being started at TikTok right now."
        in (again["text"])
    )
    assert_voice(again, "unknown \u2014 we're asking TikTok to take it right now")
    hold.release()
    said = await click
    assert said["text"].startswith("Started: TikTok accepted \u201cSpring teaser\u201d as upload")
    assert_voice(
        said,
        "yes \u2014 TikTok is fetching it and will post it unless someone cancels it (from now "
        "on a cancel is best effort)",
        "To stop it, press Cancel upload on its message",
    )
    assert len(inits(hb)) == 1
    assert_everything_sent_is_valid(hb)


async def test_a_cancelled_upload_reads_in_voice_shape_everywhere(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    said = await hb.click("cancel_held", "run-1", user_id=BOB)
    step = (
        "Nothing to do. To post it after all, have your upload pipeline send it again with a "
        "new upload_key."
    )
    for message in (said, announcement(hb, answer["ts"]), last_reply(hb, answer["ts"])):
        assert_voice(message, "no \u2014 never sent to TikTok", step)
    assert said["text"] == "Cancelled: \u201cSpring teaser\u201d was never sent to TikTok."
    again = await hb.click("cancel_held", "run-1", user_id=ADMIN)
    assert_voice(again, "no \u2014 never sent to TikTok", step)
    assert inits(hb) == []


async def test_a_start_that_may_be_tried_again_reads_in_voice_shape_everywhere(hb):
    ts, said = await held_then_pressed(
        hb, lambda: hb.tiktok.script_error("init", 429, "rate_limit_exceeded")
    )
    assert row(hb)["state"] == "retry"
    headline = (
        "\u201cSpring teaser\u201d was not started: TikTok is getting too many requests for the "
        "team account brand right now."
    )
    step = "Press Start now to try again (a minute is usually enough), or Cancel."
    for message in (said, announcement(hb, ts), last_reply(hb, ts)):
        assert message["text"] == headline
        assert_voice(message, RETRY, step)
        assert "TikTok's code: `rate_limit_exceeded`" in small_print(message)
    assert [b["action_id"] for b in buttons(announcement(hb, ts))] == ["cancel_held", "start_held"]
    listed = sentences(await hb.command("list", user_id=BOB))
    assert (
        "Not started: TikTok is getting too many requests for the team account brand right now."
        f"\n*Still running:* {RETRY}"
    ) in listed
    assert f"*Still running:* {RETRY}" in view_text(await open_home(hb, BOB))


async def test_a_renewal_tiktok_could_not_answer_names_the_team_account_in_plain_words(hb):
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202
    for grant in hb.tiktok.grants:
        if grant.open_id == "open-brand":
            hb.tiktok.expire_access_token(grant.access_token)
    hb.tiktok.script("token", Reply(503, body="busy", content_type="text/plain"))
    said = await hb.click("start_held", "run-1", user_id=BOB)
    assert (row(hb)["state"], row(hb)["code"]) == ("retry", "refresh_unavailable")
    headline = (
        "\u201cSpring teaser\u201d was not started: TikTok had trouble renewing the bot's access "
        "to the team account brand."
    )
    for message in (said, announcement(hb, answer["ts"]), last_reply(hb, answer["ts"])):
        assert message["text"] == headline
        assert_voice(message, RETRY)
        assert "refresh_unavailable" not in text_of(message)


async def test_a_missed_window_reads_in_voice_shape_everywhere(hb):
    status, answer = await submit(hb, body(hold_s=60))
    assert status == 202
    db_execute(
        hb, "UPDATE held_uploads SET starts_at = ? WHERE upload_key = ?", time.time() - 100, "run-1"
    )
    hb.bot.parts.held_scheduler.wake()
    await until(lambda: row(hb)["state"] == "asking")
    await until(lambda: len(thread_posts(hb, answer["ts"])) == 1)  # posted after the move
    still = "no \u2014 never sent to TikTok; it waits for Start now or Cancel"
    for message in (announcement(hb, answer["ts"]), last_reply(hb, answer["ts"])):
        assert_voice(message, still, "Press Start now to send it, or Cancel.")
    assert f"*Still running:* {still}" in sentences(await hb.command("list", user_id=BOB))
    assert f"*Still running:* {still}" in view_text(await open_home(hb, BOB))


# --- the App Home's history of Start now presses ---------------------------------------------


async def test_home_history_says_how_each_start_ended_in_plain_words(hb):
    keys = ("run-1", "run-2", "run-3", "run-4")
    for key in keys:
        assert (await submit(hb, body(key, hold_s=600)))[0] == 202
    await hb.click("start_held", "run-1", user_id=BOB)  # TikTok takes it
    hb.tiktok.script_error("init", 429, "rate_limit_exceeded")
    await hb.click("start_held", "run-2", user_id=BOB)
    hb.tiktok.script("init", Reply(hang=True))
    await hb.click("start_held", "run-3", user_id=BOB)
    hb.tiktok.revoke_user("open-brand")
    await hb.click("start_held", "run-4", user_id=BOB)
    home = view_text(await open_home(hb, BOB))
    pressed = "Pressed Start now on the held upload"
    assert f"{pressed} `{row(hb)['publish_id']}` as brand: TikTok accepted it" in home
    assert (
        f"{pressed} `run-2` as brand: not started: TikTok is getting too many requests for the "
        "team account brand right now; nothing was posted"
    ) in home
    assert (
        f"{pressed} `run-3` as brand: no clear answer from TikTok, so we don't know whether it "
        "started; see its message"
    ) in home
    assert (
        f"{pressed} `run-4` as brand: not started: the team account brand needs to be linked "
        "again; nothing was sent"
    ) in home
    for internal in ("timeout", "link_expired", "`rate_limit_exceeded`"):
        assert internal not in home


async def test_home_history_of_a_start_cut_off_mid_call_points_at_its_message(hb):
    """The audit row a killed process leaves (`started`, never finished): no `status` to
    check, since a held upload has no publish_id until TikTok answers."""
    await held_then_pressed(hb, lambda: hb.tiktok.script_error("init", 429, "rate_limit_exceeded"))
    db_execute(hb, "UPDATE audit SET state = 'started', outcome = NULL WHERE action = 'start_held'")
    home = view_text(await open_home(hb, BOB))
    assert (
        "Pressed Start now on the held upload `run-1` as brand: unfinished: the bot stopped "
        "while waiting for TikTok, so we don't know whether it started; see its message"
    ) in home
    assert "check with status" not in home


# --- at Slack's limits ---------------------------------------------------------------------

LONG_CAPTION = ("&<>\U0001f389 " * 500)[:2200]  # TikTok's caption limit, all to be escaped
LONG_KEY = "k" + "~" * 126 + "z"  # the longest upload_key POST /uploads takes (128)


async def test_every_held_state_at_its_limits_is_valid_over_http(hb):
    def long_body(key, hold_s=600):
        sent = body(key, hold_s=hold_s)
        sent["post"]["title"] = LONG_CAPTION
        return sent

    keys = [LONG_KEY[:-1] + str(i) for i in range(6)]
    for key in keys:
        status, answer = await submit(hb, long_body(key))
        assert status == 202, answer
    await hb.command("list", user_id=BOB)
    await open_home(hb, BOB)
    await hb.click("cancel_held", keys[0], user_id=BOB)  # cancelled
    hb.tiktok.script_error("init", 429, "rate_limit_exceeded")
    await hb.click("start_held", keys[1], user_id=BOB)  # retry
    hb.tiktok.script_error("init", 500, "internal_error")
    await hb.click("start_held", keys[2], user_id=BOB)  # unknown
    hb.tiktok.script_error("init", 403, "spam_risk_user_banned_from_posting")
    await hb.click("start_held", keys[3], user_id=BOB)  # refused
    await hb.click("start_held", keys[4], user_id=BOB)  # started
    await hb.click("start_held", keys[4], user_id=BOB)  # already started
    db_execute(
        hb, "UPDATE held_uploads SET starts_at = ? WHERE upload_key = ?", time.time() - 9e3, keys[5]
    )
    hb.bot.parts.held_scheduler.wake()
    await until(lambda: row(hb, keys[5])["state"] == "asking")
    await hb.command("list", user_id=BOB)
    await open_home(hb, BOB)
    hb.tiktok.revoke_user("open-brand")
    await hb.click("start_held", keys[5], user_id=BOB)  # refused: the team link expired
    states = [row(hb, key)["state"] for key in keys]
    assert states == ["cancelled", "retry", "unknown", "refused", "started", "refused"]
    assert_everything_sent_is_valid(hb)


def at_limits(state: str, code: str) -> HeldUpload:
    return HeldUpload(
        upload_key="k" * 256,
        team_id="T1",
        channel="C1",
        ts="1.2",
        account="a" * 64,
        source_url="https://cdn.example.com/v.mp4",
        post={"title": LONG_CAPTION, "privacy_level": "SELF_ONLY"},
        hold_s=86400,
        created_at=1_796_000_000.0,
        starts_at=1_796_086_400.0,
        state=state,
        nickname="&<>\U0001f389" * 16,
        publish_id="v_pub_url~v2." + "9" * 51,
        code=code,
        http_status=503,
        log_id="L" * 64,
        by_user="U1",
        by_at=1_796_000_100.0,
    )


START_CODES = sorted({*CATALOG, "interrupted", "brand_new_code_2027", "x" * 256})


@pytest.mark.parametrize("state", STATES)
def test_every_held_message_at_its_limits_is_valid_for_every_code(state):
    """Every builder, every state, every code a start could be left with: Slack takes it,
    and no next step names the command's cancel or status for an upload without a
    publish_id (only `team connect`)."""
    admins = ("U0ADMIN1", "U0ADMIN2")
    for code in START_CODES:
        h = held_messages.HeldView.of(at_limits(state, code))
        built = [
            held_messages.done_message(h, admins),
            held_messages.already_message(h, admins),
            held_messages.refused_reply(h, admins),
            held_messages.retry_reply(h),
            held_messages.unknown_reply(h),
            held_messages.asking_reply(h),
            held_messages.cancelled_reply(h),
            held_messages.started_reply(h),
            {"text": "row", "blocks": held_messages.held_rows(h)},
        ]
        if state != "started":
            built.append(held_messages.held_message(h, ["&<> " * 50] * 7, admins))
        for message in built:
            assert problems_in("chat.postMessage", message) == [], (state, code)
        if state not in ("starting", "started"):
            step = held_messages.next_step(h, admins)
            for allowed in ("`/tiktok-cancel team connect ", "`/tiktok-cancel accounts`"):
                step = step.replace(allowed, "")
            assert "/tiktok-cancel" not in step, (state, code, step)
            assert "your TikTok" not in step and "your link" not in step, (state, code)
