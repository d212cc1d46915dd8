"""The explanation catalog: every code has plain words, and they format cleanly."""

from __future__ import annotations

import re
import string

import pytest

from bot import messages
from bot.messages.outcomes import PERSONAL_CODES
from bot.ops.codes_page import PAGE, render
from bot.tiktok.catalog import CATALOG, ENTRIES, FALLBACK, Explanation, Running, explain, is_known
from storage.announcements import Announcement
from tests.conftest import text_of

CANCEL = [
    "ok",
    "invalid_publish_id",
    "token_not_authorized_for_specified_publish_id",
    "publish_not_cancellable",
    "url_ownership_unverified",
    "access_token_invalid",
    "scope_not_authorized",
    "rate_limit_exceeded",
    "internal_error",
    "invalid_params",
    "scope_permission_missed",
]
# TikTok answers these when it refuses to *start* an upload (§10, §11 init errors).
START = [
    "invalid_param",
    "invalid_file_upload",
    "app_version_check_failed",
    "spam_risk_too_many_pending_share",
    "reached_active_user_cap",
    "unaudited_client_can_only_post_to_private_accounts",
    "privacy_level_option_mismatch",
]
FAULT = ["timeout", "server_error", "bad_response", "connection_failed"]
STATUS = [
    "PROCESSING_UPLOAD",
    "PROCESSING_DOWNLOAD",
    "SEND_TO_USER_INBOX",
    "PUBLISH_COMPLETE",
    "FAILED",
    "posted_despite_cancel",
    "inbox_despite_cancel",
    "cancel_pending",
]
FAIL_REASON = [
    "file_format_check_failed",
    "duration_check_failed",
    "frame_rate_check_failed",
    "picture_size_check_failed",
    "internal",
    "video_pull_failed",
    "photo_pull_failed",
    "publish_cancelled",
    "auth_removed",
    "spam_risk_too_many_posts",
    "spam_risk_user_banned_from_posting",
    "spam_risk_text",
    "spam_risk",
]
OAUTH = [
    "access_denied",
    "invalid_client",
    "invalid_grant",
    "invalid_request",
    "invalid_scope",
    "unauthorized_client",
    "unsupported_grant_type",
    "unsupported_response_type",
]
BOT = [
    "not_linked",
    "link_expired",
    "link_unreadable",
    "in_flight",
    "not_granted",
    "no_such_account",
    "team_link_expired",
    "bot_error",
    "already_final",
    "already_stopping",
]

EXPECTED = (
    [(c, "cancel") for c in CANCEL]
    + [(c, "start") for c in START]
    + [(c, "fault") for c in FAULT]
    + [(c, "status") for c in STATUS]
    + [(c, "fail_reason") for c in FAIL_REASON]
    + [(c, "oauth") for c in OAUTH]
    + [(c, "bot") for c in BOT]
)
ALL = [*ENTRIES, FALLBACK]
TEXT_FIELDS = ("headline", "what", "running_note", "next_step")
PLACEHOLDERS = {
    "upload",
    "id",
    "verb",
    "account",
    "cmd",
    "admins",
    "support",
    "confirm",
    "code",
    "by",
    "asked",
}
VALUES = {
    "upload": '"Spring teaser"',
    "id": "`v_pub_url~v2.123`",
    "verb": "cancel",
    "account": "@brand_social",
    "cmd": "/tiktok-cancel",
    "admins": "an admin (<@U0ADMIN>)",
    "support": "the TikTok log ID below",
    "confirm": "we'll confirm here",
    "code": "brand_new_code_2027",
    "by": "<@U0SAM>",
    "asked": "today at 16:00",
}
JARGON = re.compile(r"\b(token|scope|401|429|publish_id|api)\b", re.IGNORECASE)


def _texts(entry: Explanation) -> list[str]:
    return [getattr(entry, field) for field in TEXT_FIELDS]


@pytest.mark.parametrize(("code", "kind"), EXPECTED)
def test_every_code_has_plain_words(code: str, kind: str) -> None:
    assert is_known(code)
    entry = explain(code)
    assert entry.code == code
    assert entry.kind == kind
    assert entry.headline.strip()
    assert entry.what.strip()
    assert entry.next_step.strip()
    assert isinstance(entry.running, Running)


def test_codes_are_unique() -> None:
    codes = [e.code for e in ENTRIES]
    assert len(codes) == len(set(codes)) == len(CATALOG)


def test_every_entry_kind_is_known() -> None:
    kinds = {"cancel", "start", "fault", "status", "fail_reason", "oauth", "bot"}
    for entry in ALL:
        assert entry.kind in kinds, entry.code


@pytest.mark.parametrize("entry", ALL, ids=lambda e: e.code)
def test_entries_format_with_every_placeholder(entry: Explanation) -> None:
    for text in _texts(entry):
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        assert fields <= PLACEHOLDERS, (entry.code, fields - PLACEHOLDERS)
        out = text.format(**VALUES)
        assert "{" not in out and "}" not in out, (entry.code, out)


@pytest.mark.parametrize("entry", ALL, ids=lambda e: e.code)
def test_headlines_have_no_jargon(entry: Explanation) -> None:
    assert not JARGON.search(entry.headline), entry.headline
    assert "rate limit" not in entry.headline.lower()


@pytest.mark.parametrize("entry", ALL, ids=lambda e: e.code)
def test_no_blame_or_empty_phrases(entry: Explanation) -> None:
    for text in _texts(entry):
        low = text.lower()
        assert "error occurred" not in low
        assert "contact your administrator" not in low
        assert "your fault" not in low


