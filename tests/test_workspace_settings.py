"""`/tiktok-cancel settings …`: a workspace's bot admins, its audit channel and its pipeline
tokens, set by its admins in Slack; and the App Home's settings section.

Driven over HTTP: signed slash commands to the running bot, answers read back from the Slack
stand-in and validated with slack_sdk's Block Kit models; pipeline requests with the tokens
made in Slack. With one workspace (SLACK_BOT_TOKEN) the environment's ADMIN_USERS and
AUDIT_CHANNEL are the defaults a setting overrides; with many (Add to Slack) only the
workspace's own settings apply, and its pipelines use its pipeline tokens.
"""

from __future__ import annotations

import logging

import pytest

from bot import messages
from bot.accounts.workspace_settings import (
    MAX_LIVE_TOKENS,
    SettingsChange,
    SettingsView,
    TokenView,
)
from bot.commands.parser import Parsed, parse
from bot.logs import LIBRARY_LOGGERS, ScrubbingFormatter
from bot.messages.settings import home_settings_blocks, settings_change_message
from storage import pipeline_tokens
from tests.conftest import ADMIN, buttons, db_bytes, db_rows, notify, text_of
from tests.fuzz.blockkit import problems_in
from tests.held_helpers import assert_valid_blocks, body, submit
from tests.test_app_home import open_home, view_text
from tests.workspaces_helpers import install, many_workspaces

OWNER = "U0OWNER"  # a Slack workspace owner: a bot admin in every mode
ALICE = "U0ALICE"
SAM = "U0SAM"
NOBODY = "U0NOBODY"  # an ordinary member
OTHER_TEAM = "T0OTHER"  # a second installed workspace (many workspaces)
PID = "v_pub_url~v2.7301"


@pytest.fixture
async def one(h):
    """One workspace, ADMIN_USERS = UADMIN and AUDIT_CHANNEL = CENV from the environment."""
    await h.restart(admin_users=frozenset({ADMIN}), audit_channel="CENV", notify_token="n-token")
    return h


@pytest.fixture
async def many(h):
    """Many workspaces, the fake Slack's installed; OWNER owns it on Slack."""
    await many_workspaces(h)
    h.slack.set_user(OWNER, is_owner=True)
    return h


async def settings_cmd(h, text: str = "", user_id: str = OWNER) -> dict:
    """Type `/tiktok-cancel settings <text>`; the answer, checked as Block Kit."""
    answer = await h.command(f"settings {text}".strip(), user_id=user_id)
    assert_valid(answer)
    return answer


def assert_valid(answer: dict) -> None:
    assert_valid_blocks(answer)
    assert problems_in("response_url", answer) == []
    assert answer["text"]


def settings_rows(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM workspace_settings ORDER BY team_id")


def settings_audit(h) -> list[dict]:
    actions = ("settings_admins", "settings_audit", "pipeline_token_made", "pipeline_token_revoked")
    return [r for r in h.audit_rows() if r["action"] in actions]


def live_tokens(h, team_id: str | None = None) -> list[dict]:
    rows = db_rows(h, "SELECT * FROM pipeline_tokens WHERE revoked_at IS NULL ORDER BY made_at")
    return [r for r in rows if team_id is None or r["team_id"] == team_id]


def secret_of(answer: dict) -> str:
    """The pipeline token shown in the answer that made it."""
    found = {w.strip("`") for w in text_of(answer).split() if w.strip("`").startswith("tcp_")}
    assert len(found) == 1, text_of(answer)
    return found.pop()


def everything_slack_got(h) -> str:
    """Every answer and Web API call the Slack stand-in received, as text."""
    bodies = [repr(b) for found in h.slack.responses.values() for b in found]
    return "\n".join(bodies + [repr(c.params) for c in h.slack.calls])


async def get_upload(h, key: str, token: str) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    async with h.session.get(f"{h.url}/uploads/{key}", headers=headers) as resp:
        return resp.status, await resp.json()


# --- parsing: malformed input is a usage answer, before anything is read or written ----------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("settings", Parsed("settings", action="show")),
        ("SETTINGS", Parsed("settings", action="show")),
        (
            f"settings admins <@{ALICE}|alice> <@{SAM}> <@{ALICE}>",
            Parsed("settings", action="admins", users=(ALICE, SAM)),
        ),
        (
            "settings admins <@W0ENTERPRISE>",
            Parsed("settings", action="admins", users=("W0ENTERPRISE",)),
        ),
        ("settings Admins NONE", Parsed("settings", action="admins")),
        (
            "settings audit <#C0AUDIT|social-audit>",
            Parsed("settings", action="audit", channel="C0AUDIT"),
        ),
        ("settings audit <#G0PRIVATE>", Parsed("settings", action="audit", channel="G0PRIVATE")),
        ("settings audit <#C0AUDIT|>", Parsed("settings", action="audit", channel="C0AUDIT")),
        ("settings audit none", Parsed("settings", action="audit")),
        ("settings pipeline-token", Parsed("settings", action="pipeline_token")),
        (
            "settings pipeline-token revoke PT_3F9A1C2B",
            Parsed("settings", action="pipeline_token_revoke", token_id="pt_3f9a1c2b"),
        ),
    ],
)
def test_settings_commands_parse(text, parsed):
    assert parse(text) == parsed


