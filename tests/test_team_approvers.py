"""`/tiktok-cancel team approvers <account> <@user or @group>… [needed N]` and `… none`: an
admin makes approval the rule for a team account (the uploads that then wait are tested with
the approval flow itself).

Driven over HTTP: signed slash commands to the running bot, the team account linked through the
real consent round trip. Each test checks what the admin reads (validated with slack_sdk's
Block Kit models), the `account_approvers` row, and the audit trail.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import account_approvers
from tests.conftest import ADMIN, db_rows, text_of
from tests.fuzz.blockkit import problems_in
from tests.fuzz.counting import count_case
from tests.fuzz.strategies import hostile_text, slack_escaped
from tests.held_helpers import assert_valid_blocks

ALICE = "U0ALICE"
SAM = "U0SAM"
ENTERPRISE = "W0RILEY"  # an Enterprise Grid user id
LEADS = "S0LEADS"  # a user group
NOBODY = "U0NOBODY"  # an ordinary workspace member
BOB = "U0BOB"  # granted the team account, not an admin
LONG_ACCOUNT = "b" * 64  # the longest team account name


@pytest.fixture
async def ha(h):
    """The bot with UADMIN in ADMIN_USERS and the team account `brand` linked."""
    await h.restart(admin_users=frozenset({ADMIN}))
    await h.link_team("brand", admin=ADMIN, open_id="open-brand")
    return h


async def approvers(h, text: str, user_id: str = ADMIN) -> dict:
    """Type `/tiktok-cancel team approvers <text>`; the answer, checked as Block Kit."""
    answer = await h.command(f"team approvers {text}", user_id=user_id)
    assert_valid(answer)
    return answer


def assert_valid(answer: dict) -> None:
    """Block Kit by slack_sdk's models: each block parsed and validated, and every object
    inside it too (tests/fuzz/blockkit.py)."""
    assert_valid_blocks(answer)
    assert problems_in("response_url", answer) == []
    assert answer["text"]


def rules(h) -> list[dict]:
    found = db_rows(h, "SELECT * FROM account_approvers ORDER BY team_id, account")
    return [{**r, "approvers": json.loads(r["approvers"])} for r in found]


def approver_audit(h) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] == "team_approvers"]


# --- setting, replacing and clearing the rule ------------------------------------------------


async def test_set_stores_the_rule_and_says_who_approves_and_how_many(ha):
    h = ha
    asked_at = time.time()
    answer = await approvers(h, f"brand <@{ALICE}|alice> <!subteam^{LEADS}|@social-leads> needed 2")

    shown = text_of(answer)
    assert "Every upload for `brand` now waits for 2 approvals before it starts." in shown
    assert f"<@{ALICE}>, <!subteam^{LEADS}>" in shown
    assert "anyone in a named group may approve" in shown
    assert "nobody approves an upload they submitted" in shown
    assert "/tiktok-cancel team approvers brand none" in shown  # how to stop it
    (rule,) = rules(h)
    assert (rule["team_id"], rule["account"]) == (h.slack.team_id, "brand")
    assert (rule["approvers"], rule["needed"], rule["set_by"]) == ([ALICE, LEADS], 2, ADMIN)
    assert asked_at - 5 < rule["set_at"] < time.time() + 5  # the database's clock, in seconds
    (entry,) = approver_audit(h)
    assert (entry["user_id"], entry["account"], entry["account_kind"]) == (ADMIN, "brand", "team")
    assert (entry["reason"], entry["outcome"], entry["state"]) == (
        f"approvers {ALICE},{LEADS} needed 2",
        "ok",
        "finished",
    )


async def test_needed_defaults_to_one_and_enterprise_users_count_as_people(ha):
    h = ha
    answer = await approvers(h, f"brand <@{ENTERPRISE}> <@{ALICE}|alice>")
    assert "now waits for 1 approval before it starts" in text_of(answer)
    assert "named group" not in text_of(answer)
    (rule,) = rules(h)
    assert (rule["approvers"], rule["needed"]) == ([ENTERPRISE, ALICE], 1)
    (entry,) = approver_audit(h)
    assert entry["reason"] == f"approvers {ENTERPRISE},{ALICE} needed 1"


async def test_a_new_rule_replaces_the_old_one_and_the_same_rule_again_changes_nothing(ha):
    h = ha
    await approvers(h, f"brand <@{ALICE}> <@{SAM}> needed 2")
    (first,) = rules(h)

    replaced = await approvers(h, f"brand <!subteam^{LEADS}> needed 3")

    shown = text_of(replaced)
    assert "now waits for 3 approvals" in shown
    assert f"This replaces the rule before: 2 approvals from <@{ALICE}>, <@{SAM}>." in shown
    (second,) = rules(h)
    assert (second["approvers"], second["needed"]) == ([LEADS], 3)
    assert second["set_at"] >= first["set_at"]

    again = await approvers(h, f"brand <!subteam^{LEADS}|@social-leads> needed 3")

    assert "already wait for 3 approvals, so nothing changed" in text_of(again)
    assert rules(h) == [second]  # not even re-stamped
    assert [r["reason"] for r in approver_audit(h)] == [
        f"approvers {ALICE},{SAM} needed 2",
        f"approvers {LEADS} needed 3",
    ]


async def test_none_clears_the_rule_and_none_again_says_nothing_changed(ha):
    h = ha
    await approvers(h, f"brand <@{ALICE}> <!subteam^{LEADS}> needed 2")

    cleared = await approvers(h, "brand none")

    shown = text_of(cleared)
    assert "Uploads for `brand` no longer wait for approval." in shown
    assert "start when their hold window closes" in shown
    assert f"It was 2 approvals from <@{ALICE}>, <!subteam^{LEADS}>." in shown
    assert rules(h) == []
    assert [r["reason"] for r in approver_audit(h)] == [
        f"approvers {ALICE},{LEADS} needed 2",
        "approvers none",
    ]

    again = await approvers(h, "brand NONE")

    assert "Uploads for `brand` didn't wait for approval, so nothing changed." in text_of(again)
    assert len(approver_audit(h)) == 2  # nothing changed, nothing written


async def test_a_group_mention_without_its_name_is_accepted_and_allows_up_to_100_needed(ha):
    h = ha
    answer = await approvers(h, f"brand <!subteam^{LEADS}> needed 100")
    assert "now waits for 100 approvals" in text_of(answer)
    (rule,) = rules(h)
    assert (rule["approvers"], rule["needed"]) == ([LEADS], 100)


async def test_repeated_mentions_count_once(ha):
    h = ha
    text = f"brand <@{ALICE}|alice> <@{ALICE}> <!subteam^{LEADS}> <!subteam^{LEADS}|@x>"
    await approvers(h, text)
    (rule,) = rules(h)
    assert rule["approvers"] == [ALICE, LEADS]


async def test_the_rule_of_one_account_leaves_the_others_alone(ha):
    h = ha
    await h.link_team("video", admin=ADMIN, open_id="open-video", display_name="Video Desk")
    await approvers(h, f"brand <@{ALICE}>")
    await approvers(h, f"video <@{SAM}>")
    await approvers(h, "brand none")
    (rule,) = rules(h)
    assert (rule["account"], rule["approvers"]) == ("video", [SAM])


# --- who may, and on what --------------------------------------------------------------------


@pytest.mark.parametrize("text", [f"brand <@{ALICE}> needed 1", "brand none"])
async def test_a_non_admin_is_refused_and_nothing_is_stored(ha, text):
    h = ha
    await approvers(h, f"brand <@{SAM}>")  # a rule a refused `none` must not clear
    before = (rules(h), h.audit_rows())
    h.slack.set_user(NOBODY)  # neither admin nor owner

    answer = await approvers(h, text, user_id=NOBODY)

    shown = text_of(answer)
    assert "Only admins manage team accounts, so nothing changed" in shown
    assert f"<@{ADMIN}>" in shown
    assert (rules(h), h.audit_rows()) == before


async def test_a_granted_user_who_is_not_an_admin_is_refused_too(ha):
    h = ha
    answer = await h.command(f"team grant brand <@{BOB}>", user_id=ADMIN)
    assert "may now act with" in text_of(answer)
    h.slack.set_user(BOB)
    refused = await approvers(h, f"brand <@{BOB}>", user_id=BOB)
    assert "Only admins manage team accounts" in text_of(refused)
    assert rules(h) == []


async def test_a_workspace_admin_may_set_it(ha):
    h = ha
    h.slack.set_user("U0WSADMIN", is_admin=True)
    answer = await approvers(h, f"brand <@{ALICE}>", user_id="U0WSADMIN")
    assert "now waits for 1 approval" in text_of(answer)
    (rule,) = rules(h)
    assert rule["set_by"] == "U0WSADMIN"


@pytest.mark.parametrize("text", [f"nosuch <@{ALICE}>", "nosuch none"])
async def test_an_unknown_account_says_so_and_nothing_is_stored(ha, text):
    h = ha
    before = h.audit_rows()
    answer = await approvers(h, text)
    shown = text_of(answer)
    assert "There is no team account `nosuch`, so nothing changed." in shown
    assert "/tiktok-cancel team connect nosuch" in shown
    assert rules(h) == []
    assert h.audit_rows() == before


async def test_an_account_of_another_workspace_is_not_this_ones(ha):
    h = ha
    text = f"team approvers brand <@{ALICE}>"
    answer = await h.driver.command(text, user_id=ADMIN, team_id="T0OTHER")
    assert_valid(answer)
    assert "There is no team account `brand`" in text_of(answer)
    assert rules(h) == []


# --- what was typed --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    [
        "bob",
        "@bob",
        "U0ALICE",
        "<#C1|general>",
        "<!here>",
        "<!channel>",
        f"<@{ALICE}",
        "<!subteam^U0ALICE>",  # a group mention must name a group id
        "<@S0LEADS>",  # and a person's mention a person
        "<@u0alice>",
        "<@U" + "A" * 31 + ">",  # longer than any Slack id
        "<https://evil.example|login>",
    ],
)
async def test_anything_but_a_mention_is_a_usage_answer(ha, word):
    h = ha
    answer = await approvers(h, f"brand <@{ALICE}> {word}")
    shown = text_of(answer)
    assert "isn't a mention of a person or a user group, so nothing changed" in shown
    assert "/tiktok-cancel team approvers brand @alex @social-leads needed 2" in shown
    assert "<!here>" not in shown and "<!channel>" not in shown and "<#C1" not in shown
    assert rules(h) == []
    assert approver_audit(h) == []


@pytest.mark.parametrize(
    "rest",
    [
        "needed 0",
        "needed 101",
        "needed -1",
        "needed 2.5",
        "needed two",
        "needed",
        "needed 1 2",
        "needed 1000000000000",
        "needed \uff12",  # a full-width digit is not a number here
    ],
)
async def test_needed_must_be_a_whole_number_from_1_to_100_at_the_end(ha, rest):
    h = ha
    answer = await approvers(h, f"brand <!subteam^{LEADS}> <@{ALICE}> {rest}")
    shown = text_of(answer)
    assert "takes a whole number from 1 to 100 at the end" in shown
    assert "Nothing changed" in shown
    assert rules(h) == []


async def test_needed_in_the_middle_is_a_usage_answer(ha):
    h = ha
    answer = await approvers(h, f"brand <@{ALICE}> needed 1 <@{SAM}>")
    assert "takes a whole number from 1 to 100 at the end" in text_of(answer)
    assert rules(h) == []


@pytest.mark.parametrize(
    "text",
    [
        f"brand <@{ALICE}> needed 2",
        f"brand <@{ALICE}> <@{SAM}> <@{ALICE}|again> needed 3",  # two people, however named
        f"brand <@{ALICE}> <@{ENTERPRISE}> needed 100",
    ],
)
async def test_more_needed_than_people_named_is_refused(ha, text):
    h = ha
    answer = await approvers(h, text)
    shown = text_of(answer)
    assert "is more approvals than the people named" in shown
    assert "Name more people or a user group, or lower the number" in shown
    assert rules(h) == []


@pytest.mark.parametrize(
    "text",
    ["brand", "brand needed 2", "  brand   "],
)
async def test_no_approvers_named_asks_who(ha, text):
    h = ha
    answer = await approvers(h, text)
    shown = text_of(answer)
    assert "Who approves? Mention people or user groups after the account" in shown
    assert rules(h) == []


async def test_none_takes_no_other_words(ha):
    h = ha
    await approvers(h, f"brand <@{ALICE}>")
    answer = await approvers(h, f"brand none <@{SAM}>")
    assert "`none` stops asking for approval and takes no other words" in text_of(answer)
    (rule,) = rules(h)
    assert rule["approvers"] == [ALICE]


async def test_a_bad_account_name_is_a_usage_answer(ha):
    h = ha
    answer = await approvers(h, f"br@nd! <@{ALICE}>")
    assert "isn't a team account name" in text_of(answer)
    answer = await approvers(h, "")
    assert "Which team account?" in text_of(answer)
    assert rules(h) == []


def people(n: int, width: int = 31) -> list[str]:
    """`n` distinct Slack user ids, each `width` characters (31: the longest we take)."""
    return [f"U{i:0{width - 1}d}" for i in range(n)]


async def test_more_than_100_approvers_is_refused(ha):
    h = ha
    named = " ".join(f"<@{u}>" for u in people(100)) + f" <!subteam^{LEADS}>"
    answer = await approvers(h, f"brand {named}")
    assert "more than 100 people and groups, so nothing changed" in text_of(answer)
    assert rules(h) == []


# --- messages at their limits ----------------------------------------------------------------


def mention_count(text: str) -> int:
    return len(re.findall(r"<@U\d+>|<!subteam\^S\d+>", text))


async def test_100_of_the_longest_ids_on_the_longest_account_name_make_valid_messages(h):
    await h.restart(admin_users=frozenset({ADMIN}))
    await h.link_team(LONG_ACCOUNT, admin=ADMIN, open_id="open-long")
    ids = people(60) + [f"S{i:030d}" for i in range(40)]
    named = " ".join(
        f"<!subteam^{i}|@{'g' * 80}>" if i.startswith("S") else f"<@{i}|{'p' * 80}>" for i in ids
    )
    set_answer = await approvers(h, f"{LONG_ACCOUNT} {named} <@{ids[0]}> needed 100")

    shown = text_of(set_answer)
    assert f"`{LONG_ACCOUNT}` now waits for 100 approvals" in shown
    (rule,) = rules(h)
    assert rule["approvers"] == ids and rule["needed"] == 100
    # Too many to show in full: the first ones, none cut in half, and how many more
    more = int(re.search(r"and (\d+) more", shown).group(1))
    assert mention_count(set_answer["blocks"][0]["text"]["text"]) + more == 100
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in set_answer["blocks"])

    replaced = await approvers(h, f"{LONG_ACCOUNT} {named} needed 99")
    assert "This replaces the rule before: 100 approvals from" in text_of(replaced)
    same = await approvers(h, f"{LONG_ACCOUNT} {named} needed 99")
    assert "already wait for 99 approvals" in text_of(same)
    listing = await h.command("accounts", user_id=ADMIN)
    assert_valid(listing)
    line = next(x for x in text_of(listing).splitlines() if f"`{LONG_ACCOUNT}`" in x)
    assert "every upload waits for 99 approvals from <@U" in line
    assert re.search(r"and \d+ more", line)
    cleared = await approvers(h, f"{LONG_ACCOUNT} none")
    assert "It was 99 approvals from" in text_of(cleared)
    assert re.search(r"and \d+ more", text_of(cleared))
    assert [r["reason"].split(" ")[-1] for r in approver_audit(h)] == ["100", "99", "none"]
    assert approver_audit(h)[0]["reason"] == f"approvers {','.join(ids)} needed 100"


async def test_usage_answers_with_the_longest_words_are_valid(ha):
    h = ha
    for text in (
        "brand " + "<@" + "&<>" * 900 + ">",
        f"brand <@{ALICE}> needed " + "9" * 3000,
        "brand none " + "🚀" * 2000,
        "brand " + "needed " * 400,
    ):
        answer = await approvers(h, text)
        assert "nothing changed" in text_of(answer).lower()
    assert rules(h) == []


# --- accounts and help -----------------------------------------------------------------------


async def test_accounts_shows_admins_each_rule_and_granted_people_none_of_it(ha):
    h = ha
    await h.link_team("video", admin=ADMIN, open_id="open-video", display_name="Video Desk")
    await h.command(f"team grant brand <@{BOB}>", user_id=ADMIN)
    await approvers(h, f"brand <@{ALICE}> <!subteam^{LEADS}> needed 2")

    listing = await h.command("accounts", user_id=ADMIN)

    assert_valid(listing)
    lines = text_of(listing).splitlines()
    brand = next(x for x in lines if "`brand`" in x)
    video = next(x for x in lines if "`video`" in x)
    assert f"every upload waits for 2 approvals from <@{ALICE}>, <!subteam^{LEADS}>" in brand
    assert "approval" not in video

    h.slack.set_user(BOB)
    mine = await h.command("accounts", user_id=BOB)
    assert_valid(mine)
    assert "`brand`" in text_of(mine)
    assert "approval" not in text_of(mine)


async def test_help_names_the_command(ha):
    h = ha
    answer = await h.command("help", user_id=ADMIN)
    shown = text_of(answer)
    assert "/tiktok-cancel team approvers &lt;account&gt; @someone @group [needed N]" in shown
    assert "/tiktok-cancel team approvers &lt;account&gt; none" in shown
    typo = await h.command("team approve brand", user_id=ADMIN)
    assert "it takes connect, grant, revoke, remove or approvers" in text_of(typo)


# --- the storage functions, per workspace -----------------------------------------------------


async def test_rules_are_kept_per_workspace(ha):
    h = ha
    store = h.bot.parts.store
    here = h.slack.team_id
    await store.run(account_approvers.put, here, "brand", (ALICE, LEADS), 2, ADMIN)
    await store.run(account_approvers.put, "T0OTHER", "brand", [SAM], 1, "U0OTHER")
    await store.run(account_approvers.put, "T0OTHER", "alpha", [SAM], 1, "U0OTHER")

    assert await store.run(account_approvers.get, here, "brand") == ((ALICE, LEADS), 2)
    assert await store.run(account_approvers.get, "T0OTHER", "brand") == ((SAM,), 1)
    assert await store.run(account_approvers.get, "T0THIRD", "brand") is None
    listed = await store.run(account_approvers.for_team, "T0OTHER")
    assert [(r["account"], r["approvers"], r["needed"], r["set_by"]) for r in listed] == [
        ("alpha", (SAM,), 1, "U0OTHER"),
        ("brand", (SAM,), 1, "U0OTHER"),
    ]
    assert await store.run(account_approvers.remove, "T0OTHER", "brand") is True
    assert await store.run(account_approvers.remove, "T0OTHER", "brand") is False
    assert await store.run(account_approvers.get, here, "brand") == ((ALICE, LEADS), 2)
    # what the admin's accounts listing reads is this workspace's rule only
    listing = await h.command("accounts", user_id=ADMIN)
    brand = next(x for x in text_of(listing).splitlines() if "`brand`" in x)
    assert f"2 approvals from <@{ALICE}>, <!subteam^{LEADS}>" in brand
    assert SAM not in brand


# --- any text after `team approvers` ----------------------------------------------------------

TOKENS = st.one_of(
    st.sampled_from(
        [
            f"<@{ALICE}|alice>",
            f"<@{SAM}>",
            f"<@{ENTERPRISE}>",
            f"<!subteam^{LEADS}|@social-leads>",
            f"<!subteam^{LEADS}>",
            "<!subteam^S>",
            "<@>",
            "needed",
            "NEEDED",
            "none",
            "0",
            "1",
            "2",
            "100",
            "101",
            "-1",
            "brand",
            "nosuch",
        ]
    ),
    st.integers(0, 10**9).map(str),
    hostile_text(30),
)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    account=st.sampled_from(["brand", "nosuch", ""]) | hostile_text(20),
    words=st.lists(TOKENS, max_size=12),
    user=st.sampled_from([ADMIN, NOBODY]),
    escaped=st.booleans(),
)
async def test_any_text_after_team_approvers_gets_a_valid_answer(ha, account, words, user, escaped):
    count_case()
    h = ha
    text = " ".join([account, *words])
    if escaped:  # what Slack sends for typed & < > (mentions stay as they are)
        text = " ".join([slack_escaped(account), *words])
    answer = await h.command(f"team approvers {text}", user_id=user)  # a 5xx raises here
    assert_valid(answer)
    assert "Traceback" not in json.dumps(answer)
    for row in rules(h):
        assert row["team_id"] == h.slack.team_id and row["account"] == "brand"
        assert 1 <= row["needed"] <= 100 and 1 <= len(row["approvers"]) <= 100
