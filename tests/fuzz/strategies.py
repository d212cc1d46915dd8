"""Generated input for the fuzz suite: hostile text, ids, JSON values and bodies."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from tests.fuzz.conftest import SEEDED, SEEDED_HELD

# Things that have broken chat bots: mrkdwn control characters, mentions, links, formatting,
# line breaks, bidi overrides, NUL, emoji (one is two UTF-16 units, one family is eleven).
HOSTILE_PIECES = [
    "&",
    "<",
    ">",
    "&amp;",
    "&lt;",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U1>",
    "<@UADMIN|admin>",
    "<#C1|general>",
    "https://evil.example/login",
    "<https://evil.example/login|Log in>",
    "evil.example",
    "*bold*",
    "_it_",
    "~s~",
    "`",
    "```",
    ">quote",
    "\n",
    "\r\n",
    "\t",
    "\u202e",
    "\u200b",
    "\x00",
    "\x1b[31m",
    "\ufffd",
    "🚀",
    "👩\u200d👩\u200d👧\u200d👦",
    "%s",
    "{publish_id}",
    "{0}",
    "\\",
    '"',
    "'",
    "=cmd|' /C calc'!A0",
    "../../etc/passwd",
    "' OR 1=1 --",
    "null",
    "NaN",
]
REPEATABLE = ["&", "<", ">", "🚀", "a", " ", "`", "\n", "é", "👩\u200d👩\u200d👧\u200d👦"]


LIMITS = [1, 2, 50, 60, 61, 100, 150, 189, 199, 200, 201, 255, 256, 257, 300, 301, 1000, 2001]


def long_runs(max_size: int = 3000) -> st.SearchStrategy[str]:
    """One character repeated, often to a length at or near a limit: escaping and emoji that
    grow past a limit after the input passed it."""
    sizes = st.one_of(
        st.sampled_from([n for n in LIMITS if n <= max_size] or [max_size]),
        st.integers(0, max_size),
    )
    return st.builds(lambda c, n: c * n, st.sampled_from(REPEATABLE), sizes)


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    pieces = st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=8))
    return st.one_of(
        st.text(max_size=max_size),
        st.sampled_from(HOSTILE_PIECES),
        st.lists(pieces, max_size=max_size).map("".join),
        long_runs(max_size),
        long_runs(),
    )


def publish_ids() -> st.SearchStrategy[str]:
    well_formed = st.builds(
        "v_pub_url~v2.{}".format, st.integers(0, 10**12).map(str)
    ) | st.sampled_from(SEEDED)
    odd = st.from_regex(r"[A-Za-z0-9_.~-]{1,300}", fullmatch=True)
    return st.one_of(well_formed, well_formed, odd, hostile_text(20))


SUBCOMMANDS = [
    "",
    "help",
    "list",
    "status",
    "connect",
    "disconnect",
    "whoami",
    "accounts",
    "explain",
    "as brand",
    "as",
    "team connect",
    "team grant brand",
    "team revoke brand",
    "team remove",
    "team",
    "cancel",
]


def command_texts() -> st.SearchStrategy[str]:
    """What someone might type after /tiktok-cancel (as typed, before Slack escapes it)."""
    return st.one_of(
        hostile_text(60),
        st.builds(
            lambda sub, rest: f"{sub} {rest}".strip(" "),
            st.sampled_from(SUBCOMMANDS),
            hostile_text(30),
        ),
        st.builds(
            lambda sub, pid, reason: f"{sub} {pid} {reason}".strip(" "),
            st.sampled_from(["", "status", "as brand", "as nobody", "cancel"]),
            publish_ids(),
            hostile_text(),
        ),
    )


def slack_escaped(text: str) -> str:
    """What Slack sends for text a person typed (should_escape: & < > become entities)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ACTION_IDS = [
    "cancel_upload",
    "retry_cancel",
    "connect_tiktok",
    "disconnect_tiktok",
    "cancel_held",
    "start_held",
]


def action_ids() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(ACTION_IDS),
        st.sampled_from(ACTION_IDS),
        st.text(min_size=1, max_size=40),
    )


def button_values() -> st.SearchStrategy[str]:
    retry_json = st.builds(
        lambda pid, reason: json.dumps({"publish_id": pid, "reason": reason}),
        publish_ids(),
        hostile_text(),
    )
    odd_json = st.builds(json.dumps, json_values())
    held_keys = st.sampled_from(SEEDED_HELD)
    return st.one_of(publish_ids(), retry_json, odd_json, hostile_text(), st.just("me"), held_keys)


# --- JSON -----------------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, -0.0, 1e308, 2**63, 2**64, 10**400]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, hostile_text())


def json_values() -> st.SearchStrategy:
    """Any JSON value, nested junk included."""
    return st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )


def maybe(value: st.SearchStrategy) -> st.SearchStrategy:
    """Usually a value of the right shape, sometimes anything JSON can hold."""
    return st.one_of(value, value, value, json_values())