@pytest.mark.parametrize(
    ("text", "problem", "word"),
    [
        ("settings bogus", "settings_usage", "bogus"),
        ("settings admin <@U0A>", "settings_usage", "admin"),
        ("settings admins", "missing_admins", "settings admins"),
        ("settings admins @alex", "bad_admin", "@alex"),  # not resolved by Slack
        ("settings admins U0ALICE", "bad_admin", "U0ALICE"),
        ("settings admins <@u0lower>", "bad_admin", "<@u0lower>"),
        ("settings admins <!subteam^S0LEADS>", "bad_admin", "<!subteam^S0LEADS>"),
        (f"settings admins <@U{'A' * 31}>", "bad_admin", f"<@U{'A' * 31}>"),
        ("settings admins none <@U0A>", "admins_none_alone", "none <@U0A>"),
        ("settings admins <@U0A> none", "bad_admin", "none"),
        ("settings audit", "missing_channel", "settings audit"),
        ("settings audit #general", "bad_channel", "#general"),
        ("settings audit <#C1> <#C2>", "one_channel", "<#C1> <#C2>"),
        ("settings audit <@U0A>", "bad_channel", "<@U0A>"),
        ("settings audit <#c0lower>", "bad_channel", "<#c0lower>"),
        ("settings pipeline-token now", "token_usage", "now"),
        ("settings pipeline-token revoke", "missing_token_id", "settings pipeline-token revoke"),
        ("settings pipeline-token revoke pt_1234", "bad_token_id", "pt_1234"),
        (
            "settings pipeline-token revoke pt_3f9a1c2b pt_3f9a1c2c",
            "one_token_id",
            "pt_3f9a1c2b pt_3f9a1c2c",
        ),
        # a secret pasted anywhere is never echoed back
        ("settings pipeline-token revoke tcp_s3cr3t", "secret_pasted", "settings pipeline-token"),
        ("settings pipeline-token tcp_s3cr3t", "secret_pasted", "settings pipeline-token"),
        ("settings admins TCP_s3cr3t", "secret_pasted", "settings pipeline-token"),
    ],
)
def test_malformed_settings_commands_are_usage_problems(text, problem, word):
    parsed = parse(text)
    assert (parsed.name, parsed.problem, parsed.word) == ("usage", problem, word)


def test_more_than_a_hundred_admins_is_a_usage_problem():
    named = " ".join(f"<@U{n:04d}>" for n in range(101))
    assert parse(f"settings admins {named}").problem == "too_many_admins"
    hundred = " ".join(f"<@U{n:04d}>" for n in range(100))
    assert len(parse(f"settings admins {hundred}").users) == 100


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("admins @alex", "`@alex` isn't a mention of a person, so nothing changed."),
        ("audit #general", "`#general` isn't a channel mention, so nothing changed."),
        ("pipeline-token revoke 42", "`42` isn't a pipeline token's id"),
        ("adminz <@U0A>", "Did you mean `/tiktok-cancel settings admins`?"),
        ("pipeline-token revoke tcp_s3cr3t-value", "That looks like a pipeline token itself"),
    ],
)
async def test_a_malformed_command_is_answered_with_usage_and_changes_nothing(many, text, said):
    h = many
    answer = await settings_cmd(h, text)

    shown = text_of(answer)
    assert said in shown
    assert "For example: `/tiktok-cancel settings" in shown
    assert "s3cr3t" not in shown
    assert settings_rows(h) == [] and live_tokens(h) == [] and settings_audit(h) == []


