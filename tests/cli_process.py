"""`python -m bot …` run to its end with `subprocess.run`, in the test process's environment
without any bot setting: for the CLI tests that start the bot without a harness."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli_env import SETTING_NAMES

TIMEOUT_S = 20


def clean_env(**settings: str) -> dict[str, str]:
    """The test process's environment with no bot setting in it, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(settings)
    return env


def run_bot(
    args: list[str], cwd: Path, timeout: float = TIMEOUT_S, **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_env(**settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
