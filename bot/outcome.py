"""What a cancel or status request ended with: the facts a message is built from."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bot.actor import Actor


@dataclass(frozen=True)
class Outcome:
    action: str  # "cancel" or "status"
    code: str  # catalog code: TikTok's error.code, a status value, or ours
    publish_id: str
    actor: Actor
    title: str = ""
    reason: str = ""  # what the person gave as the reason, verbatim (escape to show)
    account: str = ""  # display name of the TikTok account that acted
    http_status: int | None = None
    log_id: str = ""
    attempts: int = 0
    latency_ms: int = 0
    audit_id: int | None = None
    connect_url: str = ""  # consent page to link an account, when one is needed
    announced: bool = False  # the upload has an announcement (its thread gets the audit)
    channel: str = ""  # the announcement's channel, when the cancel read it (who may see it)
    # An unannounced upload whose cancel TikTok accepted: it is followed, and whoever asked
    # (`data["by"]`, else the actor) hears how it ended by direct message.
    followed: bool = False
    data: dict[str, Any] = field(default_factory=dict)  # status fields from TikTok
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.code == "ok"