# --- who may see and change them --------------------------------------------------------------


async def test_a_member_who_is_not_an_admin_is_refused_and_told_who_can_help(many):
    h = many
    await settings_cmd(h, f"admins <@{ALICE}|alice>")
    made = secret_of(await settings_cmd(h, "pipeline-token"))
    (token,) = live_tokens(h)
    before = (settings_rows(h), live_tokens(h), h.audit_rows())

    for text in ("", f"admins <@{NOBODY}>", "admins none", "audit <#C0X>", "pipeline-token"):
        answer = await settings_cmd(h, text, user_id=NOBODY)
        shown = text_of(answer)
        assert "Only bot admins see and change this workspace's settings" in shown
        assert f"Who can help: <@{ALICE}>, or any workspace admin or owner." in shown
        assert token["token_id"] not in shown and made not in shown
    answer = await settings_cmd(h, f"pipeline-token revoke {token['token_id']}", user_id=NOBODY)
    assert "Only bot admins" in text_of(answer)
    assert (settings_rows(h), live_tokens(h), h.audit_rows()) == before


async def test_many_workspaces_ignore_admin_users_from_the_environment(many):
    h = many  # ADMIN_USERS=UENVADMIN is set, and means nothing with many workspaces
    answer = await settings_cmd(h, user_id="UENVADMIN")
    assert "Only bot admins" in text_of(answer)
    shown = text_of(await settings_cmd(h))
    assert "*Bot admins:* nobody named." in shown
    assert "UENVADMIN" not in shown and "CENVAUDIT" not in shown


# --- settings admins ---------------------------------------------------------------------------


async def test_admins_are_replaced_shown_and_audited(many):
    h = many
    answer = await settings_cmd(h, f"admins <@{ALICE}|alice> <@{SAM}|sam>")

    shown = text_of(answer)
    assert f"The bot admins here are now <@{ALICE}>, <@{SAM}>." in shown
    assert "Before: nobody named." in shown
    assert "/tiktok-cancel settings admins none" in shown
    (row,) = settings_rows(h)
    assert (row["team_id"], row["admins"], row["updated_by"]) == (
        h.slack.team_id,
        f'["{ALICE}", "{SAM}"]',
        OWNER,
    )

    replaced = text_of(await settings_cmd(h, f"admins <@{SAM}>", user_id=ALICE))
    assert f"The bot admins here are now <@{SAM}>." in replaced
    assert f"Before: <@{ALICE}>, <@{SAM}>." in replaced
    assert "You're not one of them now, so you can't change these settings any more" in replaced

    again = text_of(await settings_cmd(h, f"admins <@{SAM}>", user_id=SAM))
    assert f"The bot admins here already were <@{SAM}>, so nothing changed." in again
    await settings_cmd(h, f"admins <@{ALICE}> <@{SAM}>", user_id=SAM)
    reordered = text_of(await settings_cmd(h, f"admins <@{SAM}> <@{ALICE}>", user_id=SAM))
    assert "already were" in reordered and "nothing changed" in reordered

    cleared = text_of(await settings_cmd(h, "admins none", user_id=SAM))
    assert "This workspace no longer names bot admins." in cleared
    assert "Slack's workspace admins and owners are its bot admins." in cleared
    again = text_of(await settings_cmd(h, "admins none"))
    assert "This workspace names no bot admins of its own, so nothing changed." in again
    audited = [(r["user_id"], r["reason"], r["outcome"], r["state"]) for r in settings_audit(h)]
    assert audited == [
        (OWNER, f"admins {ALICE},{SAM}", "ok", "finished"),
        (ALICE, f"admins {SAM}", "ok", "finished"),
        (SAM, f"admins {ALICE},{SAM}", "ok", "finished"),
        (SAM, "admins none", "ok", "finished"),
    ]
    assert {r["team_id"] for r in settings_audit(h)} == {h.slack.team_id}
    assert {r["action"] for r in settings_audit(h)} == {"settings_admins"}


