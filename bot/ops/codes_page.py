"""docs/codes.md, the page a support person links to, generated from the catalog.

`python -m bot.ops.codes_page` rewrites docs/codes.md; with `--check` it exits 1 when the page
is stale. Every code is shown as a person reads it, for a sample upload.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.messages.outcomes import SAMPLE_ACCOUNT, Words
from bot.tiktok.catalog import CATALOG, FALLBACK, Explanation, Running
from bot.tiktok.rules import STATUS_ERRORS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "codes.md"
SECTIONS = (
    ("cancel", "Answers to a cancel"),
    ("start", "TikTok refusing to start an upload"),
    ("fault", "Trouble on the way to TikTok"),
    ("status", "Where an upload is"),
    ("fail_reason", "Why an upload failed"),
    ("oauth", "Linking a TikTok account"),
    ("bot", "tiktok-cancel's own answers"),
)
INTRO = """# What tiktok-cancel's answers mean

Every answer the bot gives names what happened, whether the upload is still running, and
what to do next. This page lists each one by the code TikTok (or the bot) gave, shown for a
sample upload called "Spring teaser". Type `/tiktok-cancel explain <code>` in Slack to see
one there.

This page is generated from `bot/tiktok/catalog.toml` by `python -m bot.ops.codes_page`; edit the
catalog, not this page.
"""


def _running(value: Running, note: str, words: Words) -> str:
    if value is Running.NONE:
        return "—"
    return value.value + (" — " + words.fill(note) if note else "")


def _answers_a_check(code: str, entry: Explanation) -> bool:
    """Can a status check end with this code (besides a status value itself)?"""
    if entry.kind == "fault" or code in STATUS_ERRORS:
        return True
    return entry.kind == "bot" and code not in ("in_flight", "bot_error")


def _entry(code: str, entry: Explanation) -> str:
    words = Words(title="Spring teaser", account=SAMPLE_ACCOUNT, code=code)
    check = Words(**{**words.__dict__, "verb": "check"})
    lines = [f"### `{code}`", "", f"**{words.fill(entry.headline)}** {words.fill(entry.what)}", ""]
    after_cancel = _running(entry.running, entry.running_note, words)
    if entry.kind in ("status", "fail_reason"):
        lines.append(f"- Still running: {after_cancel}")
    elif entry.kind != "oauth":
        lines.append(f"- Still running, after a cancel: {after_cancel}")
    if _answers_a_check(code, entry):
        on_check = _running(entry.running_on_check, entry.running_on_check_note, check)
        lines.append(f"- Still running, after a status check: {on_check}")
    if entry.headline_on_cancel:
        lines.append(f"- Answering a cancel instead: {words.fill(entry.headline_on_cancel)}")
    if entry.kind == "oauth":
        lines.append(f"- Next: {words.fill(entry.next_for('link'))}")
    elif entry.kind in ("status", "fail_reason"):
        lines.append(f"- Next: {words.fill(entry.next_step)}")
    else:
        lines.append(f"- Next, after a cancel: {words.fill(entry.next_step)}")
    if _answers_a_check(code, entry) and entry.next_for("check") != entry.next_step:
        lines.append(f"- Next, after a status check: {check.fill(entry.next_for('check'))}")
    if entry.next_on_start:
        lines.append(f"- Next, after a held upload's start: {words.fill(entry.next_on_start)}")
    lines.append("")
    return "\n".join(lines)


def render() -> str:
    parts = [INTRO]
    for kind, heading in SECTIONS:
        parts.append(f"## {heading}\n")
        parts += [_entry(code, e) for code, e in CATALOG.items() if e.kind == kind]
    parts.append("## A code we don't know yet\n")
    parts.append(_entry("brand_new_code_2027", FALLBACK))
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str]) -> int:
    page = render()
    if "--check" in argv:
        stale = not PAGE.exists() or PAGE.read_text(encoding="utf-8") != page
        if stale:
            print(f"{PAGE} is stale: run python -m bot.ops.codes_page", file=sys.stderr)
        return 1 if stale else 0
    PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
