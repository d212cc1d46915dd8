"""Where the benchmark's processes run (`--cpu-mode`): `Placement` pins this process (the
fakes and the load generator) to the last core it may use and every server child (baseline,
bots) to the others, or leaves everything sharing every core; and says which in the report.

Linux affinity is per thread, and a thread starts with its creator's: this process is
pinned before it starts any thread, and a child is pinned as soon as it is spawned and then
each of its threads again once it is serving, so none is left out. PostgreSQL's server
processes belong to another user and cannot be pinned."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from bench.results import SetupError

CPU_MODES = ("shared", "pinned")


def cores_text(cores: Iterable[int]) -> str:
    """`core 0`, `cores 0-2` or `cores 0,2` for a set of cores."""
    ordered = sorted(cores)
    if len(ordered) == 1:
        return f"core {ordered[0]}"
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"cores {ordered[0]}-{ordered[-1]}"
    return "cores " + ",".join(str(c) for c in ordered)


class Placement:
    """The cores of this process and of the servers under one `--cpu-mode`."""

    def __init__(self, mode: str, available: Iterable[int] | None = None):
        if mode not in CPU_MODES:
            raise ValueError(mode)
        self.mode = mode
        self.available = sorted(os.sched_getaffinity(0) if available is None else available)
        if mode == "pinned" and len(self.available) < 2:
            raise SetupError(
                f"--cpu-mode pinned needs at least 2 cores, this process may use "
                f"{len(self.available)}; use --cpu-mode shared"
            )
        pinned = mode == "pinned"
        self.load_cores = set(self.available[-1:]) if pinned else set(self.available)
        self.server_cores = set(self.available[:-1]) if pinned else set(self.available)

    @property
    def pinned(self) -> bool:
        return self.mode == "pinned"

    @property
    def label(self) -> str:
        """`cpu: shared` or `cpu: pinned`, for titles."""
        return f"cpu: {self.mode}"

    def describe(self) -> str:
        """The report's header line."""
        if not self.pinned:
            return f"cpu: shared — load, fakes and servers share all {len(self.available)} cores"
        return (
            f"cpu: pinned — load and fakes on {cores_text(self.load_cores)}, "
            f"servers on {cores_text(self.server_cores)}"
        )

    def postgres_note(self) -> str | None:
        """What the mode cannot do for PostgreSQL's own processes; None when shared."""
        if not self.pinned:
            return None
        return (
            "PostgreSQL's server processes are not pinned (they run as another user): they "
            "take whichever core is free, the load's included"
        )

    def pin_this_process(self) -> None:
        """Pin every thread of this process to the load's cores (pinned mode only)."""
        if self.pinned:
            pin_threads(os.getpid(), self.load_cores)

    def pin_server(self, pid: int) -> None:
        """Pin every thread of server process `pid` to the servers' cores (pinned only)."""
        if self.pinned:
            pin_threads(pid, self.server_cores)


def pin_threads(pid: int, cores: set[int]) -> None:
    """Set the affinity of each thread of `pid` (of `pid` alone when /proc can't list them)."""
    try:
        tids = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        tids = [pid]
    for tid in tids:
        try:
            os.sched_setaffinity(tid, cores)
        except ProcessLookupError:  # a thread that has just ended
            continue


def affinity_of(pid: int) -> set[int]:
    """The cores process `pid`'s threads may run on (the union over its threads)."""
    try:
        tids = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        tids = [pid]
    cores: set[int] = set()
    for tid in tids:
        try:
            cores |= os.sched_getaffinity(tid)
        except ProcessLookupError:
            continue
    return cores
