"""What the benchmark measured: one run's latencies, CPU time and failures (`Result`), the
percentile it reports, and `SetupError`, raised when the benchmark could not run."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field


class SetupError(Exception):
    """The benchmark could not be set up (a child did not start, linking failed, ...)."""


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Result:
    """One run: per-command latencies (seconds) and failures by kind."""

    sent: int = 0
    ack: list[float] = field(default_factory=list)
    reply: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server used, from the first request until idle
    parent_cpu: float = 0.0  # CPU seconds this process (fakes + load generator) used
    drain: float = 0.0  # seconds the server stayed busy after the last reply (background work)
    db_cpu: float = math.nan  # CPU seconds of the PostgreSQL backends serving the bot
    sample: str = ""  # the text of the first unexpected reply

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def fail(self, why: str) -> None:
        self.failures[why] += 1

    def unexpected(self, reply: dict) -> None:
        """A reply that is not the success: counted, and the first one's text kept to show."""
        self.fail("unexpected reply")
        if not self.sample:
            self.sample = str(reply.get("text", ""))[:300]

    def figures(self) -> dict[str, float]:
        return {
            "rate": self.sent / self.elapsed if self.elapsed else math.nan,
            "ack_p50": percentile(self.ack, 0.50),
            "ack_p99": percentile(self.ack, 0.99),
            "ack_max": max(self.ack) if self.ack else math.nan,
            "reply_p50": percentile(self.reply, 0.50),
            "reply_p99": percentile(self.reply, 0.99),
            "cpu_ms": self.server_cpu / self.sent * 1000 if self.sent else math.nan,
            "db_cpu_ms": self.db_cpu / self.sent * 1000 if self.sent else math.nan,
            "server_busy": self.server_cpu / self.elapsed if self.elapsed else math.nan,
            "parent_busy": self.parent_cpu / self.elapsed if self.elapsed else math.nan,
        }
