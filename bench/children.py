"""The servers the benchmark measures, each in a subprocess of its own: `start_child` runs
bench/bot_server.py or bench/baseline_app.py, hands it its settings and waits for `READY
<port>` (bench/child.py's protocol); a `Child` reads its CPU time and memory from /proc, waits
until it is idle, and stops it by closing its stdin."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cpus import Placement
from bench.results import SetupError

ROOT = Path(__file__).resolve().parent.parent
CHILD_START_TIMEOUT_S = 60.0
CHILD_STOP_TIMEOUT_S = 45.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used so far (all its threads); 0.0 when gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Child:
    """A server subprocess (the bot or the baseline) speaking bench/child.py's protocol."""

    name: str
    proc: asyncio.subprocess.Process
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (all its threads)."""
        return process_cpu_seconds(self.proc.pid)

    async def settle(self, window_s: float = 0.25, max_s: float = 120.0) -> float:
        """Wait until the process is idle (< 5% of a core over `window_s`).

        Returns how long it was still busy: 0.0 when it was idle at once.
        """
        started = time.monotonic()
        while time.monotonic() - started < max_s:
            before = self.cpu_seconds()
            await asyncio.sleep(window_s)
            if self.cpu_seconds() - before < 0.05 * window_s:
                break
        return max(0.0, time.monotonic() - started - window_s)  # the idle window itself

    def memory_kb(self) -> dict[str, int]:
        """VmHWM (peak RSS) and VmRSS from /proc, in kB."""
        found: dict[str, int] = {}
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    found[key] = int(value.split()[0])
        return found

    async def stop(self) -> int | None:
        """Close its stdin (it stops itself); kill it only if it does not within the timeout."""
        if self.proc.returncode is None and self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            return await asyncio.wait_for(self.proc.wait(), CHILD_STOP_TIMEOUT_S)
        except TimeoutError:
            print(f"{self.name}: did not stop in {CHILD_STOP_TIMEOUT_S:.0f} s; killing it")
            self.proc.kill()
            return await self.proc.wait()

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def start_child(
    name: str,
    script: Path,
    config: dict,
    workdir: Path,
    life_s: float,
    *args: str,
    placement: Placement | None = None,
) -> Child:
    """Start `script`, hand it `config`, wait for READY; under `placement`, on the servers'
    cores (pinned as soon as it exists, and each of its threads again once it serves)."""
    log_path = workdir / f"{name}.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with open(log_path, "wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            "--max-seconds",
            str(int(life_s)),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
            cwd=str(ROOT),
            env=env,
        )
    assert proc.stdin is not None and proc.stdout is not None
    if placement is not None:
        placement.pin_server(proc.pid)  # before it starts any thread: they inherit it
    proc.stdin.write(json.dumps(config).encode() + b"\n")
    await proc.stdin.drain()
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), CHILD_START_TIMEOUT_S)
    except TimeoutError:
        line = b""
    words = line.decode().split()
    if len(words) != 2 or words[0] != "READY":
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        tail = log_path.read_text(errors="replace")[-3000:]
        raise SetupError(f"{name} did not start (said {line!r}); its stderr:\n{tail}")
    if placement is not None:
        placement.pin_server(proc.pid)  # every thread, should one have started before
    return Child(name, proc, int(words[1]), log_path)