async def test_an_admin_named_in_settings_can_then_link_a_team_account(many):
    h = many
    refused = await h.command("team connect brand", user_id=ALICE)
    assert "Only admins manage team accounts" in text_of(refused)

    await settings_cmd(h, f"admins <@{ALICE}|alice>")

    answer = await h.command("team connect brand", user_id=ALICE)
    assert [b["action_id"] for b in buttons(answer)] == ["connect_tiktok"]
    await h.link_team("brand", admin=ALICE, open_id="open-brand")
    (link,) = db_rows(h, "SELECT * FROM links WHERE kind = 'team'")
    assert (link["team_id"], link["owner"], link["linked_by"]) == (h.slack.team_id, "brand", ALICE)


async def test_one_workspace_admins_override_admin_users_and_none_restores_them(one):
    h = one
    shown = text_of(await settings_cmd(h, user_id=ADMIN))
    assert f"*Bot admins:* <@{ADMIN}> (ADMIN_USERS, from the bot's environment)." in shown

    answer = text_of(await settings_cmd(h, f"admins <@{ALICE}|alice>", user_id=ADMIN))
    assert f"The bot admins here are now <@{ALICE}>." in answer
    assert "this list replaces ADMIN_USERS from the bot's environment" in answer
    assert f"Before: ADMIN_USERS from the bot's environment (<@{ADMIN}>)." in answer
    assert "You're not one of them now" in answer

    refused = await h.command("team connect brand", user_id=ADMIN)
    assert "Only admins manage team accounts" in text_of(refused)
    allowed = await h.command("team connect brand", user_id=ALICE)
    assert [b["action_id"] for b in buttons(allowed)] == ["connect_tiktok"]
    shown = text_of(await settings_cmd(h, user_id=ALICE))
    assert (
        f"*Bot admins:* <@{ALICE}> (set here with `/tiktok-cancel settings admins`; "
        f"it overrides ADMIN_USERS (<@{ADMIN}>))."
    ) in shown

    restored = text_of(await settings_cmd(h, "admins none", user_id=ALICE))
    assert (
        "This workspace's own list of bot admins is cleared, so ADMIN_USERS from the bot's "
        f"environment applies again: <@{ADMIN}>."
    ) in restored
    assert f"Before: <@{ALICE}>." in restored
    assert "You're not one of them now" in restored
    allowed_again = await h.command("team connect brand", user_id=ADMIN)
    assert [b["action_id"] for b in buttons(allowed_again)] == ["connect_tiktok"]
    assert [r["reason"] for r in settings_audit(h)] == [f"admins {ALICE}", "admins none"]


# --- settings audit ----------------------------------------------------------------------------


async def test_the_audit_channel_takes_unannounced_cancels_audit_entries(many):
    h = many
    await h.link()  # U1, through the real consent round trip, in this workspace
    h.tiktok.add_upload(PID)

    answer = text_of(await settings_cmd(h, "audit <#C0SOCIAL|social-audit>"))

    assert "Audit entries now go to <#C0SOCIAL>." in answer
    assert "invite the bot there (`/invite @tiktok-cancel`)" in answer
    assert "Before: none." in answer
    (row,) = settings_rows(h)
    assert (row["audit_channel"], row["updated_by"]) == ("C0SOCIAL", OWNER)
    (entry,) = settings_audit(h)
    assert (entry["action"], entry["reason"], entry["user_id"]) == (
        "settings_audit",
        "audit C0SOCIAL",
        OWNER,
    )

    cancelled = await h.command(f"{PID} wrong cut")
    assert "TikTok is stopping" in text_of(cancelled)
    await h.bot.parts.cancels.drain()
    posts = [c.params["channel"] for c in h.slack.calls_to("chat.postMessage")]
    assert "C0SOCIAL" in posts and "CENVAUDIT" not in posts
    (post,) = [c for c in h.slack.calls_to("chat.postMessage") if c.params["channel"] == "C0SOCIAL"]
    assert PID in text_of(post.params) and "<@U1>" in text_of(post.params)
    assert problems_in("chat.postMessage", post.params) == []


