"""`python -m bot sandbox`: one URL printed, the page served, SIGTERM stopping it, and a taken
port said in one line."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from sandbox.server import CHANNEL


@contextlib.contextmanager
def running_sandbox(tmp_path: Path, timeout: float = 30.0) -> Iterator[str]:
    """`python -m bot sandbox --port 0` as a subprocess; yields the one URL it prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TIKTOK_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0", "--db", str(tmp_path / "sb.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    try:
        try:
            first = lines.get(timeout=timeout)
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"no URL printed; stderr: {proc.stderr.read()}") from None
        match = re.fullmatch(r"tiktok-cancel sandbox: open (http://127\.0\.0\.1:\d+)\n", first)
        assert match, first
        yield match.group(1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, proc.stderr.read()
    reader.join(timeout=5)
    rest = []
    while not lines.empty():
        rest.append(lines.get())
    assert "".join(rest).strip() == "", rest


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
