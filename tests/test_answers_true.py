"""Facts the review of every answer found wrong, each with what the person now reads.

Expected words are written out here, never read back from the catalog under test.
"""

from __future__ import annotations

import pytest

from bot import messages
from bot.messages.outcomes import PERSONAL_CODES
from bot.ops.codes_page import PAGE, render
from sandbox.fakes import Reply
from storage.announcements import Announcement
from tests.conftest import text_of

PID = "v_pub_url~v2.123456789"


async def test_duration_limit_is_three_minutes_for_everyone_more_for_some(h):
    text = text_of(await h.command("explain duration_check_failed"))
    assert "Every creator may post videos of up to 3 minutes" in text
    assert "some may post 5 or 10 minutes" in text
    assert "some accounts only 3 or 5" not in text


async def test_access_token_invalid_says_renewal_worked_and_tiktok_still_refused(h):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script_error("cancel", 401, "access_token_invalid", times=2)
    text = text_of(await h.command(PID))
    refreshes = [c for c in h.tiktok.calls_to("token") if c.body["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1, "renewed once before bothering anyone"
    assert "We renewed the access, which worked, and TikTok still refused it" in text
    assert "Still running:* yes" in text


async def test_scope_permission_missed_does_not_claim_relinking_cannot_help(h):
    text = text_of(await h.command("explain scope_permission_missed"))
    assert "won't help" not in text
    assert "We can't tell which from here" in text
    assert "Link the account again" in text


def test_an_internal_problem_about_a_cancel_says_unknown_and_how_to_check():
    text = text_of(messages.internal_problem_message(PID, {"U0ADMIN"}))
    assert "before TikTok was asked" not in text
    assert "can't tell whether TikTok was asked" in text
    assert "Still running:* unknown" in text
    assert f"/tiktok-cancel status {PID}" in text
    assert "<@U0ADMIN>" in text


async def test_a_failed_status_check_knows_nothing_about_the_upload(h):
    await h.link()
    h.tiktok.add_upload(PID)
    h.tiktok.script_error("status", 429, "rate_limit_exceeded", times=3)
    text = text_of(await h.command(f"status {PID}"))
    assert "Still running:* unknown \u2014 we couldn't find out from TikTok just now" in text
    assert "Still running:* yes" not in text


def test_internal_fail_reason_in_a_thread_points_at_the_upload_id_not_a_missing_log_id():
    a = Announcement(PID, "T1", "C1", "1.2", status="FAILED", fail_reason="internal", final=True)
    text = text_of(messages.final_state_message(messages.AnnouncedView.of(a)))
    assert "log ID below" not in text
    assert f"quoting the upload ID `{PID}`" in text


async def test_a_cancel_without_a_log_id_has_no_empty_log_line(h):
    await h.link()
    h.tiktok.script("cancel", *[Reply(status=500, body=b"")] * 3)
    text = text_of(await h.command(PID))
    assert "log ID: none" not in text
    assert "log ID below" not in text


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


async def test_linking_answers_have_no_still_running_line(h):
    for code in ("access_denied", "invalid_client", "invalid_grant", "invalid_scope"):
        assert "Still running" not in text_of(await h.command(f"explain {code}"))


async def test_admins_are_named_never_the_person_who_installed_it(h):
    await h.restart(admin_users=frozenset({"U0ADMIN"}))
    text = text_of(await h.command("explain url_ownership_unverified"))
    assert "an admin (<@U0ADMIN>)" in text
    assert "installed" not in text


def test_no_answer_anywhere_mentions_the_person_who_installed_it():
    assert "installed tiktok-cancel" not in PAGE.read_text(encoding="utf-8")
    assert "installed tiktok-cancel" not in messages.LINKING_NOT_CONFIGURED


@pytest.mark.parametrize(
    "code",
    ["app_version_check_failed", "privacy_level_option_mismatch", "reached_active_user_cap"],
)
async def test_init_only_codes_read_as_tiktok_refusing_to_start(h, code):
    text = text_of(await h.command(f"explain {code}"))
    assert "TikTok refused to start" in text
    assert "Couldn't cancel" not in text


async def test_explain_not_granted_uses_a_placeholder_not_a_real_account(h):
    text = text_of(await h.command("explain not_granted"))
    assert "team grant &lt;account&gt; @you" in text
    assert "team grant your TikTok account" not in text
    assert "brand" not in text


async def test_cancel_is_accepted_as_a_word(h):
    await h.link()
    h.tiktok.add_upload(PID)
    text = text_of(await h.command(f"cancel {PID} wrong cut"))
    assert "TikTok is stopping" in text
    assert h.last_audit()["reason"] == "wrong cut"


async def test_a_typo_gets_the_nearest_command_and_one_example_not_the_whole_help(h):
    text = text_of(await h.command(f"stauts {PID}"))
    assert "We don't know the word `stauts`." in text
    assert "Did you mean `/tiktok-cancel status`?" in text
    assert f"For example: `/tiktok-cancel status {PID}`" in text
    assert "whoami" not in text, "the whole help list is not repeated"


async def test_what_was_typed_is_echoed_escaped(h):
    text = text_of(await h.command("status <!channel>"))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text


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


def test_the_title_is_named_once_in_an_announcement():
    a = Announcement(PID, "T1", "C1", "1.2", title="Spring teaser", status="PROCESSING_DOWNLOAD")
    blocks = messages.announcement_message(messages.AnnouncedView.of(a))["blocks"]
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert text.count("Spring teaser") == 1


def test_echoed_text_never_becomes_a_link():
    a = Announcement(PID, "T1", "C1", "1.2", title="https://evil.example/login")
    for block in messages.announcement_message(messages.AnnouncedView.of(a))["blocks"]:
        if block["type"] == "section":
            assert block["text"]["verbatim"] is True
        if block["type"] == "context":
            assert all(e["verbatim"] is True for e in block["elements"])


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
