"""Fuzzing approval before posting: any modal submission Slack (or a forger with the signing
secret) could send — the post page's and the rejection's, any metadata, any values — and any
`GET /uploads/<upload_key>`. No 5xx, no traceback; an ack's errors name fields as Slack wants;
every message the bot sent valid by slack_sdk's models."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.fakes.slack_requests import interactive_body, view_submission_payload
from tests.conftest import UPLOAD
from tests.fuzz.conftest import ADMIN, LINKED, UNLINKED, examples
from tests.fuzz.counting import count_case
from tests.fuzz.strategies import hostile_text, json_values

USERS = st.sampled_from([LINKED, UNLINKED, ADMIN, "UALICE"])
FIELDS = ["caption", "privacy", "interactions", "commercial", "commercial_kind", "reason"]


def _element() -> st.SearchStrategy:
    option = st.fixed_dictionaries(
        {"value": st.sampled_from(["SELF_ONLY", "comment", "on", "branded", "x"]) | hostile_text()}
    )
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("plain_text_input"), "value": hostile_text(2300)}),
        st.fixed_dictionaries({"type": st.just("static_select"), "selected_option": option}),
        st.fixed_dictionaries(
            {"type": st.just("checkboxes"), "selected_options": st.lists(option, max_size=4)}
        ),
        json_values(),
    )


def _values() -> st.SearchStrategy:
    named = st.dictionaries(
        st.sampled_from(FIELDS),
        st.builds(lambda n, e: {n: e}, st.sampled_from(FIELDS), _element()),
        max_size=6,
    )
    return st.one_of(named, named, st.dictionaries(st.text(max_size=20), json_values()))


def _metadata() -> st.SearchStrategy:
    good = st.builds(
        lambda k, o, m: json.dumps({"k": k, "o": o, "d": ["duet"], "m": m, "v": 42.5}),
        st.sampled_from(["run-1", "nope"]) | hostile_text(140),
        st.lists(st.sampled_from(["SELF_ONLY", "PUBLIC_TO_EVERYONE"]), max_size=3),
        st.one_of(st.none(), st.integers(-5, 10**6), st.floats(allow_nan=False)),
    )
    return st.one_of(good, good, hostile_text(3100), st.builds(json.dumps, json_values()))


async def _submit(h, callback_id, metadata, values, user_id) -> tuple[int, str]:
    view = {
        "id": "VFUZZ",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "state": {"values": values},
        "blocks": [],
    }
    payload = view_submission_payload(
        view, user_id=user_id, team_id=h.slack.team_id, trigger_id="1.2.fuzz"
    )
    return await h.post_slack(interactive_body(payload))


@settings(max_examples=examples(120))
@given(
    callback_id=st.sampled_from(["approve_upload", "reject_upload_reason"]) | hostile_text(30),
    metadata=_metadata(),
    values=_values(),
    user=USERS,
)
def test_any_modal_submission_gets_a_clean_ack(live, callback_id, metadata, values, user):
    count_case()
    status, text = live.call(_submit(live.h, callback_id, metadata, values, user))
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text
    if text.strip().startswith("{"):
        ack = json.loads(text)
        assert ack.get("response_action") == "errors"
        assert set(ack["errors"]) <= set(FIELDS)
    live.settle()
    assert live.new_problems() == []


async def _status(h, key: str, token: str) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"}
    async with h.session.get(f"{h.url}/uploads/{quote(key, safe='')}", headers=headers) as resp:
        return resp.status, await resp.text()


@settings(max_examples=examples(80))
@given(key=hostile_text(120) | st.sampled_from(["run-1", "x" * 128]), good=st.booleans())
def test_any_upload_status_request_gets_json_and_no_5xx(live, key, good):
    count_case()
    status, text = live.call(_status(live.h, key or "k", UPLOAD if good else "wrong"))
    assert status < 500, (status, text[:200])
    # 400: a request line longer than the server reads (8 KiB); 404: a key no route takes
    assert status in (400, 404) or status == (200 if good else 401), (status, text[:200])
    if status in (200, 401):
        assert isinstance(json.loads(text), dict)
