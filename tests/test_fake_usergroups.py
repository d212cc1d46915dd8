"""The Slack stand-in's user groups: usergroups.users.list and usergroups.list over real HTTP,
as slack_sdk calls them, and the `usergroups:read` scope they need (which manifest.yml asks for)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.fakes import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def client_of(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


async def test_a_groups_members_are_listed_and_an_unknown_group_is_no_such_subteam(
    slack: FakeSlack,
):
    slack.set_usergroup("S0LEADS", handle="social-leads", users=["U2", "U3"])
    client = client_of(slack)
    answer = await client.usergroups_users_list(usergroup="S0LEADS")
    assert answer.data == {"ok": True, "users": ["U2", "U3"]}

    slack.set_usergroup("S0LEADS", handle="social-leads", users=["U4"])  # members changed
    assert (await client.usergroups_users_list(usergroup="S0LEADS"))["users"] == ["U4"]

    with pytest.raises(SlackApiError) as unknown:
        await client.usergroups_users_list(usergroup="S0NOPE")
    assert unknown.value.response.data == {"ok": False, "error": "no_such_subteam"}
    assert [c.params["usergroup"] for c in slack.calls_to("usergroups.users.list")] == [
        "S0LEADS",
        "S0LEADS",
        "S0NOPE",
    ]


async def test_usergroups_list_names_each_group_with_its_handle(slack: FakeSlack):
    slack.set_usergroup("S0LEADS", handle="social-leads", users=["U2", "U3"])
    slack.set_usergroup("S0LEGAL", handle="legal", name="Legal review", users=["U5"])
    client = client_of(slack)

    plain = (await client.usergroups_list())["usergroups"]
    assert [(g["id"], g["handle"], g["name"]) for g in plain] == [
        ("S0LEADS", "social-leads", "Social-Leads"),
        ("S0LEGAL", "legal", "Legal review"),
    ]
    assert plain[0]["team_id"] == "T0001" and plain[0]["is_usergroup"] is True
    assert "users" not in plain[0] and "user_count" not in plain[0]

    full = (await client.usergroups_list(include_users=True, include_count=True))["usergroups"]
    assert [(g["users"], g["user_count"]) for g in full] == [(["U2", "U3"], 2), (["U5"], 1)]


async def test_a_disabled_group_is_left_out_unless_asked_for(slack: FakeSlack):
    slack.set_usergroup("S0OLD", handle="old-team", users=["U2"], disabled=True)
    client = client_of(slack)
    assert (await client.usergroups_list())["usergroups"] == []
    listed = (await client.usergroups_list(include_disabled=True))["usergroups"]
    assert [g["id"] for g in listed] == ["S0OLD"] and listed[0]["date_delete"] != 0
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        await client.usergroups_users_list(usergroup="S0OLD")
    members = await client.usergroups_users_list(usergroup="S0OLD", include_disabled=True)
    assert members["users"] == ["U2"]


async def test_without_usergroups_read_slack_answers_missing_scope(slack: FakeSlack):
    """A workspace that installed the manifest before approval asked for usergroups:read."""
    slack.set_usergroup("S0LEADS", handle="social-leads", users=["U2"])
    slack.bot_scopes = [s for s in slack.bot_scopes if s != "usergroups:read"]
    client = client_of(slack)
    for call in (client.usergroups_users_list(usergroup="S0LEADS"), client.usergroups_list()):
        with pytest.raises(SlackApiError) as refused:
            await call
        assert refused.value.response["error"] == "missing_scope"
        assert refused.value.response["needed"] == "usergroups:read"


def test_the_bot_asks_for_usergroups_read():
    """The fake grants what manifest.yml asks for; approval by user group needs this one."""
    assert "usergroups:read" in FakeSlack().bot_scopes