async def test_audit_none_stops_posting_entries_in_a_channel(many):
    h = many
    await h.link()
    await settings_cmd(h, "audit <#C0SOCIAL>")
    cleared = text_of(await settings_cmd(h, "audit none"))
    assert "Audit entries are no longer posted in a channel." in cleared
    assert "Before: <#C0SOCIAL>." in cleared
    again = text_of(await settings_cmd(h, "audit none"))
    assert "This workspace had no audit channel of its own, so nothing changed." in again
    h.tiktok.add_upload(PID)
    posted_before = len(h.slack.calls_to("chat.postMessage"))

    await h.command(PID)
    await h.bot.parts.cancels.drain()

    assert len(h.slack.calls_to("chat.postMessage")) == posted_before
    assert h.last_audit()["action"] == "cancel"
    assert [r["reason"] for r in settings_audit(h)] == ["audit C0SOCIAL", "audit none"]


async def test_one_workspace_audit_overrides_audit_channel_and_none_restores_it(one):
    h = one
    await h.link()
    h.tiktok.add_upload(PID)
    answer = text_of(await settings_cmd(h, "audit <#C0SOCIAL|social>", user_id=ADMIN))
    assert "In this workspace it replaces AUDIT_CHANNEL from the bot's environment." in answer
    assert "Before: AUDIT_CHANNEL from the bot's environment (<#CENV>)." in answer
    shown = text_of(await settings_cmd(h, user_id=ADMIN))
    assert "<#C0SOCIAL> (set here with `/tiktok-cancel settings audit`; it overrides " in shown

    await h.command(PID)
    await h.bot.parts.cancels.drain()
    channels = [c.params["channel"] for c in h.slack.calls_to("chat.postMessage")]
    assert "C0SOCIAL" in channels and "CENV" not in channels

    restored = text_of(await settings_cmd(h, "audit none", user_id=ADMIN))
    assert "AUDIT_CHANNEL from the bot's environment applies again: <#CENV>." in restored
    h.tiktok.add_upload("v_pub_url~v2.7302")
    await h.command("v_pub_url~v2.7302")
    await h.bot.parts.cancels.drain()
    channels = [c.params["channel"] for c in h.slack.calls_to("chat.postMessage")]
    assert channels.count("CENV") == 1


# --- settings pipeline-token --------------------------------------------------------------------


async def test_a_pipeline_token_is_shown_once_stored_hashed_and_works_in_its_workspace(
    many, caplog
):
    h = many
    caplog.set_level(logging.DEBUG)
    await h.link_team("brand", admin=OWNER, open_id="open-brand")

    answer = await settings_cmd(h, "pipeline-token")

    secret = secret_of(answer)
    (token,) = live_tokens(h)
    shown = text_of(answer)
    assert f"Made the pipeline token `{token['token_id']}` for this workspace." in shown
    assert "this is the only time it is shown" in shown
    assert f"`Authorization: Bearer {secret}`" in shown
    for route in ("POST ", "/notifications", "/uploads", "GET ", "/uploads/&lt;upload_key&gt;"):
        assert route in shown
    assert "https://bot.example.com/notifications" in shown  # the bot's public address
    assert f"settings pipeline-token revoke {token['token_id']}" in shown
    assert secret not in answer["text"]  # never in a notification's preview
    assert (token["team_id"], token["made_by"]) == (h.slack.team_id, OWNER)
    assert token["token_hash"] == pipeline_tokens.digest(secret)
    assert secret.encode() not in db_bytes(h)
    (made,) = settings_audit(h)
    assert (made["action"], made["reason"], made["user_id"]) == (
        "pipeline_token_made",
        token["token_id"],
        OWNER,
    )

    status, posted = await notify(h, {"publish_id": PID, "channel": "C1"}, token=secret)
    assert status == 201, posted
    (announced,) = db_rows(h, "SELECT * FROM announcements")
    assert announced["team_id"] == h.slack.team_id
    status, held = await submit(h, body("run-7301", hold_s=600), token=secret)
    assert status == 202, held
    status, state = await get_upload(h, "run-7301", secret)
    assert (status, state["upload_key"], state["state"]) == (200, "run-7301", "held")
    for env_token in ("env-notify-token", "env-upload-token"):  # not with many workspaces
        assert (await get_upload(h, "run-7301", env_token))[0] == 401

    listed = text_of(await settings_cmd(h))
    assert f"`{token['token_id']}`, made by <@{OWNER}>" in listed
    home = view_text(await open_home(h, OWNER))
    assert token["token_id"] in home
    assert everything_slack_got(h).count(secret) == 2  # the one answer: the block and its use
    ours = [r for r in caplog.records if not r.name.startswith(LIBRARY_LOGGERS)]
    assert ours and not [r for r in ours if secret in r.getMessage() + repr(r.__dict__)]
    assert secret not in scrubbed(caplog.text)  # libraries' DEBUG lines, scrubbed as served


