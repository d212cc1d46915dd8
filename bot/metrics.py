"""What the bot counts for `GET /metrics` (Prometheus): one registry, the metric objects, and the
small functions the rooms call when something happens. Shared by every room; imports nothing
of ours.

Every metric is per process: each replica is its own scrape target, so there is no shared
multiprocess directory. Counting must stay cheap on the command path: each family binds a
label set's child once (`.labels()` takes a lock and builds a key every call) and keeps it in
a dict, so an event costs a dict lookup and the child's own increment. Label values are
bounded by the callers (a fixed vocabulary: command kinds, API paths, catalog codes, Slack's
error words) and, as a last guard, here: past `LIMIT` label sets a family counts the rest
under "other". Never a token, a team, a user or a publish_id in a label.

Gauges of state the database holds (held uploads by state, approvals waiting) are set by
whoever renders the page (`bot.exposition`), just before `render()`.
"""

from __future__ import annotations

import contextvars
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

PREFIX = "tiktok_cancel_"
# The text format `generate_latest` writes (newer clients name a later version "latest").
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OTHER = "other"
LIMIT = 500  # label sets one family binds before it counts the rest as "other"

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

# Slack wants an ack within 3 s; a reply a person waits for should come within a few.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
REPLY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0)
LEASE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)

COMMANDS = Counter(
    PREFIX + "commands",
    "Slash commands received, by kind (the subcommand; usage: a command the bot could not read)",
    ["kind"],
    registry=REGISTRY,
)
TIKTOK_CALLS = Counter(
    PREFIX + "tiktok_calls",
    "Calls to TikTok's API, by endpoint (the API path) and outcome (ok, TikTok's error code, "
    "other_code, or a fault: timeout, server_error, bad_response, connection_failed)",
    ["endpoint", "outcome"],
    registry=REGISTRY,
)
SLACK_CALLS = Counter(
    PREFIX + "slack_calls",
    "Calls to Slack, by method (a Web API method, or response_url) and error (ok, or Slack's "
    "error word, or other)",
    ["method", "error"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    PREFIX + "ack_seconds",
    "From a Slack request's arrival to its acknowledgement being ready, by kind "
    "(command, interactive, event, other)",
    ["kind"],
    buckets=ACK_BUCKETS,
    registry=REGISTRY,
)
REPLY_SECONDS = Histogram(
    PREFIX + "reply_seconds",
    "From a slash command's arrival to its answer posted to Slack (response_url), by kind",
    ["kind"],
    buckets=REPLY_BUCKETS,
    registry=REGISTRY,
)
HELD_UPLOADS = Gauge(
    PREFIX + "held_uploads",
    "Held uploads in the database (every workspace), by state",
    ["state"],
    registry=REGISTRY,
)
APPROVALS_WAITING = Gauge(
    PREFIX + "approvals_waiting",
    "Approvals still needed by uploads waiting for approval (every workspace)",
    registry=REGISTRY,
)
DATABASE_ANSWERED = Gauge(
    PREFIX + "database_answered",
    "1 when the last GET /metrics read held uploads and approvals from the database; 0 when the "
    "database did not answer (those two gauges then still show the values read before)",
    registry=REGISTRY,
)
WEBHOOKS = Counter(
    PREFIX + "webhook_deliveries",
    "TikTok webhook deliveries, by result (delivered: applied; duplicate: already applied; "
    "refused: bad signature or body)",
    ["result"],
    registry=REGISTRY,
)
POLLS = Counter(
    PREFIX + "polls",
    "Status polls of uploads, by outcome (fetched, no_status, no_link, deferred: the per-link "
    "rate limit, gave_up)",
    ["outcome"],
    registry=REGISTRY,
)
REFRESHES = Counter(
    PREFIX + "token_refreshes",
    "TikTok token refreshes, by outcome (refreshed, link_expired, refresh_unavailable, "
    "refresh_misconfigured, superseded, waited)",
    ["outcome"],
    registry=REGISTRY,
)
LEASE_WAITS = Histogram(
    PREFIX + "lease_wait_seconds",
    "Time spent waiting for a lease another holder had, by lease kind",
    ["kind"],
    buckets=LEASE_BUCKETS,
    registry=REGISTRY,
)


class Family:
    """A labelled metric's children, each bound once; at most `LIMIT` label sets."""

    __slots__ = ("metric", "children", "other")

    def __init__(self, metric, *values: tuple[str, ...]):
        self.metric = metric
        self.children: dict[tuple[str, ...], object] = {}
        self.other: tuple[str, ...] = ()
        for labels in values:  # pre-bound: these series exist (at 0) from the start
            self.child(*labels)

    def child(self, *labels: str):
        found = self.children.get(labels)
        if found is None:
            if len(self.children) >= LIMIT:
                labels = (OTHER,) * len(labels)
                found = self.children.get(labels)
                if found is not None:
                    return found
            found = self.children[labels] = self.metric.labels(*labels)
        return found

    def prebind(self, *values: tuple[str, ...]) -> None:
        """Bind these label sets now (a caller's fixed vocabulary), so they read 0 at first."""
        for labels in values:
            self.child(*labels)


ACK_KINDS = ("command", "interactive", "event", OTHER)
WEBHOOK_RESULTS = ("delivered", "duplicate", "refused")
POLL_OUTCOMES = ("fetched", "no_status", "no_link", "deferred", "gave_up")
REFRESH_OUTCOMES = (
    "refreshed",
    "link_expired",
    "refresh_unavailable",
    "refresh_misconfigured",
    "superseded",  # TikTok refused, but a newer pair (another replica, a relink) was stored
    "discarded",  # refreshed, but the link was removed or relinked meanwhile
    "waited",  # another replica was refreshing it: its pair was used
)

commands = Family(COMMANDS)
tiktok_calls = Family(TIKTOK_CALLS)
slack_calls = Family(SLACK_CALLS)
acks = Family(ACK_SECONDS, *((k,) for k in ACK_KINDS))
replies = Family(REPLY_SECONDS)
webhooks = Family(WEBHOOKS, *((r,) for r in WEBHOOK_RESULTS))
polls = Family(POLLS, *((o,) for o in POLL_OUTCOMES))
refreshes = Family(REFRESHES, *((o,) for o in REFRESH_OUTCOMES))
lease_waits = Family(LEASE_WAITS)
held_uploads = Family(HELD_UPLOADS)

# When the Slack request being handled arrived (time.perf_counter()), set by the HTTP route and
# the Socket Mode handler; the listener's task inherits it. And the command's kind, once known.
ARRIVED: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "metrics_arrived", default=None
)
KIND: contextvars.ContextVar[str | None] = contextvars.ContextVar("metrics_kind", default=None)
now = time.perf_counter