VIDEO = st.fixed_dictionaries(
    {},
    optional={
        "format": maybe(st.sampled_from(["mp4", "mov", "webm", "avi"]) | hostile_text(70)),
        "codec": maybe(st.sampled_from(["h264", "h265", "vp8", "prores"]) | hostile_text(70)),
        "fps": maybe(NUMBERS),
        "width": maybe(NUMBERS),
        "height": maybe(NUMBERS),
        "duration_s": maybe(NUMBERS),
        "size_bytes": maybe(NUMBERS),
        "extra": json_values(),
    },
)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """`good` four times in five, so the other fields are reached; else `bad`."""
    return st.one_of(good, good, good, good, bad)


def notification_bodies() -> st.SearchStrategy:
    """`POST /notifications` bodies: valid-shaped JSON objects with hostile values (right
    types, hostile content, mostly within the limits, so messages get built), objects with
    wrong types and junk anywhere, and any JSON at all."""
    well_formed_id = st.integers(0, 10**12).map("v_pub_url~v2.{}".format)
    channels = st.sampled_from(["C1", "C2", "GPRIVATE", "DU1"])
    urls = st.sampled_from(["https://cdn.example/a.mp4", "https://evil.example/login"]) | st.builds(
        "https://cdn.example/{}".format, hostile_text(60)
    )
    typed_video = st.fixed_dictionaries(
        {},
        optional={
            "format": st.sampled_from(["mp4", "mov", "webm", "avi"]) | hostile_text(64),
            "codec": st.sampled_from(["h264", "h265", "vp8", "prores"]) | hostile_text(64),
            "fps": NUMBERS,
            "width": NUMBERS,
            "height": NUMBERS,
            "duration_s": NUMBERS,
            "size_bytes": NUMBERS,
        },
    )
    typed = st.fixed_dictionaries(
        {"publish_id": well_formed_id, "channel": channels},
        optional={
            "title": hostile_text(200),
            "account": st.sampled_from(["brand", "nobody", "a" * 64]),
            "source_url": urls,
            "video": typed_video,
        },
    )
    junk = st.fixed_dictionaries(
        {
            "publish_id": maybe(publish_ids()),
            "channel": maybe(channels | hostile_text(90)),
        },
        optional={
            "title": maybe(hostile_text(210)),
            "account": maybe(hostile_text(70)),
            "source_url": maybe(urls | hostile_text(60)),
            "video": maybe(VIDEO),
            "junk": json_values(),
        },
    )
    return st.one_of(typed, typed, typed, junk, json_values())


PRIVACY = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]


def approvals() -> st.SearchStrategy:
    """`approval` of an upload: approvers, needed and approve_by, well-formed or not."""
    ids = st.sampled_from(["UALICE", "U1", "SLEADS", "WENT1"]) | st.from_regex(
        r"[UWS][A-Z0-9]{2,30}", fullmatch=True
    )
    dates = st.sampled_from(
        ["2099-01-01T00:00:00Z", "2026-12-05T17:00:00Z", "2000-01-01T00:00:00Z", "soon", ""]
    ) | hostile_text(50)
    typed = st.fixed_dictionaries(
        {"approvers": st.lists(ids, max_size=105)},
        optional={"needed": st.one_of(st.integers(-2, 120), NUMBERS), "approve_by": dates},
    )
    return st.one_of(typed, typed, maybe(st.dictionaries(st.text(max_size=20), json_values())))


def upload_bodies() -> st.SearchStrategy:
    """`POST /uploads` bodies: valid-shaped held uploads with hostile values (most reach the
    creator_info check and the announcement), wrong types and junk anywhere, any JSON at all.
    Windows are long, so generated uploads stay held (the seeded ones get started)."""
    keys = st.from_regex(r"[A-Za-z0-9_.:~-]{1,128}", fullmatch=True)
    channels = st.sampled_from(["C1", "C2", "GPRIVATE"])
    urls = st.sampled_from(["https://cdn.example/a.mp4", "http://cdn.example/a.mp4"]) | st.builds(
        "https://cdn.example/{}".format, hostile_text(60)
    )
    typed_post = st.fixed_dictionaries(
        {"privacy_level": st.sampled_from(PRIVACY)},
        optional={
            "title": hostile_text(2300),
            "disable_comment": st.booleans(),
            "disable_duet": st.booleans(),
            "brand_content_toggle": st.booleans(),
            "is_aigc": st.booleans(),
            "video_cover_timestamp_ms": st.integers(-1, 2**32),
        },
    )
    typed = st.fixed_dictionaries(
        {
            "upload_key": keys,
            "channel": channels,
            "account": mostly(st.just("brand"), st.sampled_from(["nobody", "a" * 64])),
            "source_url": urls,
            "post": typed_post,
        },
        optional={
            "hold_s": st.one_of(st.integers(600, 86400), NUMBERS),
            "video": VIDEO,
            "approval": approvals(),
            "submitted_by": maybe(st.sampled_from(["UALICE", "U1", "SLEADS"]) | hostile_text(40)),
        },
    )
    junk = st.fixed_dictionaries(
        {
            "upload_key": maybe(keys | hostile_text(140)),
            "channel": maybe(channels | hostile_text(90)),
            "account": maybe(st.just("brand") | hostile_text(70)),
            "source_url": maybe(urls | hostile_text(60)),
            "post": maybe(st.dictionaries(st.text(max_size=30), json_values())),
        },
        optional={"hold_s": maybe(NUMBERS), "video": maybe(VIDEO), "junk": json_values()},
    )
    return st.one_of(typed, typed, typed, junk, json_values())