@pytest.mark.parametrize("entry", ALL, ids=lambda e: e.code)
def test_headline_is_one_sentence(entry: Explanation) -> None:
    filled = entry.headline.format(**VALUES)
    assert filled.endswith(".")
    assert ". " not in filled.rstrip(".")


def test_unknown_code_falls_back_and_keeps_the_code() -> None:
    entry = explain("some_new_code")
    assert entry.code == "some_new_code"
    assert entry.headline == FALLBACK.headline
    assert entry.what == FALLBACK.what
    assert entry.running is FALLBACK.running
    assert entry.next_step == FALLBACK.next_step
    assert not is_known("some_new_code")


@pytest.mark.parametrize("code", [None, ""])
def test_missing_code_falls_back(code: str | None) -> None:
    assert explain(code) == FALLBACK


def test_timeout_is_unknown_and_points_at_status() -> None:
    entry = explain("timeout")
    assert entry.running is Running.UNKNOWN
    assert "status" in entry.next_step


def test_fail_reasons_are_not_running() -> None:
    for code in FAIL_REASON:
        assert explain(code).running is Running.NO, code


def test_shared_codes_read_for_cancel_and_check() -> None:
    for code in CANCEL + START:
        headline = explain(code).headline
        for verb in ("cancel", "check"):
            filled = headline.format(**{**VALUES, "verb": verb})
            assert filled
    assert "{verb}" in explain("invalid_publish_id").headline
    assert "{verb}" in explain("rate_limit_exceeded").headline


def test_processing_download_offers_the_cancel_command() -> None:
    assert "`{cmd} {id}`" in explain("PROCESSING_DOWNLOAD").next_step


PID = "v_pub_url~v2.123456789"


async def test_unknown_codes_are_named_verbatim_everywhere(h):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script_error("cancel", 400, "brand_new_code_2027")
    answer = text_of(await h.command(PID))
    explained = text_of(await h.command("explain brand_new_code_2027"))
    words = "TikTok answered `brand_new_code_2027`, which we don't know yet"
    assert words in answer and words in explained
    a = Announcement(PID, "T1", "C1", "1.2", last_code="brand_new_code_2027", last_user_id="U1")
    assert "`brand_new_code_2027`, which we don't know yet" in text_of(
        messages.announcement_message(messages.AnnouncedView.of(a))
    )


def test_no_answer_anywhere_mentions_the_person_who_installed_it():
    assert "installed tiktok-cancel" not in PAGE.read_text(encoding="utf-8")
    assert "installed tiktok-cancel" not in messages.LINKING_NOT_CONFIGURED


def test_two_internal_codes_read_differently():
    pairs = [("internal_error", "server_error"), ("invalid_params", "invalid_param")]
    for one, other in pairs:
        a = text_of(messages.explain_message(one))
        b = text_of(messages.explain_message(other))
        assert a.split("\n")[2] != b.split("\n")[2], (one, other)


def test_the_codes_page_is_generated_from_the_catalog_and_current():
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/codes.md is stale: run python -m bot.ops.codes_page"
    )
    page = render()
    assert "### `publish_not_cancellable`" in page
    assert "TikTok answered `brand_new_code_2027`, which we don't know yet" in page


def _longest_literal(template: str) -> str:
    import string

    return max((lit for lit, *_ in string.Formatter().parse(template)), key=len).strip()


SURFACE_CODES = [c for c in __import__("bot.tiktok.catalog", fromlist=["CATALOG"]).CATALOG]


@pytest.mark.parametrize("code", SURFACE_CODES)
def test_a_code_reads_the_same_on_every_surface(code):
    """The answer, the thread entry, the announcement, `explain` and the Home history all
    carry the same headline words for one code."""
    from bot.actor import Actor
    from bot.outcome import Outcome
    from bot.tiktok.catalog import explain

    entry = explain(code)
    words = _longest_literal(entry.headline_for("cancel"))
    outcome = Outcome("cancel", code, PID, Actor("T1", "U1", "C1"), title="Teaser", announced=True)
    surfaces = {
        "answer": text_of(messages.outcome_message(outcome)),
        "thread": text_of(messages.audit_entry(outcome)),
        "explain": text_of(messages.explain_message(code)),
    }
    if explain(code).kind in ("cancel", "start", "fault", "bot"):
        a = Announcement(PID, "T1", "C1", "1.2", title="Teaser", last_code=code, last_user_id="U1")
        surfaces["announcement"] = text_of(
            messages.announcement_message(messages.AnnouncedView.of(a))
        )
        row = {"action": "cancel", "outcome": code, "state": "finished", "publish_id": PID}
        home = messages.home_view(None, "", False, [], [], [row], 0)
        surfaces["home"] = "\n".join(b["text"]["text"] for b in home["blocks"] if "text" in b)
    if entry.kind == "start":  # `explain` shows it as the answer to a start it is
        surfaces.pop("explain")
        assert _longest_literal(entry.headline) in text_of(messages.explain_message(code))
    if code in ("ok",) + tuple(PERSONAL_CODES):
        surfaces.pop("thread")  # said about someone else there, in the third person
        surfaces.pop("announcement", None)  # the announcement says who is stopping it
    for surface, text in surfaces.items():
        assert words in text, (surface, words)


def test_no_headline_speaks_of_an_app_key():
    for entry in [*CATALOG.values(), FALLBACK]:
        for headline in (entry.headline, entry.headline_on_cancel):
            assert "app key" not in headline, entry.code
