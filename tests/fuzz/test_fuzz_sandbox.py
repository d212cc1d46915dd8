"""Fuzzing the sandbox page's `POST /api/hold` (the page's Hold option, with or without Needs
approval, passed on to the bot's `POST /uploads`), `POST /api/view` (the modal the bot opened,
sent from the page), `POST /api/tiktok/init` and `POST /api/tiktok/next`, and its workspaces
(`POST /api/install`, `/api/uninstall`, and the `team` any call names): whatever the body, no
5xx and no traceback in the answer, every message and modal the bot then sent to the Slack
stand-in valid by slack_sdk's models, `/api/state`'s `armed` (what the TikTok panel shows)
as scripted, and its workspaces with the app those the bot has installed. The sandbox runs
on a loop in a background thread, as the fuzz suite's bot does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.server import Sandbox
from tests.fuzz.blockkit import problems_in
from tests.fuzz.conftest import examples
from tests.fuzz.counting import count_case
from tests.fuzz.strategies import (
    NUMBERS,
    RAW_BODIES,
    VIDEO,
    hostile_text,
    json_bytes,
    json_values,
    maybe,
)

PRIVACY = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
PEOPLE = ["U0ALEX", "U0SAM", "U0RILEY"]
TEAMS = ["", "T0SANDBOX", "T0002"]
APPROVERS = [*PEOPLE, "S0LEADS"]


def approval_fields() -> st.SearchStrategy:
    """The form's Needs approval: approvers among the sandbox's people and its user group,
    `needed`, a deadline; and the same with junk."""
    typed = st.fixed_dictionaries(
        {"approvers": st.lists(st.sampled_from(APPROVERS), min_size=1, max_size=4)},
        optional={
            "needed": st.integers(0, 5),
            "approve_by": st.sampled_from(["2099-01-01T00:00:00Z", "2000-01-01T00:00:00Z"])
            | hostile_text(30),
        },
    )
    return st.one_of(typed, typed, json_values())


class LiveSandbox:
    def __init__(self, tmp_path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sb = Sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite3"))
        self._checked = 0

    def call(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self.thread.start()
        self.call(self.sb.start())

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call(self.sb.stop(), timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def post(self, path: str, data: bytes) -> tuple[int, str]:
        request = urllib.request.Request(
            self.sb.url + path, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, resp.read().decode(errors="replace")
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    def new_problems(self) -> list[str]:
        async def look() -> list[str]:
            calls = self.sb.slack.calls[self._checked :]
            self._checked += len(calls)
            return [p for call in calls for p in problems_in(call.method, call.params)]

        return self.call(look())


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    live = LiveSandbox(tmp_path_factory.mktemp("fuzz-sandbox"))
    live.start()
    yield live
    live.stop()


def hold_bodies() -> st.SearchStrategy:
    """What the page's form sends (hostile text in the right types, so holds get made and
    their messages built), the same with junk in any field, and any JSON at all."""
    urls = st.just("https://cdn.example.com/teaser.mp4") | st.builds(
        "https://cdn.example.com/{}".format, hostile_text(60)
    )
    typed = st.fixed_dictionaries(
        {
            "source_url": urls,
            "post": st.fixed_dictionaries(
                {"privacy_level": st.sampled_from(PRIVACY)},
                optional={"title": hostile_text(200), "is_aigc": st.booleans()},
            ),
        },
        optional={
            "user": st.sampled_from(["U0ALEX", "U0SAM"]),
            "account": st.sampled_from(["brand", "nobody", ""]),
            "upload_key": st.integers(0, 10**6).map("run-{}".format),
            "hold_s": st.integers(0, 600) | st.floats(0, 600),
            "video": st.fixed_dictionaries(
                {}, optional={"format": hostile_text(10), "duration_s": st.integers(0, 900)}
            ),
            "approval": approval_fields(),
            "submitted_by": st.sampled_from(["", *PEOPLE]) | hostile_text(20),
        },
    )
    junk = st.fixed_dictionaries(
        {"source_url": maybe(urls | hostile_text())},
        optional={
            "account": maybe(st.sampled_from(["brand", "nobody"]) | hostile_text(70)),
            "upload_key": maybe(hostile_text()),
            "channel": maybe(st.sampled_from(["C0LAUNCH", "C0AUDIT", "CNOPE"])),
            "hold_s": maybe(NUMBERS),
            "post": maybe(st.fixed_dictionaries({"privacy_level": maybe(st.just("SELF_ONLY"))})),
            "video": maybe(VIDEO),
        },
    )
    return st.one_of(typed, typed, typed, junk, json_values())


@settings(max_examples=examples(40))
@given(body=hold_bodies(), raw=st.one_of(st.none(), st.none(), st.none(), RAW_BODIES))
def test_any_hold_gets_an_answer_and_valid_messages(page, body, raw):
    count_case()
    status, text = page.post("/api/hold", raw if raw is not None else json_bytes(body))
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text
    assert page.new_problems() == []


@settings(max_examples=examples(20))
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {"answer": st.sampled_from(["normal", "5xx", "spam_risk_too_many_posts"])}
        ),
        st.fixed_dictionaries({"answer": maybe(hostile_text())}),
        json_values(),
    )
)
def test_any_next_init_script_gets_a_4xx_or_ok(page, body):
    count_case()
    status, text = page.post("/api/tiktok/init", json_bytes(body))
    assert status in (200, 400), (status, text[:300])
    assert "Traceback" not in text


def get_state(page) -> dict:
    with urllib.request.urlopen(page.sb.url + "/api/state", timeout=30) as resp:
        assert resp.status == 200
        return json.load(resp)


@settings(max_examples=examples(30))
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {"answer": st.sampled_from(["normal", "ok", "429", "hang", "invalid_params"])},
            optional={"publish_id": st.sampled_from(["", "v_pub_url~v2.fuzz", "v_nope"])},
        ),
        st.fixed_dictionaries(
            {"answer": maybe(hostile_text())}, optional={"publish_id": maybe(hostile_text())}
        ),
        json_values(),
    )
)
def test_any_next_cancel_script_shows_in_the_armed_state_as_scripted(page, body):
    """`POST /api/tiktok/next` answers 200 or a 4xx, never 5xx; /api/state's `armed` then
    holds, for that upload (or any), exactly the answer scripted, or nothing for normal."""
    count_case()

    async def an_upload() -> None:
        if "v_pub_url~v2.fuzz" not in page.sb.tiktok.uploads:
            page.sb.tiktok.add_upload("v_pub_url~v2.fuzz", open_id="open-alex")

    page.call(an_upload())
    status, text = page.post("/api/tiktok/next", json_bytes(body))
    assert status in (200, 400, 404), (status, text[:300])
    assert "Traceback" not in text
    armed = get_state(page)["armed"]
    assert all(a["label"] and a["in_use"] is False for a in armed)
    if status == 200:
        key = str(body.get("publish_id") or "")
        mine = [a["answer"] for a in armed if a["call"] == "cancel" and a["publish_id"] == key]
        answer = str(body["answer"])
        assert mine == ([] if answer == "normal" else [answer])


MODAL_INPUTS = ["caption", "privacy", "interactions", "commercial", "commercial_kind", "reason"]


def modal_values() -> st.SearchStrategy:
    """What the page's modal sends: the post page's inputs with values it offers (or not),
    texts full of & < >, nulls, wrong types, names it doesn't have, any JSON at all."""
    value = st.one_of(
        st.none(),
        st.sampled_from(PRIVACY),
        hostile_text(300),
        st.lists(st.sampled_from(["comment", "duet", "stitch", "on", "your_brand", "branded"])),
        st.lists(hostile_text(10), max_size=3),
        json_values(),
    )
    names = st.sampled_from(MODAL_INPUTS) | hostile_text(20)
    return st.one_of(st.dictionaries(names, value, max_size=6), json_values())