# Number shapes json.dumps never writes but a client may send: literals past a float's range
# (1e999 reads as inf), integers past a float's (10**400) and past Python's 4300 digits, minus
# zero, and the non-standard constants Python's json reads unless told not to.
NUMBER_LITERALS = st.one_of(
    st.sampled_from(
        [
            "1e999",
            "-1e999",
            "1E400",
            "1e-999",
            "-0",
            "-0.0",
            "0e0",
            "-0e-0",
            "NaN",
            "Infinity",
            "-Infinity",
            "1" + "0" * 400,
            "-1" + "0" * 400,
            "9" * 4301,
            "123456789012345678901234567890.5",
        ]
    ),
    st.integers(300, 4400).map(lambda n: "1" + "0" * n),
    st.integers(300, 4400).map(lambda n: "-9" + "9" * n),
    st.builds("{}e{}".format, st.integers(-9, 9), st.integers(-1100, 1100)),
    st.builds("{}.{}".format, st.integers(-(10**20), 10**20), st.integers(0, 10**20)),
)
PLACEHOLDER = "@@number-literal@@"


def with_number_literal(bodies: st.SearchStrategy, paths: list[str]) -> st.SearchStrategy[bytes]:
    """Bodies from `bodies` as raw JSON with one number literal (NUMBER_LITERALS) written at
    one of `paths` ("hold_s", "video.fps", …) exactly as a client would send it."""

    def build(body, path: str, literal: str) -> bytes:
        if not isinstance(body, dict):
            body = {}
        *parents, leaf = path.split(".")
        node = body = dict(body)
        for name in parents:
            child = node.get(name)
            node[name] = dict(child) if isinstance(child, dict) else {}
            node = node[name]
        node[leaf] = PLACEHOLDER
        return json.dumps(body).replace(f'"{PLACEHOLDER}"', literal).encode()

    return st.builds(build, bodies, st.sampled_from(paths), NUMBER_LITERALS)


VIDEO_NUMBERS = ["video.fps", "video.width", "video.height", "video.duration_s", "video.size_bytes"]


def notification_number_bodies() -> st.SearchStrategy[bytes]:
    """Valid announcements but for one number literal (so its validator is reached), or any
    generated body with one."""
    valid = st.fixed_dictionaries(
        {
            "publish_id": st.integers(0, 10**12).map("v_pub_url~v2.{}".format),
            "channel": st.sampled_from(["C1", "C2"]),
        }
    )
    return st.one_of(
        with_number_literal(valid, VIDEO_NUMBERS),
        with_number_literal(valid, VIDEO_NUMBERS),
        with_number_literal(notification_bodies(), VIDEO_NUMBERS),
    )


def upload_number_bodies() -> st.SearchStrategy[bytes]:
    """Valid held uploads but for one number literal (so its validator is reached), or any
    generated body with one."""
    paths = ["hold_s", "hold_s", "post.video_cover_timestamp_ms", *VIDEO_NUMBERS]
    valid = st.fixed_dictionaries(
        {
            "upload_key": st.from_regex(r"num-[a-z0-9]{1,20}", fullmatch=True),
            "channel": st.sampled_from(["C1", "C2"]),
            "account": st.just("brand"),
            "source_url": st.just("https://cdn.example/a.mp4"),
            "post": st.fixed_dictionaries({"privacy_level": st.sampled_from(PRIVACY)}),
            "hold_s": st.just(86400),
        }
    )
    return st.one_of(
        with_number_literal(valid, paths),
        with_number_literal(valid, paths),
        with_number_literal(upload_bodies(), paths),
    )


def json_bytes(value) -> bytes:
    """JSON as Python writes it (NaN and Infinity included, as some clients send them)."""
    return json.dumps(value, allow_nan=True).encode()


RAW_BODIES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"\xff\xfe{}",
            b'{"publish_id": "\xff", "channel": "C1"}',
            b"",
            b"[",
            b"{" * 5000,
            b'{"publish_id": "v_pub_url~v2.77", "channel": "C1", "video": {"fps": 1e400}}',
            b'{"publish_id": "v_pub_url~v2.78", "channel": "C1", "video": {"width": -1e400}}',
        ]
    ),
)
