"""The explanation catalog: every outcome's plain words, read from `bot/catalog.toml`.

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
        "next_on_start",
    }
)
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
    next_on_start: str = ""  # after a held upload's start ended this way; "" = see messages.held

    def still_running(self, verb: str) -> tuple[Running, str]:
        """The "Still running" value and note for what was asked: "cancel" or "check"."""
        if verb == "check":
            return self.running_on_check, self.running_on_check_note
        return self.running, self.running_note


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
    return Explanation(
        code=code,
        kind=raw["kind"],
        headline=raw["headline"],
        what=raw["what"],
        running=running,
        running_note=note,
        next_step=raw["next"],
        running_on_check=on_check,
        running_on_check_note=on_check_note,
        next_on_start=raw.get("next_on_start", ""),
    )


def load(text: str) -> dict[str, Explanation]:
    """Parse and check a catalog file's text."""
    return {code: _entry(code, raw) for code, raw in tomllib.loads(text).items()}


CATALOG_FILE = "catalog.toml"
_ALL = load(resources.files("bot").joinpath(CATALOG_FILE).read_text(encoding="utf-8"))
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
