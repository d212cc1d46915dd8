"""Forgetting a workspace that uninstalled the app (or revoked its bot token), in one
transaction: its Slack installation and pipeline credentials, its settings, its held uploads
(those not yet started are cancelled first, each with its audit entry: nothing of them is ever
sent to TikTok), approvals, announcements, followed cancels, team accounts, grants, link
states and TikTok links. The links come back (decrypted by the caller) so their tokens can be
revoked at TikTok after the transaction. The audit trail is kept, retired (`retired_at`, the
database's clock): never shown in Slack again, and deleted after the retention period.

A held upload whose start is under way (`starting`) is left to finish: TikTok may already have
it, and the one init it made is recorded when it answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storage import audit, held
from storage.audit import AuditFinish, AuditStart
from storage.sql import Db

# Rows of the workspace, table by table (the team column is `team_id` in each).
OWNED_TABLES = (
    "pipeline_tokens",
    "workspace_settings",
    "approvals",
    "approval_links",
    "announcements",
    "followed_cancels",
    "grants",
    "account_approvers",
    "forgotten_links",
    "pending_retries",
    "oauth_states",
)


@dataclass(frozen=True)
class Forgot:
    """What forgetting found: whether the workspace was installed, how many held uploads were
    cancelled, and its links as stored (ciphertext) for the caller to revoke."""

    installed: bool
    cancelled: int = 0
    links: list[dict] = field(default_factory=list)


def forget(db: Db, team_id: str, why: str) -> Forgot:
    installed = db["slack_installations"].delete_where("team_id = ?", [team_id]) > 0
    cancelled = 0
    marks = ", ".join("?" for _ in held.CANCELLABLE)
    rows = db.query(
        f"SELECT upload_key, channel, account FROM {held.TABLE} "
        f"WHERE team_id = ? AND state IN ({marks})",
        [team_id, *held.CANCELLABLE],
    )
    for row in rows:
        moved = held.move(
            db, team_id, row["upload_key"], held.CANCELLABLE, state="cancelled", by_user=""
        )
        if moved is None:
            continue
        cancelled += 1
        audit.record(
            db,
            AuditStart(
                action="cancel_held",
                team_id=team_id,
                user_id="",
                channel_id=row["channel"],
                source="uninstall",
                reason=f"held upload {row['upload_key']}: {why}",
                account=row["account"],
                account_kind="team",
            ),
            AuditFinish(outcome="held_back"),
        )
    db.execute(f"DELETE FROM {held.TABLE} WHERE team_id = ? AND state <> 'starting'", [team_id])
    for table in OWNED_TABLES:
        db[table].delete_where("team_id = ?", [team_id])
    links = db.query(
        "SELECT kind, owner, open_id, access_token FROM links WHERE team_id = ?", [team_id]
    )
    db["links"].delete_where("team_id = ?", [team_id])
    if installed or cancelled or links:
        audit.record(
            db,
            AuditStart(
                action="workspace_forgotten",
                team_id=team_id,
                user_id="",
                source="uninstall",
                reason=why,
            ),
            AuditFinish(outcome="forgotten"),
        )
    db.execute(
        f"UPDATE audit SET retired_at = {db.now} WHERE team_id = ? AND retired_at IS NULL",
        [team_id],
    )
    return Forgot(installed, cancelled, [dict(r) for r in links])


def purge_retired(db: Db, keep_s: float) -> int:
    """Delete audit entries retired more than `keep_s` seconds ago (database's clock)."""
    sql = f"DELETE FROM audit WHERE retired_at IS NOT NULL AND retired_at < {db.now} - ?"
    return db.execute(sql, [float(keep_s)]).rowcount
