"""The README says what a newcomer needs and points at what is true: the two set-up commands
(.ci/run runs the test one from between its markers), Python 3.11+ and Ctrl-C by the sandbox
command, the screenshot made by its script, and the Speed section a summary whose full
figures are in bench/README.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, title
    return match.group(1)


def test_the_set_up_commands_are_the_ones_ci_runs():
    run = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python -m bot\n"
    assert f"```\n{run}```" in README
    # .ci/run's own extraction of the test command.
    awk = r"/<!-- test-command -->/{f=1;next} /<!-- \/test-command -->/{f=0} f && !/^```/"
    out = subprocess.run(["awk", awk, "README.md"], cwd=ROOT, capture_output=True, text=True)
    install = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]'"
    assert out.stdout == f"{install} && .venv/bin/python -m pytest -n 4\n"


def test_the_sandbox_command_names_python_and_how_to_stop_it():
    tour = section("Try it in one minute")
    before_command = tour.split("```", 1)[0]
    assert "Python\n3.11 or newer" in before_command or "Python 3.11 or newer" in before_command
    assert "Ctrl-C" in before_command
    assert ".venv/bin/python -m bot sandbox\n" in tour


def test_the_screenshot_is_the_scripts():
    tour = section("Try it in one minute")
    assert "![The sandbox page](docs/sandbox.png)" in tour
    assert "python -m sandbox.screenshot" in tour
    assert (ROOT / "docs" / "sandbox.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (ROOT / "sandbox" / "screenshot.py").is_file()


def test_speed_is_a_summary_and_the_tables_are_in_bench():
    speed = section("Speed")
    assert not [line for line in speed.splitlines() if line.startswith("|")]
    assert len(speed.splitlines()) < 30
    assert "(bench/README.md#results)" in speed
    bench = (ROOT / "bench" / "README.md").read_text()
    results = bench.split("\n## Results\n", 1)[1]
    assert "| concurrency |" in results and "| database | concurrency |" in results
