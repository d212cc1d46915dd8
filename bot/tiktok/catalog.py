"""The explanation catalog: every outcome's plain words, read from `bot/tiktok/catalog.toml`.

The words live in that data file (named fields, one entry per code) so that someone who
doesn't read Python can review them; this module loads and checks it once and answers
`explain(code)`. A code we don't know falls back to the `unknown` entry with the code kept,
so it is shown verbatim. The command, the button, the thread, the announcement, `explain`
and the App Home all read it, so a code reads the same everywhere.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from enum import Enum
from importlib import resources

KINDS = frozenset({"cancel", "start", "fault", "status", "fail_reason", "oauth", "bot"})
FIELDS = frozenset(
    {
        "kind",
        "headline",
        "what",
        "running",
        "running_note",
        "running_on_check",
        "running_on_check_note",
        "next",
        "next_on_check",
        "next_on_start",
        "next_on_link",
        "headline_on_cancel",
    }
)
# What a person asked for when the outcome came: the next step is written for that request.
REQUESTS = ("cancel", "check", "start", "link")
CHECK_FAILED_NOTE = "we couldn't find out from TikTok just now"


class Running(Enum):
    """Is the upload still running after this outcome?"""

    NO = "no"
    YES = "yes"
    UNKNOWN = "unknown"
    STOPPING = "stopping"  # TikTok accepted a cancel and is trying; not yet confirmed
    NONE = ""  # no upload involved (linking): the message has no "Still running" line


@dataclass(frozen=True)
class Explanation:
    code: str
    kind: str
    headline: str  # the outcome, one sentence, no jargon
    what: str  # what happened, for someone who never read the API docs
    running: Running  # after a cancel ended this way
    running_note: str  # completes "Still running: yes — …"; may be ""
    next_step: str  # an action the reader can take now
    running_on_check: Running = Running.UNKNOWN  # after a status check ended this way
    running_on_check_note: str = ""
    next_on_check: str = ""  # after a status check ended this way; "" = `next_step`
    next_on_start: str = ""  # after a held upload's start ended this way
    next_on_link: str = ""  # after linking an account ended this way
    headline_on_cancel: str = ""  # a start-only code answering a cancel or a status check

    def still_running(self, verb: str) -> tuple[Running, str]:
        """The "Still running" value and note for what was asked: "cancel" or "check"."""
        if verb == "check":
            return self.running_on_check, self.running_on_check_note
        return self.running, self.running_note

    def headline_for(self, request: str) -> str:
        """The headline for what was asked (one of REQUESTS)."""
        if request in ("cancel", "check") and self.headline_on_cancel:
            return self.headline_on_cancel
        return self.headline

    def next_for(self, request: str) -> str:
        """The next step for what was asked (one of REQUESTS), so it never hands someone a
        command for another kind of request: no cancel after a status check, no command for an
        upload that has no publish_id after a held start, no upload at all after linking."""
        if request == "check":
            return self.next_on_check or self.next_step
        if request == "start":
            return self.next_on_start or _unless_commands(self.next_step, DEFAULTS["start"])
        if request == "link":
            return self.next_on_link or _unless_upload(self.next_step, DEFAULTS["link"])
        return self.next_step


def _unless_commands(step: str, default: str) -> str:
    """`step`, unless it names a command or an upload id (a held upload has neither)."""
    return default if any(p in step for p in ("{cmd}", "{id}", "{support}")) else step


def _unless_upload(step: str, default: str) -> str:
    """`step`, unless it names an upload (linking is about no upload)."""
    return default if any(p in step for p in ("{id}", "{upload}", "{support}")) else step


# A bare cancel command in a next step: `/tiktok-cancel <publish_id>`.
BARE_CANCEL = "`{cmd} {id}`"


class CatalogError(ValueError):
    """The catalog file breaks its own rules (raised at import, so tests and start-up fail)."""


def _entry(code: str, raw: dict) -> Explanation:
    unknown = set(raw) - FIELDS
    missing = {"kind", "headline", "what", "next"} - set(raw)
    if unknown or missing:
        raise CatalogError(f"{code}: unknown fields {sorted(unknown)}, missing {sorted(missing)}")
    if raw["kind"] not in KINDS:
        raise CatalogError(f"{code}: kind {raw['kind']!r} is not one of {sorted(KINDS)}")
    if not raw["headline"][:1].isupper() and not raw["headline"].startswith("{"):
        raise CatalogError(f"{code}: the headline must start with a capital")
    running = Running(raw.get("running", ""))
    note = raw.get("running_note", "")
    if "running_on_check" in raw:
        on_check = Running(raw["running_on_check"])
        on_check_note = raw.get("running_on_check_note", "")
    elif raw["kind"] in ("status", "fail_reason"):
        on_check, on_check_note = running, note  # TikTok's own word on where it is
    elif running is Running.NONE:
        on_check, on_check_note = Running.NONE, ""
    else:  # the check itself failed, so we know nothing about the upload
        on_check, on_check_note = Running.UNKNOWN, CHECK_FAILED_NOTE
    entry = Explanation(
        code=code,
        kind=raw["kind"],
        headline=raw["headline"],
        what=raw["what"],
        running=running,
        running_note=note,
        next_step=raw["next"],
        running_on_check=on_check,
        running_on_check_note=on_check_note,
        next_on_check=raw.get("next_on_check", ""),
        next_on_start=raw.get("next_on_start", ""),
        next_on_link=raw.get("next_on_link", ""),
        headline_on_cancel=raw.get("headline_on_cancel", ""),
    )
    _check_next_steps(entry)
    return entry


def _check_next_steps(entry: Explanation) -> None:
    """A status check whose answer is not TikTok's word on the upload never hands over a
    cancel command as the thing to try; a held start names no command; linking no upload."""
    code = entry.code
    if entry.kind not in ("status", "fail_reason") and BARE_CANCEL in entry.next_for("check"):
        raise CatalogError(f"{code}: the next step after a status check names a cancel")
    if entry.next_on_start and (
        "{id}" in entry.next_on_start or "{support}" in entry.next_on_start
    ):
        raise CatalogError(f"{code}: next_on_start names an upload id (a held upload has none)")
    if entry.next_on_link and ("{id}" in entry.next_on_link or "{support}" in entry.next_on_link):
        raise CatalogError(f"{code}: next_on_link names an upload (linking is about none)")


DEFAULTS: dict[str, str] = {}  # the file's top-level `default_next_on_*` steps, by request


def load(text: str) -> dict[str, Explanation]:
    """Parse and check a catalog file's text: top-level defaults, then one table per code."""
    raw = tomllib.loads(text)
    for request in ("start", "link"):
        step = raw.pop(f"default_next_on_{request}", None)
        if not isinstance(step, str) or not step:
            raise CatalogError(f"default_next_on_{request} is missing")
        DEFAULTS[request] = step
    return {code: _entry(code, fields) for code, fields in raw.items()}


CATALOG_FILE = "catalog.toml"
_ALL = load(resources.files("bot.tiktok").joinpath(CATALOG_FILE).read_text(encoding="utf-8"))
FALLBACK = _ALL.pop("unknown")
CATALOG: dict[str, Explanation] = _ALL
ENTRIES: tuple[Explanation, ...] = tuple(CATALOG.values())


def explain(code: str | None) -> Explanation:
    """The entry for `code`, or the fallback (with the unknown code kept) for anything new."""
    if code and code in CATALOG:
        return CATALOG[code]
    return replace(FALLBACK, code=code or FALLBACK.code)


def is_known(code: str) -> bool:
    return code in CATALOG
