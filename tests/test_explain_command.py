"""`/tiktok-cancel explain <code>`: every code in plain words, the next step that fits, admins named
by name, and TikTok's facts as its docs state them."""

from __future__ import annotations

import pytest

from tests.conftest import text_of
from tests.explained import assert_explained


async def test_explain_publish_not_cancellable(h):
    text = text_of(await h.command("explain publish_not_cancellable"))
    assert_explained(text)
    assert "TikTok had already finished with it" in text
    assert "Still running:* no" in text
    assert h.tiktok.calls == []


@pytest.mark.parametrize("typed", ["PROCESSING_DOWNLOAD", "processing_download"])
async def test_explain_status_value_is_case_insensitive(h, typed):
    text = text_of(await h.command(f"explain {typed}"))
    assert_explained(text)
    assert "still downloading" in text
    assert "Still running:* yes" in text
    assert "isn't a code we know yet" not in text


async def test_explain_oauth_error(h):
    text = text_of(await h.command("explain invalid_grant"))
    assert "*Next:*" in text
    assert "Still running" not in text, "linking involves no upload"
    assert "TikTok couldn't complete the sign-in, so your account wasn't linked." in text
    assert "example upload" not in text


async def test_explain_unknown_code_uses_the_fallback(h):
    text = text_of(await h.command("explain something_new"))
    assert_explained(text)
    assert "TikTok answered `something_new`, which we don't know yet" in text
    assert "Still running:* unknown" in text
    assert "something_new" in text
    # the intro must not claim the bot knows what the code means
    assert "isn't a code we know yet" in text


async def test_explain_without_a_code_asks_for_one(h):
    text = text_of(await h.command("explain"))
    assert "Which code?" in text


async def test_duration_limit_is_three_minutes_for_everyone_more_for_some(h):
    text = text_of(await h.command("explain duration_check_failed"))
    assert "Every creator may post videos of up to 3 minutes" in text
    assert "some may post 5 or 10 minutes" in text
    assert "some accounts only 3 or 5" not in text


async def test_scope_permission_missed_does_not_claim_relinking_cannot_help(h):
    text = text_of(await h.command("explain scope_permission_missed"))
    assert "won't help" not in text
    assert "We can't tell which from here" in text
    assert "Link the account again" in text


async def test_linking_answers_have_no_still_running_line(h):
    for code in ("access_denied", "invalid_client", "invalid_grant", "invalid_scope"):
        assert "Still running" not in text_of(await h.command(f"explain {code}"))


async def test_admins_are_named_never_the_person_who_installed_it(h):
    await h.restart(admin_users=frozenset({"U0ADMIN"}))
    text = text_of(await h.command("explain url_ownership_unverified"))
    assert "an admin (<@U0ADMIN>)" in text
    assert "installed" not in text


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


OWN_ACCOUNT_IF = "If your own linked TikTok account started this upload"


async def test_an_unaudited_app_posts_only_to_private_accounts_as_only_me(h):
    text = text_of(await h.command("explain unaudited_client_can_only_post_to_private_accounts"))
    assert 'may only post to private accounts, as "Only me"' in text
    assert 'visible to that account only ("Only me")' in text
    assert 'with the privacy "Only me"' in text


@pytest.mark.parametrize("code", ["team_link_expired", "not_granted", "no_such_account"])
async def test_your_own_account_is_offered_only_for_uploads_it_started(h, code):
    text = text_of(await h.command(f"explain {code}"))
    assert OWN_ACCOUNT_IF in text
    assert "or cancel with your own" not in text
    assert "or use your own linked account" not in text


async def test_a_ban_claims_nothing_about_notices_tiktok_does_not_document(h):
    for code in ("spam_risk_user_banned_from_posting", "spam_risk"):
        text = text_of(await h.command(f"explain {code}"))
        assert "notice" not in text, code
    banned = text_of(await h.command("explain spam_risk_user_banned_from_posting"))
    assert "TikTok didn't say why or for how long" in banned


async def test_invalid_grant_on_a_first_link_says_the_code_could_not_be_exchanged(h):
    text = text_of(await h.command("explain invalid_grant"))
    assert "TikTok couldn't complete the sign-in, so your account wasn't linked." in text
    assert "couldn't exchange the sign-in code" in text
    assert "had already been used" in text and "return address doesn't match" in text
    assert "no longer accepts this link" not in text
