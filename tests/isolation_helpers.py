"""Two workspaces that share every id a person could type, for the isolation suite and its fuzz.

`two_worlds(h)` restarts the bot serving many workspaces and sets up TA (the fake Slack's
default workspace) and TB the same way: the people U1 and UADMIN (a Slack admin), the public
channel C1, the team account "brand" granted to U1, U1's own link, the publish_id PID announced
in C1 (and a publish_id each announced alone), the upload_key KEY held, the upload_key
APPROVAL_KEY waiting for U1's approval, a `team approvers` rule, a cancel each in the audit (of
the same publish_id PID2, followed to its end), a "Cancel it now" key, a Connect link and a
pipeline token. Every datum of a workspace carries its marker ("A-only" / "B-only" in titles,
nicknames and reasons; TikTok open ids end "-a" / "-b"); TB alone has settings (admins UADMIN
and UBONLY, audit channel CBONLY).

`Side` is one workspace as the tests know it; `markers(h, side)` every string that would give
that workspace away; `rows_of(h, team)` all its rows; `Watch` what happened between two moments
(Slack calls and answers, TikTok calls) and what of it one workspace saw.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from storage import pipeline_tokens, retries
from storage.schema import metadata
from tests.conftest import db_execute, notify
from tests.held_helpers import body, submit, until
from tests.workspaces_helpers import install, many_workspaces, store_link

TA = "T0001"  # the fake Slack's default workspace
TB = "TB0002"
U1 = "U01"  # a person, in both (an approver needs a 3-character id)
UADMIN = "UADMIN"  # a Slack admin, in both
USUBMIT = "USUBMIT"  # who sent the upload waiting for approval
CHANNEL = "C1"
PID = "v_pub_url~v2.4242"  # announced in both
PID2 = "v_pub_url~v2.5353"  # cancelled by U1 in both (not announced): followed to its end
ONLY = {"a": "v_pub_url~v2.7101", "b": "v_pub_url~v2.7202"}  # announced in one of them only
KEY = "run-shared"  # held in both
APPROVAL_KEY = "run-approve"  # waits for U1's approval in both
BROWSER_BUTTON = "Open the post page in a browser"
TB_SETTINGS = ("UBONLY", "CBONLY")  # TB's own admin and audit channel (TA has no settings)
TEAM_TABLES = tuple(t for t in metadata.tables.values() if "team_id" in t.c)


@dataclass
class Side:
    """One workspace of the pair, with what its set-up made."""

    team: str
    tag: str  # "a" or "b"
    bot_token: str = ""
    pipeline: str = ""  # the pipeline token's secret
    token_id: str = ""  # and its public id
    announced_ts: str = ""  # PID's announcement
    held_ts: str = ""  # KEY's card
    approval_ts: str = ""  # APPROVAL_KEY's card
    approval_path: str = ""  # U1's web post page link for APPROVAL_KEY (/approve/<token>)
    retry_key: str = ""  # U1's "Cancel it now" key
    connect_url: str = ""  # U1's Connect link (its state)
    extra: list[str] = field(default_factory=list)  # more of its secrets and ids

    @property
    def mark(self) -> str:
        return f"{self.tag.upper()}-only"

    @property
    def only(self) -> str:
        """The publish_id it alone announced."""
        return ONLY[self.tag]

    @property
    def brand(self) -> str:
        """The TikTok open_id of its team account "brand"."""
        return f"open-brand-{self.tag}"

    @property
    def own(self) -> str:
        """The TikTok open_id of U1's own link."""
        return f"open-u1-{self.tag}"


@dataclass
class World:
    a: Side
    b: Side

    def pair(self, acting: str) -> tuple[Side, Side]:
        """(the acting side, the other) for "a" or "b"."""
        return (self.a, self.b) if acting == "a" else (self.b, self.a)


async def _as(h, team: str, text: str, user_id: str = UADMIN) -> dict:
    return await h.driver.command(text, user_id=user_id, team_id=team)


async def _set_up(h, side: Side) -> None:
    team, mark = side.team, side.mark
    for user, admin in ((U1, False), (UADMIN, True), (USUBMIT, False)):
        h.slack.set_user(user, is_admin=admin, team_id=team)
    h.slack.set_channel(CHANNEL, private=False, members=[U1, UADMIN, USUBMIT], team_id=team)
    await store_link(h, team, "team", "brand", side.brand)
    await store_link(h, team, "user", U1, side.own)
    h.tiktok.creator_for(side.brand).nickname = f"{mark} nick"
    side.token_id, side.pipeline = await h.bot.parts.store.run(pipeline_tokens.make, team, UADMIN)
    await _as(h, team, f"team grant brand <@{U1}>")
    status, answer = await notify(
        h,
        {"publish_id": PID, "channel": CHANNEL, "title": f"{mark} title", "account": "brand"},
        token=side.pipeline,
    )
    assert status == 201, answer
    side.announced_ts = answer["ts"]
    only = {"publish_id": side.only, "channel": CHANNEL, "title": f"{mark} only"}
    status, answer = await notify(h, only, token=side.pipeline)
    assert status == 201, answer
    status, answer = await submit(h, body(KEY, hold_s=3600, title=f"{mark} held"), side.pipeline)
    assert status == 202, answer
    side.held_ts = answer["ts"]
    waiting = body(APPROVAL_KEY, title=f"{mark} approval")
    waiting.update(approval={"approvers": [U1], "needed": 1}, submitted_by=USUBMIT)
    status, answer = await submit(h, waiting, side.pipeline)
    assert status == 202, answer
    side.approval_ts = answer["ts"]
    await _as(h, team, f"team approvers brand <@{U1}> needed 1")
    side.retry_key = await h.bot.parts.store.run(
        retries.remember, team, U1, PID, f"{mark} retry reason"
    )


