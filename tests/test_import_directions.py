"""The rooms hold: every import rule of ARCHITECTURE.md, checked by reading each module's imports.

Three rooms, one direction (handlers → bot → storage); only the composition root (`bot/app.py`,
`bot/__main__.py`) imports `handlers/` and `sandbox/`; inside `bot/`, the rooms import downward
only (commands → uploads → accounts → slack, tiktok, messages → the shared modules at the top).
Imports inside functions count too, and the production modules, imported for real, never load
the sandbox (`python -m bot sandbox` imports it inside the command only).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("accounts", "uploads", "tiktok", "slack", "messages", "commands", "ops")
COMPOSITION_ROOT = {"bot.app", "bot.__main__"}
SLACK_LIBRARIES = ("slack_sdk", "slack_bolt")

# (what the rule is about, does it apply to this module?, prefixes it must not import)
RULES = [
    (
        "storage knows nothing of Slack or the bot",
        lambda m: m.startswith("storage"),
        ("bot", "handlers", "sandbox", *SLACK_LIBRARIES),
    ),
    (
        "only the composition root imports handlers and the sandbox",
        lambda m: m.startswith("bot") and m not in COMPOSITION_ROOT,
        ("handlers", "sandbox"),
    ),
    (
        "handlers call the bot, never the storage or the sandbox",
        lambda m: m.startswith("handlers"),
        ("storage", "sandbox"),
    ),
    (
        "the TikTok client, rules and catalog know nothing of Slack or the database",
        lambda m: m.startswith("bot.tiktok"),
        ("storage", *SLACK_LIBRARIES, *(f"bot.{r}" for r in ROOMS if r != "tiktok")),
    ),
    (
        "message builders are plain dicts of plain values",
        lambda m: m.startswith("bot.messages"),
        (
            "storage",
            *SLACK_LIBRARIES,
            "bot.accounts",
            "bot.uploads",
            "bot.slack",
            "bot.commands",
            "bot.ops",
        ),
    ),
    (
        "talking to Slack knows no use case",
        lambda m: m.startswith("bot.slack"),
        ("bot.accounts", "bot.uploads", "bot.commands", "bot.ops"),
    ),
    (
        "accounts never reach up into uploads",
        lambda m: m.startswith("bot.accounts"),
        ("bot.uploads", "bot.commands", "bot.ops"),
    ),
    (
        "uploads never reach up into the command router",
        lambda m: m.startswith("bot.uploads"),
        ("bot.commands", "bot.ops"),
    ),
    (
        "operator tools are reached only from the CLI",
        lambda m: m.startswith("bot") and not m.startswith("bot.ops") and m != "bot.__main__",
        ("bot.ops",),
    ),
    (
        "the shared modules at the top of bot/ import no room",
        lambda m: (
            m.count(".") == 1
            and m.startswith("bot.")
            and m.split(".")[1] not in ROOMS
            and m not in COMPOSITION_ROOT
        ),
        tuple(f"bot.{r}" for r in ROOMS),
    ),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, absolute, wherever the import statement sits."""
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


MODULES = {
    module_name(p): p
    for room in ("bot", "handlers", "storage")
    for p in (ROOT / room).rglob("*.py")
}


@pytest.mark.parametrize("rule, applies, forbidden", RULES, ids=[r[0] for r in RULES])
def test_imports_go_one_way(rule, applies, forbidden):
    broken = sorted(
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if applies(name)
        for imported in imports_of(path)
        if any(within(imported, prefix) for prefix in forbidden)
    )
    assert broken == [], f"{rule}:\n" + "\n".join(broken)


def test_the_rules_see_every_room():
    """A rule that matches no module checks nothing: each room has modules to check."""
    for room in ("storage", "handlers", "bot.app", "bot.__main__", *(f"bot.{r}" for r in ROOMS)):
        assert any(within(name, room) for name in MODULES), room
    assert "sandbox" in {i.partition(".")[0] for i in imports_of(MODULES["bot.__main__"])}


@pytest.mark.parametrize("room", ["bot", "handlers", "storage", *(f"bot.{r}" for r in ROOMS)])
def test_every_room_says_what_lives_there_and_what_it_may_import(room):
    doc = ast.get_docstring(ast.parse(MODULES[room].read_text()))
    assert doc and len(doc) > 60, f"{room}/__init__.py needs its paragraph"


def test_production_modules_never_import_the_sandbox():
    code = (
        "import bot.app, bot.__main__, handlers, storage, bot.messages, bot.accounts.linking; "
        "import sys; print('sandbox' in sys.modules, "
        "any(m.startswith('sandbox.') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_nothing_outside_sandbox_and_tests_mentions_it():
    for package in ("bot", "handlers", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            for line in text.splitlines():
                if re.match(r"\s*(from|import)\s+sandbox\b", line):
                    # `python -m bot sandbox` imports it lazily, inside the command only.
                    assert path.name == "__main__.py" and line.startswith(" "), (path, line)
