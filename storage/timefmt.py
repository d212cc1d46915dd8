"""Timestamps as stored: UTC ISO 8601 with milliseconds and a Z."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    return to_iso(datetime.now(UTC))


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def epoch_to_iso(seconds: float) -> str:
    return to_iso(datetime.fromtimestamp(seconds, UTC))
