"""Test-only: this Python process's wall clock runs `TEST_CLOCK_AHEAD_S` seconds ahead.

Put this folder first on a child process's PYTHONPATH (tests/faults/test_replica_clocks.py
does) to make a replica whose clock is wrong, as a host with a drifting clock would be:
`time.time()` (and what reads it: logging's timestamps, every "now" the bot computes) is
ahead; the monotonic clock, which only measures intervals, is not. Never on the bot's own
path: only a test puts this folder on a path.
"""

import os
import time

_AHEAD_S = float(os.environ.get("TEST_CLOCK_AHEAD_S") or 0)

if _AHEAD_S:
    _real_time, _real_time_ns = time.time, time.time_ns
    time.time = lambda: _real_time() + _AHEAD_S
    time.time_ns = lambda: _real_time_ns() + int(_AHEAD_S * 1e9)