def scrubbed(text: str) -> str:
    return ScrubbingFormatter([]).scrub(text)


async def test_another_workspaces_token_cannot_see_this_ones_uploads(many):
    h = many
    await h.link_team("brand", admin=OWNER, open_id="open-brand")
    mine = secret_of(await settings_cmd(h, "pipeline-token"))
    await install(h, OTHER_TEAM, "xoxb-other-workspace")
    _, theirs = await h.bot.parts.store.run(pipeline_tokens.make, OTHER_TEAM, "U0THEM")
    assert (await submit(h, body("run-7302", hold_s=600), token=mine))[0] == 202

    status, answer = await get_upload(h, "run-7302", theirs)

    assert (status, answer) == (404, {"error": "no held upload has that upload_key"})
    assert (await get_upload(h, "run-7302", mine))[0] == 200
    listed = text_of(await settings_cmd(h))  # their token is not listed here
    (their_row,) = live_tokens(h, OTHER_TEAM)
    assert their_row["token_id"] not in listed
    refused = await settings_cmd(h, f"pipeline-token revoke {their_row['token_id']}")
    assert "This workspace has no working pipeline token" in text_of(refused)
    assert live_tokens(h, OTHER_TEAM) == [their_row]


async def test_a_revoked_pipeline_token_is_refused_at_once(many):
    h = many
    await h.link_team("brand", admin=OWNER, open_id="open-brand")
    first = secret_of(await settings_cmd(h, "pipeline-token"))
    second = secret_of(await settings_cmd(h, "pipeline-token"))
    assert first != second
    assert (await submit(h, body("run-7303", hold_s=600), token=first))[0] == 202
    (token, kept) = live_tokens(h)

    answer = text_of(await settings_cmd(h, f"pipeline-token revoke {token['token_id']}"))

    assert f"Revoked the pipeline token `{token['token_id']}`." in answer
    assert "A pipeline still using it is refused from now on." in answer
    assert "1 still work" in answer
    assert (await notify(h, {"publish_id": PID, "channel": "C1"}, token=first))[0] == 401
    assert (await get_upload(h, "run-7303", first)) == (
        401,
        {"error": "missing or wrong bearer token"},
    )
    assert (await submit(h, body("run-7304", hold_s=600), token=first))[0] == 401
    assert (await get_upload(h, "run-7303", second))[0] == 200  # the other one still works
    assert live_tokens(h) == [kept]
    again = text_of(await settings_cmd(h, f"pipeline-token revoke {token['token_id']}"))
    assert "This workspace has no working pipeline token" in again
    assert [(r["action"], r["reason"]) for r in settings_audit(h)] == [
        ("pipeline_token_made", token["token_id"]),
        ("pipeline_token_made", kept["token_id"]),
        ("pipeline_token_revoked", token["token_id"]),
    ]


async def test_a_workspace_holds_at_most_twenty_working_tokens(many):
    h = many
    for _ in range(MAX_LIVE_TOKENS - 1):
        await h.bot.parts.store.run(pipeline_tokens.make, h.slack.team_id, OWNER)
    secret_of(await settings_cmd(h, "pipeline-token"))  # the twentieth

    answer = await settings_cmd(h, "pipeline-token")

    assert "already has 20 pipeline tokens, so no new one was made" in text_of(answer)
    assert "tcp_" not in text_of(answer)
    assert len(live_tokens(h)) == MAX_LIVE_TOKENS
    first = live_tokens(h)[0]["token_id"]
    await settings_cmd(h, f"pipeline-token revoke {first}")
    secret_of(await settings_cmd(h, "pipeline-token"))