def review_modal_of(page) -> str:
    """The id of a post page alex has open: Review and approve pressed on a fresh upload
    waiting for alex's approval when alex has none open."""

    async def open_one() -> str:
        sb = page.sb
        shown = sb.modals.shown("U0ALEX")
        if shown is not None:
            return shown["view"]["id"]
        answer = await sb.hold(
            {
                "source_url": "https://cdn.example.com/teaser.mp4",
                "post": {"title": "Fuzz <b>&</b>", "privacy_level": "SELF_ONLY"},
                "approval": {"approvers": ["U0ALEX"]},
                "submitted_by": "U0RILEY",
            }
        )
        assert answer["status"] == 202, answer
        body = answer["body"]
        clicked = await sb.click("U0ALEX", "review_upload", body["upload_key"], "C0LAUNCH")
        assert clicked["answered"], clicked
        shown = sb.modals.shown("U0ALEX")
        assert shown is not None
        return shown["view"]["id"]

    return page.call(open_one())


@settings(max_examples=examples(30))
@given(
    values=modal_values(),
    close=st.booleans(),
    view_id=st.one_of(st.none(), st.none(), hostile_text(20)),
    user=st.sampled_from(["U0ALEX", "U0ALEX", "U0SAM", "nobody"]),
)
def test_any_modal_sent_from_the_page_gets_an_answer(page, values, close, view_id, user):
    """`POST /api/view` (and `/api/view/close`) with any inputs, for the modal alex has open
    (or another id, or another person): 200 or a 4xx, never a 5xx or a traceback; the
    errors answered are text by block_id; every message and modal the bot sent is valid."""
    count_case()
    opened = review_modal_of(page)
    body = {"user": user, "view_id": view_id if view_id is not None else opened, "values": values}
    path = "/api/view/close" if close else "/api/view"
    status, text = page.post(path, json_bytes(body))
    assert status in (200, 400, 409), (status, text[:300])
    assert "Traceback" not in text
    if status == 200 and not close:
        answer = json.loads(text)
        assert set(answer) == {"sent", "status", "errors", "closed"}
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in answer["errors"].items())
        assert answer["status"] in (0, 200)
    assert page.new_problems() == []


