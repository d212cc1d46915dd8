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
    "settings",
    "help",
)
TEAM_ACTIONS = ("connect", "grant", "revoke", "remove", "approvers")
CODE = re.compile(r"[A-Za-z0-9_.-]+")
WORD = re.compile(r"[A-Za-z]+")
ACCOUNT = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Slack escapes mentions as <@U123|name> (or <@U123>) when the command has escaping on.
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# A user group as Slack sends it in a command's text: <!subteam^S0123|@social-leads> or
# <!subteam^S0123>.
GROUP_MENTION = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>")
APPROVER_ID = re.compile(r"[UWS][A-Z0-9]{1,30}")  # the shape of a Slack user or group id
NUMBER = re.compile(r"[0-9]{1,6}")
MAX_APPROVERS = 100  # people and groups named in one `team approvers`
MAX_NEEDED = 100
SETTINGS_ACTIONS = ("admins", "audit", "pipeline-token")
USER_ID = re.compile(r"[UW][A-Z0-9]{1,30}")  # the shape of a Slack user id
# A channel as Slack sends it in a command's text: <#C0123|general> (or <#C0123>, or <#C0123|>).
CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]{1,30})(?:\|[^>]*)?>")
TOKEN_ID = re.compile(r"pt_[0-9a-f]{8}")  # a pipeline token's public name
SECRET_PREFIX = "tcp_"  # a pipeline token's secret: never echoed back
MAX_ADMINS = 100  # people named in one `settings admins`


@dataclass(frozen=True)
class Parsed:
    name: str  # "cancel", a subcommand, or "usage" when there is a problem
    publish_id: str = ""
    reason: str = ""
    code: str = ""
    account: str = ""  # a team account's short name
    action: str = ""  # for `team`: connect, grant, revoke, remove
    users: tuple[str, ...] = ()  # Slack user IDs named in `team grant/revoke`
    # `team approvers`: Slack user ("U…"/"W…") and user group ("S…") ids, and how many
    # approvals an upload needs; no approvers (and needed 0) is `team approvers <account> none`
    approvers: tuple[str, ...] = ()
    needed: int = 0
    channel: str = ""  # `settings audit`: the channel id ("" with `none`)
    token_id: str = ""  # `settings pipeline-token revoke <id>`
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
    if action == "approvers":
        return _approvers(account, words)
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


def _approver_id(word: str) -> str:
    """The Slack id a mention of a person or a user group names; "" when it is neither."""
    match = MENTION.fullmatch(word) or GROUP_MENTION.fullmatch(word)
    return match.group(1) if match and APPROVER_ID.fullmatch(match.group(1)) else ""


def _approvers(account: str, words: list[str]) -> Parsed:
    """`team approvers <account> <@user or @group>… [needed N]`, or `… none`."""
    about = "team approvers"
    if not words:
        return Parsed("usage", problem="missing_approvers", word=about)
    if words[0].lower() == "none":
        if len(words) > 1:
            return Parsed("usage", problem="none_alone", word=" ".join(words)[:MAX_VALUE_LENGTH])
        return Parsed("team", action="approvers", account=account)
    needed = 1
    if len(words) >= 2 and words[-2].lower() == "needed":
        number = words[-1]
        if not NUMBER.fullmatch(number) or not 1 <= int(number) <= MAX_NEEDED:
            return Parsed("usage", problem="bad_needed", word=f"needed {number}"[:MAX_VALUE_LENGTH])
        needed = int(number)
        words = words[:-2]
    named: list[str] = []
    for word in words:
        if word.lower() == "needed":
            return Parsed("usage", problem="bad_needed", word=word[:MAX_VALUE_LENGTH])
        found = _approver_id(word)
        if not found:
            return Parsed("usage", problem="bad_approver", word=word[:MAX_VALUE_LENGTH])
        named.append(found)
    approvers = tuple(dict.fromkeys(named))
    if not approvers:
        return Parsed("usage", problem="missing_approvers", word=about)
    if len(approvers) > MAX_APPROVERS:
        return Parsed("usage", problem="too_many_approvers", word=about)
    people = [a for a in approvers if not a.startswith("S")]
    if len(people) == len(approvers) and needed > len(people):
        return Parsed("usage", problem="needed_over_people", word=f"needed {needed}")
    return Parsed("team", action="approvers", account=account, approvers=approvers, needed=needed)


def _settings(rest: str) -> Parsed:
    """`settings`, `settings admins <@user>…|none`, `settings audit <#channel>|none`,
    `settings pipeline-token`, `settings pipeline-token revoke <id>`."""
    if not rest:
        return Parsed("settings", action="show")
    words = rest.split()
    if any(w.lower().startswith(SECRET_PREFIX) for w in words):
        return Parsed("usage", problem="secret_pasted", word="settings pipeline-token")
    action = words[0].lower()
    words = words[1:]
    if action == "admins":
        return _settings_admins(words)
    if action == "audit":
        return _settings_audit(words)
    if action == "pipeline-token":
        return _settings_token(words)
    close = difflib.get_close_matches(action, SETTINGS_ACTIONS, n=1, cutoff=0.6)
    return Parsed(
        "usage",
        problem="settings_usage",
        word=_cut(action),
        suggestion=f"settings {close[0]}" if close else "",
    )


def _cut(word: str) -> str:
    """A word as a usage answer may echo it: at most 256 characters."""
    return word[:MAX_VALUE_LENGTH]


def _settings_admins(words: list[str]) -> Parsed:
    if not words:
        return Parsed("usage", problem="missing_admins", word="settings admins")
    if words[0].lower() == "none":
        if len(words) > 1:
            return Parsed("usage", problem="admins_none_alone", word=_cut(" ".join(words)))
        return Parsed("settings", action="admins")
    users = []
    for word in words:
        match = MENTION.fullmatch(word)
        if not match or not USER_ID.fullmatch(match.group(1)):
            return Parsed("usage", problem="bad_admin", word=_cut(word))
        users.append(match.group(1))
    named = tuple(dict.fromkeys(users))
    if len(named) > MAX_ADMINS:
        return Parsed("usage", problem="too_many_admins", word="settings admins")
    return Parsed("settings", action="admins", users=named)


def _settings_audit(words: list[str]) -> Parsed:
    if not words:
        return Parsed("usage", problem="missing_channel", word="settings audit")
    if len(words) > 1:
        return Parsed("usage", problem="one_channel", word=_cut(" ".join(words)))
    if words[0].lower() == "none":
        return Parsed("settings", action="audit")
    match = CHANNEL_MENTION.fullmatch(words[0])
    if not match:
        return Parsed("usage", problem="bad_channel", word=_cut(words[0]))
    return Parsed("settings", action="audit", channel=match.group(1))


def _settings_token(words: list[str]) -> Parsed:
    if not words:
        return Parsed("settings", action="pipeline_token")
    if words[0].lower() != "revoke":
        return Parsed("usage", problem="token_usage", word=_cut(words[0]))
    if len(words) == 1:
        return Parsed("usage", problem="missing_token_id", word="settings pipeline-token revoke")
    if len(words) > 2:
        return Parsed("usage", problem="one_token_id", word=_cut(" ".join(words[1:])))
    token_id = words[1].lower()
    if not TOKEN_ID.fullmatch(token_id):
        return Parsed("usage", problem="bad_token_id", word=_cut(words[1]))
    return Parsed("settings", action="pipeline_token_revoke", token_id=token_id)


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
    if word == "settings":
        return _settings(rest)
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