async def test_one_workspace_refuses_pipeline_tokens_and_names_the_environment(one):
    h = one
    for text in ("pipeline-token", "pipeline-token revoke pt_3f9a1c2b"):
        answer = text_of(await settings_cmd(h, text, user_id=ADMIN))
        assert (
            "Pipeline tokens are for a bot serving many workspaces, so nothing changed." in answer
        )
        assert "NOTIFY_TOKEN" in answer and "UPLOAD_TOKEN" in answer
        assert "`POST /notifications` is on" in answer
        assert "are off: UPLOAD_TOKEN is unset" in answer
    assert db_rows(h, "SELECT * FROM pipeline_tokens") == [] and settings_audit(h) == []
    shown = text_of(await settings_cmd(h, user_id=ADMIN))
    assert "*Pipelines:* this deployment serves one workspace" in shown
    assert "settings pipeline-token" not in shown


# --- the App Home ------------------------------------------------------------------------------


async def test_the_home_shows_the_settings_to_admins_only(many):
    h = many
    await settings_cmd(h, f"admins <@{ALICE}>")
    await settings_cmd(h, "audit <#C0SOCIAL>")
    await settings_cmd(h, "pipeline-token")
    (token,) = live_tokens(h)

    for admin in (OWNER, ALICE):
        view = await open_home(h, admin)
        assert problems_in("views.publish", {"view": view}) == []
        shown = view_text(view)
        assert "*This workspace's settings* (you're a bot admin)" in shown
        assert f"*Bot admins:* <@{ALICE}> (set here" in shown
        assert "*Audit channel:* <#C0SOCIAL>" in shown
        assert f"`{token['token_id']}`, made by <@{OWNER}>" in shown
    owner_history = view_text(await open_home(h, OWNER))
    assert "Changed this workspace's bot admins" in owner_history
    assert f"Made the pipeline token `{token['token_id']}`" in owner_history

    member = view_text(await open_home(h, NOBODY))
    assert "This workspace's settings" not in member
    assert token["token_id"] not in member and "C0SOCIAL" not in member


# --- the messages, at their limits ---------------------------------------------------------------


def test_settings_messages_are_valid_block_kit_at_their_limits():
    long_user = "U" + "A" * 255
    hostile = "U<!channel>&<b>"
    people = tuple(f"{long_user[:-4]}{n:04d}" for n in range(100))
    tokens = tuple(TokenView("pt_" + "f" * 253, long_user, 1.9e9) for _ in range(MAX_LIVE_TOKENS))
    for many in (True, False):
        view = SettingsView(
            many=many,
            admins=(hostile, *people[1:]),
            admins_from="slack",
            audit_channel="C<!here>&" + "9" * 250,
            audit_from="slack",
            env_admins=people,
            env_audit_channel="C" + "8" * 255,
            tokens=tokens if many else (),
            public_url="https://bot.example.com/" + "p" * 200,
        )
        changes = [
            ("show", SettingsChange("ok", view)),
            ("admins", SettingsChange("ok", view, people, caller_still_admin=False)),
            ("admins", SettingsChange("unchanged", view, people)),
            ("audit", SettingsChange("ok", view, "C" + "7" * 255)),
            ("audit", SettingsChange("unchanged", view, None)),
            (
                "pipeline_token",
                SettingsChange("ok", view, token_id="pt_" + "a" * 253, token="tcp_" + "<&>" * 84),
            ),
            ("pipeline_token", SettingsChange("too_many_tokens", view)),
            ("pipeline_token", SettingsChange("one_workspace", view)),
            ("pipeline_token_revoke", SettingsChange("ok", view, token_id="pt_" + "b" * 253)),
            ("pipeline_token_revoke", SettingsChange("no_such_token", view, token_id="pt_x")),
            ("show", SettingsChange("not_admin")),
        ]
        for action, change in changes:
            for users, channel in ((people, "C" + "6" * 255), ((), "")):
                answer = settings_change_message(action, change, people, users, channel)
                assert_valid(answer)
                shown = text_of(answer)
                assert "<!channel>" not in shown and "<!here>" not in shown and "<b>" not in shown
        home = messages.home_view(None, "", True, [], [], [], 1.9e9, workspace=view)
        assert problems_in("views.publish", {"view": home}) == []
        assert len(home_settings_blocks(view)) == 3
