"""Parsing the text after `/tiktok-cancel` into a typed command, before anything is sent.

No I/O here: an unknown word, an empty or malformed publish_id, or a value over 256
characters comes back as a `Parsed` with a `problem`, and nothing is called.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

MAX_VALUE_LENGTH = 256
SUBCOMMANDS = ("status", "connect", "disconnect", "whoami", "explain", "help")
# TikTok's ids look like v_pub_url~v2.123456789; treat them as opaque but printable.
PUBLISH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~:+=/-]*")
CODE = re.compile(r"[A-Za-z0-9_.-]+")
WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Parsed:
    name: str  # "cancel", a subcommand, or "usage" when there is a problem
    publish_id: str = ""
    reason: str = ""
    code: str = ""
    problem: str = ""  # "", "unknown_word", "missing_id", "malformed_id", "too_long", …
    word: str = ""  # the word the problem is about (shown back, escaped)
    suggestion: str = ""  # a close subcommand for a typo


def check_id(name: str, value: str, reason: str = "") -> Parsed:
    if not value:
        return Parsed("usage", problem="missing_id", word=name)
    if len(value) > MAX_VALUE_LENGTH:
        return Parsed("usage", problem="too_long", word=name)
    if not PUBLISH_ID.fullmatch(value):
        return Parsed("usage", problem="malformed_id", word=value)
    if len(reason) > MAX_VALUE_LENGTH:
        return Parsed("usage", problem="reason_too_long", word=name)
    return Parsed(name, publish_id=value, reason=reason)


def parse(text: str | None) -> Parsed:
    text = (text or "").strip()
    if not text:
        return Parsed("help")
    first, _, rest = text.partition(" ")
    rest = rest.strip()
    word = first.lower()
    if word == "help":
        return Parsed("help")
    if word in ("connect", "disconnect", "whoami"):
        if rest:
            return Parsed("usage", problem="extra_words", word=word)
        return Parsed(word)
    if word == "status":
        value, _, extra = rest.partition(" ")
        if extra.strip():
            return Parsed("usage", problem="extra_words", word=word)
        return check_id("status", value)
    if word == "explain":
        if not rest:
            return Parsed("usage", problem="missing_code", word=word)
        if len(rest) > MAX_VALUE_LENGTH:
            return Parsed("usage", problem="too_long", word=word)
        if not CODE.fullmatch(rest):
            return Parsed("usage", problem="malformed_code", word=rest)
        return Parsed("explain", code=rest)
    if WORD.fullmatch(first):
        close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
        return Parsed(
            "usage",
            problem="unknown_word",
            word=first[:MAX_VALUE_LENGTH],
            suggestion=close[0] if close else "",
        )
    return check_id("cancel", first, rest)
