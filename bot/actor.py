"""Who is asking: a Slack user in a workspace, where they asked from and through which door."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who asked, from where, and through which door."""

    team_id: str
    user_id: str
    channel_id: str = ""
    source: str = "command"  # "command" or "button"
