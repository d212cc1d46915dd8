"""Import rules: which parts of the code may import which (production code never imports the
sandbox)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