def arrived(at: float) -> contextvars.Token:
    """A Slack request arrived at `at` (`now()`); reset with the token when it is answered."""
    return ARRIVED.set(at)


def command(kind: str) -> None:
    """A slash command of this kind (from the parser's fixed vocabulary) is being handled."""
    commands.child(kind).inc()
    KIND.set(kind)


def ack_seconds(kind: str, seconds: float) -> None:
    acks.child(kind).observe(seconds)


def reply_seconds(kind: str, seconds: float) -> None:
    replies.child(kind).observe(seconds)


def replied() -> None:
    """The command being handled got its answer (response_url): how long since it arrived.
    Once per command: a second answer in the same task is not its reply."""
    at, kind = ARRIVED.get(), KIND.get()
    if at is not None and kind is not None:
        replies.child(kind).observe(now() - at)
        ARRIVED.set(None)


def tiktok_call(endpoint: str, outcome: str) -> None:
    tiktok_calls.child(endpoint, outcome).inc()


def slack_call(method: str, error: str) -> None:
    slack_calls.child(method, error).inc()


def webhook(result: str) -> None:
    webhooks.child(result).inc()


def poll(outcome: str) -> None:
    polls.child(outcome).inc()


def refresh(outcome: str) -> None:
    refreshes.child(outcome).inc()


def lease_wait(kind: str, seconds: float) -> None:
    lease_waits.child(kind).observe(seconds)


def set_held_uploads(counts: dict[str, int], states: tuple[str, ...]) -> None:
    """Every state's count (0 for a state with none), from the database just now."""
    for state in states:
        held_uploads.child(state).set(counts.get(state, 0))


def set_approvals_waiting(n: int) -> None:
    APPROVALS_WAITING.set(n)


def set_database_answered(answered: bool) -> None:
    DATABASE_ANSWERED.set(1 if answered else 0)


def render() -> bytes:
    """The exposition text of everything counted in this process."""
    return generate_latest(REGISTRY)
