"""The benchmark's `--cpu-mode`: shared (the default, every process on every core) or pinned
(this process, the load and the fakes, on the last core; every server child on the others),
said in the report's header; pinned on one core is refused with exit status 2. The pinning
itself is checked on real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cpus import Placement, affinity_of, pin_threads
from bench.options import parse_args
from bench.results import SetupError

ROOT = Path(__file__).resolve().parent.parent
TWO_CORES = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="pinning needs two cores to choose from"
)


def test_the_mode_is_shared_unless_asked():
    assert parse_args([]).cpu_mode == "shared"
    assert parse_args(["--quick", "--cpu-mode", "pinned"]).cpu_mode == "pinned"


def test_an_unknown_mode_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--cpu-mode", "spread"])
    assert stopped.value.code == 2
    assert "--cpu-mode" in capsys.readouterr().err


def test_shared_leaves_every_core_to_everyone():
    placement = Placement("shared", available=[0, 1])
    assert placement.load_cores == placement.server_cores == {0, 1}
    assert placement.describe() == "cpu: shared — load, fakes and servers share all 2 cores"
    assert placement.postgres_note() is None


@pytest.mark.parametrize(
    "available, header",
    [
        ([0, 1], "cpu: pinned — load and fakes on core 1, servers on core 0"),
        ([0, 1, 2, 3], "cpu: pinned — load and fakes on core 3, servers on cores 0-2"),
        ([2, 5, 7], "cpu: pinned — load and fakes on core 7, servers on cores 2,5"),
    ],
)
def test_pinned_puts_the_load_on_the_last_core_and_the_servers_on_the_others(available, header):
    placement = Placement("pinned", available=available)
    assert placement.load_cores == {available[-1]}
    assert placement.server_cores == set(available[:-1])
    assert placement.describe() == header
    assert "PostgreSQL" in placement.postgres_note()


def test_pinned_on_one_core_is_refused():
    with pytest.raises(SetupError) as refused:
        Placement("pinned", available=[0])
    assert "--cpu-mode pinned needs at least 2 cores" in str(refused.value)


def test_the_bench_exits_2_when_pinned_on_one_core():
    """`python bench/load.py --cpu-mode pinned` confined to one core: exit status 2 at once,
    before anything starts."""
    run = (
        "import os, runpy, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "sys.argv = ['bench/load.py', '--quick', '--databases', 'sqlite', '--cpu-mode', "
        "'pinned']; runpy.run_path('bench/load.py', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", run], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "bench: --cpu-mode pinned needs at least 2 cores" in result.stderr
    assert "baseline" not in result.stdout


@TWO_CORES
def test_a_server_child_is_pinned_with_every_thread():
    """A child that has already started threads: each of them lands on the servers' cores."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, threading\n"
            "for _ in range(3): threading.Thread(target=sys.stdin.read, daemon=True).start()\n"
            "print('READY', flush=True)\nsys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "READY"
        placement = Placement("pinned")
        placement.pin_server(child.pid)
        assert len(os.listdir(f"/proc/{child.pid}/task")) >= 4
        assert affinity_of(child.pid) == placement.server_cores
        assert placement.load_cores.isdisjoint(affinity_of(child.pid))
    finally:
        child.stdin.close()
        child.wait(timeout=10)


@TWO_CORES
def test_shared_leaves_a_child_alone():
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        before = affinity_of(child.pid)
        Placement("shared").pin_server(child.pid)
        assert affinity_of(child.pid) == before == os.sched_getaffinity(0)
    finally:
        child.stdin.close()
        child.wait(timeout=10)


def test_pin_threads_skips_a_process_that_has_ended():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=10)
    pin_threads(child.pid, {min(os.sched_getaffinity(0))})  # no error: nothing to pin