def _dm_link(h, team: str, user_id: str) -> str:
    """The web post page link in `user_id`'s direct message in `team` ("" if none yet)."""
    for call in h.slack.calls_for(team, "chat.postMessage"):
        if call.params.get("channel") != user_id:
            continue
        for block in call.params.get("blocks") or []:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("text", {}).get("text") == BROWSER_BUTTON:
                    return urlsplit(element["url"]).path
    return ""


async def two_worlds(h) -> World:
    """The bot serving TA and TB, each set up as this module's docstring says."""
    await many_workspaces(h)
    beta = h.slack.add_workspace(TB, "B-only Beta")
    await install(h, TB, beta.bot_token, "B-only Beta")
    world = World(Side(TA, "a", h.slack.bot_token), Side(TB, "b", beta.bot_token))
    for side in (world.a, world.b):
        await _set_up(h, side)
    # TB alone has its own settings: its admins and its audit channel
    await _as(h, TB, "settings admins <@UADMIN> <@UBONLY>")
    await _as(h, TB, "settings audit <#CBONLY>")
    # a cancel each, of the same publish_id: TikTok knows it as U1's upload in each in turn
    for side in (world.a, world.b):
        h.tiktok.add_upload(PID2, open_id=side.own)
        answer = await _as(h, side.team, f"{PID2} {side.mark} audit reason", U1)
        assert "TikTok is stopping" in json.dumps(answer), answer
        answer = await _as(h, side.team, "connect", U1)
        side.connect_url = answer["blocks"][-1]["elements"][0]["url"]
    for side in (world.a, world.b):
        await until(lambda side=side: _dm_link(h, side.team, U1))
        side.approval_path = _dm_link(h, side.team, U1)
    await h.bot.parts.cancels.drain()
    # Nothing of the set-up is due while a case runs: the poller's own schedule would
    # otherwise change the rows a case compares (its first look is 15 s away already).
    for table in ("announcements", "followed_cancels"):
        db_execute(
            h,
            f"UPDATE {table} SET next_poll_at = ? WHERE next_poll_at IS NOT NULL",
            time.time() + 3600,
        )
    return world


def markers(h, side: Side) -> list[str]:
    """Every string that would show `side`'s workspace to someone outside it: its marker, its
    TikTok open ids, its message timestamps, its secrets and ids, its settings."""
    found = [side.mark, side.brand, side.own, side.bot_token, side.pipeline, side.token_id]
    found += [side.retry_key, side.approval_path.rsplit("/", 1)[-1], *side.extra]
    found += [urlsplit(side.connect_url).query.split("state=", 1)[-1].split("&", 1)[0]]
    found += [ts for (_, ts) in h.slack.messages_in(side.team)]
    if side.team == TB:
        found += list(TB_SETTINGS)
    return [m for m in found if m]


def rows_of(h, team: str) -> dict[str, list[str]]:
    """Every row of every table that holds `team`'s data, as text, in a stable order (read
    in one connection, as an operator would)."""
    engine = sa.create_engine(h.settings.store_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(
                    repr(sorted(row.items()))
                    for row in conn.execute(table.select().where(table.c.team_id == team))
                    .mappings()
                    .all()
                )
                for table in TEAM_TABLES
            }
    finally:
        engine.dispose()


def leaks(texts, found: list[str]) -> list[tuple[str, str]]:
    """(marker, around it) for every marker in any of `texts` (a text, or a list of them)."""
    texts = [texts] if isinstance(texts, str) else texts
    return [(m, _around(t, m)) for t in texts for m in found if m in t]


def _around(text: str, marker: str) -> str:
    at = text.index(marker)
    return text[max(0, at - 150) : at + 150]


class Watch:
    """What happened from now on: the Slack Web API calls, the response_url answers and the
    TikTok calls since `Watch(h)` was made."""

    def __init__(self, h) -> None:
        self.h = h
        self.calls = len(h.slack.calls)
        self.tiktok_calls = len(h.tiktok.calls)
        self.responses = {url: len(bodies) for url, bodies in h.slack.responses.items()}

    def slack_calls(self) -> list:
        return self.h.slack.calls[self.calls :]

    def answers(self) -> list[dict]:
        """Every body posted to a response_url since (ephemeral answers, replacements)."""
        found = []
        for url, bodies in list(self.h.slack.responses.items()):
            found += bodies[self.responses.get(url, 0) :]
        return found

    def tiktok(self) -> list:
        return self.h.tiktok.calls[self.tiktok_calls :]

    def seen(self, extra=()) -> list[str]:
        """Everything the people of the acting workspace could see: answers, every Web API
        call's params (posts, updates, DMs, views), what TikTok was sent, and `extra`."""
        texts = [json.dumps(b) for b in self.answers()]
        texts += [json.dumps(c.params, default=str) for c in self.slack_calls()]
        texts += [json.dumps(c.body, default=str) + json.dumps(c.query) for c in self.tiktok()]
        return texts + [str(x) for x in extra]

    def tiktok_accounts(self) -> set[str]:
        """The TikTok accounts (open ids) whose tokens the calls since carried."""
        found = set()
        for call in self.tiktok():
            for token in (call.token, call.body.get("refresh_token"), call.body.get("token")):
                grant = self.h.tiktok.grant_for(str(token or ""))
                if grant is not None:
                    found.add(grant.open_id)
        return found
