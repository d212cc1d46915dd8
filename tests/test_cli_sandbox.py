"""`python -m bot sandbox`: one URL printed, the page served, SIGTERM stopping it, and a taken
port said in one line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

from sandbox.server import CHANNEL
from tests.sandbox_page import running_sandbox


def test_cli_prints_one_url_serves_the_page_and_stops_on_sigterm(tmp_path):
    started = time.monotonic()
    with running_sandbox(tmp_path) as url:
        with urllib.request.urlopen(url + "/", timeout=10) as resp:
            assert resp.status == 200
            assert "tiktok-cancel sandbox" in resp.read().decode()
        with urllib.request.urlopen(url + "/api/state", timeout=10) as resp:
            assert json.load(resp)["channels"][0]["id"] == CHANNEL
    assert (tmp_path / "sb.db").is_file()
    assert time.monotonic() - started < 30


def test_cli_says_when_the_port_is_taken(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
    assert out.returncode == 1
    assert out.stdout == ""
    assert f"can't listen on port {port}" in out.stderr and "Traceback" not in out.stderr
