"""Parsing the text after `/tiktok-cancel` into a typed command, before anything is sent.

No I/O here: an unknown word, an empty or malformed publish_id, or a value over 256
characters comes back as a `Parsed` with a `problem`, and nothing is called.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.tiktok.ids import MAX_VALUE_LENGTH, PUBLISH_ID

SUBCOMMANDS = (
    "cancel",
    "status",
    "list",
    "connect",
    "disconnect",
    "whoami",
    "explain",
    "as",
    "accounts",
    "team",
    "help",
)
TEAM_ACTIONS = ("connect", "grant", "revoke", "remove")
CODE = re.compile(r"[A-Za-z0-9_.-]+")
WORD = re.compile(r"[A-Za-z]+")
ACCOUNT = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Slack escapes mentions as <@U123|name> (or <@U123>) when the command has escaping on.
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Parsed:
    name: str  # "cancel", a subcommand, or "usage" when there is a problem
    publish_id: str = ""
    reason: str = ""
    code: str = ""
    account: str = ""  # a team account's short name
    action: str = ""  # for `team`: connect, grant, revoke, remove
    users: tuple[str, ...] = ()  # Slack user IDs named in `team grant/revoke`
    problem: str = ""  # "", "unknown_word", "missing_id", "malformed_id", "too_long", …
    word: str = ""  # the word the problem is about (shown back, escaped)
    suggestion: str = ""  # a close subcommand for a typo


def check_account(name: str, value: str) -> Parsed | None:
    """A usage problem for a bad team account name, or None when it is fine."""
    if not value:
        return Parsed("usage", problem="missing_account", word=name)
    if len(value) > MAX_VALUE_LENGTH:
        return Parsed("usage", problem="too_long", word=name)
    if not ACCOUNT.fullmatch(value):
        return Parsed("usage", problem="malformed_account", word=value)
    return None


def _team(rest: str) -> Parsed:
    action, _, rest = rest.partition(" ")
    action = action.lower()
    if action not in TEAM_ACTIONS:
        return Parsed("usage", problem="team_usage", word=action or "team")
    account, _, rest = rest.strip().partition(" ")
    problem = check_account(f"team {action}", account)
    if problem:
        return problem
    words = rest.split()
    if action in ("connect", "remove"):
        if words:
            return Parsed("usage", problem="extra_words", word=f"team {action}")
        return Parsed("team", action=action, account=account)
    if not words:
        return Parsed("usage", problem="missing_users", word=f"team {action}")
    users = []
    for word in words:
        match = MENTION.fullmatch(word)
        if not match:
            return Parsed("usage", problem="bad_mention", word=word[:MAX_VALUE_LENGTH])
        users.append(match.group(1))
    return Parsed("team", action=action, account=account, users=tuple(dict.fromkeys(users)))


def _as(rest: str) -> Parsed:
    account, _, rest = rest.partition(" ")
    problem = check_account("as", account)
    if problem:
        return problem
    publish_id, _, reason = rest.strip().partition(" ")
    parsed = check_id("cancel", publish_id, reason.strip())
    if parsed.problem:
        return parsed
    return Parsed("cancel", publish_id=parsed.publish_id, reason=parsed.reason, account=account)


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
    if word == "team":
        return _team(rest)
    if word == "as":
        return _as(rest)
    if word == "cancel":
        publish_id, _, reason = rest.partition(" ")
        return check_id("cancel", publish_id, reason.strip())
    if word in ("connect", "disconnect", "whoami", "list", "accounts"):
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
