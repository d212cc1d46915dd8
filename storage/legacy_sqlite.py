"""SQLite files made before the shared schema (release 0.1): their own migration steps.

Release 0.1 kept SQLite's schema with sqlite-utils and counted its steps in PRAGMA
user_version. A file stopped part-way (user_version 1 to 3) is brought to step 4 here, with
those same steps, before `storage.migrations` takes over: step 4 is exactly the baseline of
`storage.schema`. This is all sqlite-utils still does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sqlite_utils import Database


def _v1(db: Database) -> None:
    db["links"].create(
        {
            "team_id": str,
            "kind": str,  # "user" (a person's own link) or "team" (a shared team account)
            "owner": str,  # Slack user ID, or the team account's short name
            "open_id": str,
            "display_name": str,
            "scope": str,
            "access_token": str,  # Fernet ciphertext, never the raw token
            "access_expires_at": float,
            "refresh_token": str,  # Fernet ciphertext
            "refresh_expires_at": float,
            "linked_by": str,
            "linked_at": str,
            "updated_at": str,
        },
        pk=("team_id", "kind", "owner"),
        if_not_exists=True,
    )
    db["oauth_states"].create(
        {
            "state_hash": str,  # sha256 of the state; the state itself is never stored
            "team_id": str,
            "user_id": str,
            "kind": str,
            "owner": str,
            "channel_id": str,
            "retry_publish_id": str,
            "retry_reason": str,
            "created_at": float,
            "expires_at": float,
            "used_at": float,
        },
        pk="state_hash",
        if_not_exists=True,
    )
    db["audit"].create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "state": str,  # "started" until the attempt is complete, then "finished"
            "action": str,  # "cancel", "connect", "disconnect", ...
            "team_id": str,
            "user_id": str,
            "channel_id": str,
            "publish_id": str,
            "source": str,  # "command" or "button"
            "reason": str,
            "account": str,  # which TikTok account acted: display name
            "account_kind": str,  # "user" / "team" / "" when none
            "open_id": str,
            "outcome": str,  # the outcome code (TikTok's error.code or ours)
            "http_status": int,
            "log_id": str,
            "latency_ms": int,
            "attempts": int,
        },
        pk="id",
        if_not_exists=True,
    )
    db["audit"].create_index(["publish_id"], if_not_exists=True)
    db["audit"].create_index(["started_at"], if_not_exists=True)


def _v2(db: Database) -> None:
    db["announcements"].create(
        {
            "publish_id": str,
            "team_id": str,
            "channel": str,
            "ts": str,
            "title": str,
            "account": str,  # team account named by the pipeline, "" when none
            "source_url": str,
            "video": str,  # JSON of the metadata the pipeline sent
            "warnings": str,  # JSON list of broken TikTok restrictions, in plain words
            "status": str,  # TikTok's status value, "" until known
            "fail_reason": str,
            "post_ids": str,  # JSON list of public post IDs (big ints kept as strings)
            "final": int,  # 1 once the upload reached a final state
            "last_user_id": str,  # who last tried to cancel it
            "last_code": str,  # how that attempt ended
            "last_at": float,
            "created_at": float,
            "updated_at": float,
            "next_poll_at": float,  # NULL: not followed by polling (final or given up)
            "poll_count": int,
        },
        pk="publish_id",
        if_not_exists=True,
    )
    db["announcements"].create_index(["team_id", "final"], if_not_exists=True)
    db["announcements"].create_index(["next_poll_at"], if_not_exists=True)
    db["audit"].add_column("account_rule", str)  # why that account: own, as, announcement
    db["grants"].create(
        {"team_id": str, "account": str, "user_id": str, "granted_by": str, "granted_at": str},
        pk=("team_id", "account", "user_id"),
        if_not_exists=True,
    )
    db["webhook_events"].create(
        {"event_key": str, "event": str, "received_at": float},
        pk="event_key",
        if_not_exists=True,
    )


def _v3(db: Database) -> None:
    # A cancel TikTok accepted is best effort: who asked and when, until TikTok's word.
    table = db["announcements"]
    table.add_column("cancel_by", str, not_null_default="")  # whose cancel TikTok took
    table.add_column("cancel_at", float, not_null_default=0.0)
    table.add_column("final_at", float, not_null_default=0.0)  # when TikTok's word came


def _add_missing_columns(db: Database, table: str, columns: dict[str, type]) -> None:
    """Add the columns `table` lacks (so a step can run twice without harm)."""
    have = db[table].columns_dict
    for name, kind in columns.items():
        if name not in have:
            db[table].add_column(name, kind)


def _v4(db: Database) -> None:
    """Links confirmed on the bot's page, tombstones of forgotten links, small retry keys."""
    _add_missing_columns(db, "links", {"linked_via": str})  # "confirmed"; "" before v3
    _add_missing_columns(
        db,
        "oauth_states",
        {
            "confirm_hash": str,  # sha256 of the single-use confirm token on the page
            "confirm_expires_at": float,
            "confirmed_at": float,
            "pending_grant": str,  # Fernet ciphertext of the exchanged tokens, until confirmed
            "open_id": str,
            "display_name": str,
        },
    )
    db["forgotten_links"].create(
        {
            "team_id": str,
            "kind": str,
            "owner": str,
            "open_id": str,
            "display_name": str,
            "reason": str,  # "refresh_refused" or "authorization_removed"
            "detail": str,  # TikTok's reason number for authorization_removed
            "forgotten_at": str,
            "linked_by": str,
        },
        pk=("team_id", "kind", "owner"),
        if_not_exists=True,
    )
    db["pending_retries"].create(
        {
            "retry_key": str,  # the value of the "Cancel it now" button after linking
            "team_id": str,
            "user_id": str,
            "publish_id": str,
            "reason": str,
            "created_at": float,
        },
        pk="retry_key",
        if_not_exists=True,
    )


STEPS: list[Callable[[Database], None]] = [_v1, _v2, _v3, _v4]


def upgrade(path: str) -> int:
    """Finish a 0.1 file's own steps; returns its user_version (0: not a 0.1 file)."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        db = Database(conn)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            return 0
        for number, step in enumerate(STEPS[version:], start=version + 1):
            with db.atomic():
                step(db)
                db.execute(f"PRAGMA user_version = {number}")
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
