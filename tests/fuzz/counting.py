"""The count of generated (hypothesis) cases run, printed at the end of every run as
"hypothesis cases run: N" (tests/conftest.py). Under pytest-xdist each worker counts its own
and hands the count to the controller, which adds them up."""

from __future__ import annotations

CASES = {"run": 0}


def count_case() -> None:
    CASES["run"] += 1


def add_worker_count(workeroutput: dict) -> None:
    CASES["run"] += int(workeroutput.get("hypothesis_cases", 0))


def hand_over(workeroutput: dict) -> None:
    workeroutput["hypothesis_cases"] = CASES["run"]
