"""Loopback ports for servers that must be told their port before they start.

The fakes and the bot in tests bind port 0 and read back what the OS gave them. A few can't:
a bot whose OAuth redirect URI names its port (the sandbox), or a child process told its
`PORT` (the fault tests). For those, `free_port()` names a port that nothing listens on.

Asking the OS (bind port 0, read it, release it) hands out a port from the kernel's
ephemeral range, which the OS hands out again at once, to another process's bind(0) or
outgoing connection, before our server binds it: under pytest-xdist two workers saw
"address already in use". So the ports come from below the ephemeral range
(`/proc/sys/net/ipv4/ip_local_port_range`), from a block of its own for each process kind:
block 0 for a process outside pytest-xdist (the sandbox, the bench, a plain pytest run),
block N+1 for the worker `gwN`. Within its block a process walks the ports in turn from a
random start (so two test runs side by side rarely meet), never handing out the same port
twice before it has walked the whole block, and probes each one by binding it first.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
from collections.abc import Iterator

LOWEST = 15000  # below: ports that well-known services use
BLOCK = 1000  # ports in one process's block
EPHEMERAL_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
DEFAULT_EPHEMERAL_LOW = 32768  # Linux's default, when the range can't be read

_walks: dict[tuple[int, int], Iterator[int]] = {}


def ephemeral_low() -> int:
    """The lowest port the kernel hands out on its own (bind to 0, outgoing connections)."""
    try:
        with open(EPHEMERAL_RANGE) as file:
            return int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_LOW


def worker_slot() -> int:
    """0 outside pytest-xdist; N+1 in the pytest-xdist worker `gwN`."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        return int(worker[2:]) + 1
    return 0


def port_block(slot: int | None = None) -> range:
    """The ports this process (or `slot`) picks from; empty if none fit below the range."""
    blocks = max(0, (ephemeral_low() - LOWEST) // BLOCK)
    if blocks == 0:
        return range(0)
    start = LOWEST + (worker_slot() if slot is None else slot) % blocks * BLOCK
    return range(start, start + BLOCK)


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether `port` on `host` can be bound right now (nothing listens, nothing lingers)."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port on `host` nothing listens on, from this process's own block (see above)."""
    block = port_block()
    if not block:  # an unusual kernel with a low ephemeral range: let the OS choose
        with socket.socket() as sock:
            sock.bind((host, 0))
            return int(sock.getsockname()[1])
    key = (block.start, os.getpid())  # a forked child walks afresh
    walk = _walks.get(key)
    if walk is None:
        first = random.randrange(len(block))
        walk = _walks[key] = itertools.cycle([*block[first:], *block[:first]])
    for port in itertools.islice(walk, len(block)):
        if is_free(port, host):
            return port
    raise OSError(f"no free port in {block.start}-{block.stop - 1} on {host}")