def workspace_calls() -> st.SearchStrategy:
    """A page call naming a workspace: Add to Slack, Uninstall, a command, the Home, an
    announcement; the sandbox's workspaces (or none) mostly, sometimes any JSON at all."""
    team = st.sampled_from(TEAMS) | st.sampled_from(TEAMS) | maybe(hostile_text(20))

    def body(**fields: st.SearchStrategy) -> st.SearchStrategy:
        optional = {} if "team" in fields else {"team": team}
        typed = st.fixed_dictionaries(fields, optional=optional)
        return st.one_of(typed, typed, typed, json_values())

    people = st.sampled_from(PEOPLE)
    return st.one_of(
        st.tuples(st.just("/api/install"), body()),
        st.tuples(st.just("/api/uninstall"), body(team=team)),
        st.tuples(st.just("/api/uninstall"), body(team=st.just("T0002"))),
        st.tuples(
            st.just("/api/command"),
            body(user=people, text=st.sampled_from(["whoami", "help", "settings"])),
        ),
        st.tuples(st.just("/api/home"), body(user=people)),
        st.tuples(
            st.just("/api/announce"),
            body(publish_id=st.just("v_pub_url~v2.ws"), user=people, title=hostile_text(40)),
        ),
    )


def installed_at_the_bot(page) -> set[str]:
    with contextlib.closing(sqlite3.connect(page.sb.db_path)) as db:
        return {row[0] for row in db.execute("SELECT team_id FROM slack_installations")}


@settings(max_examples=examples(30))
@given(call=workspace_calls(), shown=st.sampled_from(TEAMS) | hostile_text(20))
def test_any_workspace_a_call_names_gets_an_answer(page, call, shown):
    """200 or a 4xx, never a 5xx or a traceback; `/api/state` of any workspace named answers
    200 or 400; the workspaces it lists with the app are those the bot has installed."""
    count_case()
    path, body = call
    status, text = page.post(path, json_bytes(body))
    assert status in (200, 400, 409), (status, text[:300])
    assert "Traceback" not in text
    query = urllib.parse.urlencode({"team": shown})
    try:
        with urllib.request.urlopen(f"{page.sb.url}/api/state?{query}", timeout=30) as resp:
            state = json.load(resp)
    except urllib.error.HTTPError as err:
        assert err.code == 400, err.code
        assert "Traceback" not in err.read().decode(errors="replace")
        state = get_state(page)
    listed = {w["team_id"] for w in state["workspaces"] if w["installed"]}
    assert listed == installed_at_the_bot(page)
    assert page.new_problems() == []
