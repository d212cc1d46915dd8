"""The one schema: every table as SQLAlchemy Core, for SQLite and PostgreSQL alike.

Columns keep the names and kinds the SQLite file had since the first releases (text, float
seconds since the epoch, integers), so a file made by an older release is already this schema
(see `storage.migrations`). Tables that only coordinate replicas (`leases`) come last.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, PrimaryKeyConstraint, Table, Text

metadata = MetaData()


def _text(name: str, **kw) -> Column:
    return Column(name, Text, **kw)


def _float(name: str, **kw) -> Column:
    return Column(name, Float, **kw)


def _int(name: str, **kw) -> Column:
    return Column(name, Integer, **kw)


links = Table(
    "links",
    metadata,
    _text("team_id"),
    _text("kind"),  # "user" (a person's own link) or "team" (a shared team account)
    _text("owner"),  # Slack user ID, or the team account's short name
    _text("open_id"),
    _text("display_name"),
    _text("scope"),
    _text("access_token"),  # Fernet ciphertext, never the raw token
    _float("access_expires_at"),
    _text("refresh_token"),  # Fernet ciphertext
    _float("refresh_expires_at"),
    _text("linked_by"),
    _text("linked_at"),
    _text("updated_at"),
    _text("linked_via"),  # "confirmed" once the person confirmed on the bot's page
    PrimaryKeyConstraint("team_id", "kind", "owner"),
)

oauth_states = Table(
    "oauth_states",
    metadata,
    _text("state_hash", primary_key=True),  # sha256 of the state; the state is never stored
    _text("team_id"),
    _text("user_id"),
    _text("kind"),
    _text("owner"),
    _text("channel_id"),
    _text("retry_publish_id"),
    _text("retry_reason"),
    _float("created_at"),
    _float("expires_at"),
    _float("used_at"),
    _text("confirm_hash"),  # sha256 of the single-use confirm token on the page
    _float("confirm_expires_at"),
    _float("confirmed_at"),
    _text("pending_grant"),  # Fernet ciphertext of the exchanged tokens, until confirmed
    _text("open_id"),
    _text("display_name"),
    # Many workspaces: the confirm page asks the browser to Sign in with Slack first. The
    # sign-in's single-use state (as its SHA-256), and when Slack said it is the link's person.
    _text("signin_hash"),
    _float("signed_in_at"),
)

audit = Table(
    "audit",
    metadata,
    _int("id", primary_key=True, autoincrement=True),
    _text("started_at"),
    _text("finished_at"),
    _text("state"),  # "started" until the attempt is complete, then "finished"
    _text("action"),  # "cancel", "connect", "disconnect", ...
    _text("team_id"),
    _text("user_id"),
    _text("channel_id"),
    _text("publish_id"),
    _text("source"),  # "command" or "button"
    _text("reason"),
    _text("account"),  # which TikTok account acted: display name
    _text("account_kind"),  # "user" / "team" / "" when none
    _text("open_id"),
    _text("outcome"),  # the outcome code (TikTok's error.code or ours)
    _int("http_status"),
    _text("log_id"),
    _int("latency_ms"),
    _int("attempts"),
    _text("account_rule"),  # why that account: own, as, announcement
    # When the workspace was uninstalled (epoch seconds); NULL while it is installed. Retired
    # entries are never shown in Slack again and are deleted AUDIT_RETENTION_DAYS later.
    _float("retired_at"),
    Index("idx_audit_publish_id", "publish_id"),
    Index("idx_audit_started_at", "started_at"),
)

announcements = Table(
    "announcements",
    metadata,
    _text("publish_id", nullable=False),
    _text("team_id", nullable=False),
    _text("channel"),
    _text("ts"),
    _text("title"),
    _text("account"),  # team account named by the pipeline, "" when none
    _text("source_url"),
    _text("video"),  # JSON of the metadata the pipeline sent
    _text("warnings"),  # JSON list of broken TikTok restrictions, in plain words
    _text("status"),  # TikTok's status value, "" until known
    _text("fail_reason"),
    _text("post_ids"),  # JSON list of public post IDs (big ints kept as strings)
    _int("final"),  # 1 once the upload reached a final state
    _text("last_user_id"),  # who last tried to cancel it
    _text("last_code"),  # how that attempt ended
    _float("last_at"),
    _float("created_at"),
    _float("updated_at"),
    _float("next_poll_at"),  # NULL: not followed by polling (final or given up)
    _int("poll_count"),
    _text("cancel_by", nullable=False, server_default=""),  # whose cancel TikTok accepted
    _float("cancel_at", nullable=False, server_default="0"),
    _float("final_at", nullable=False, server_default="0"),  # when TikTok's word came
    PrimaryKeyConstraint("team_id", "publish_id"),
    Index("idx_announcements_team_id_final", "team_id", "final"),
    Index("idx_announcements_next_poll_at", "next_poll_at"),
)

grants = Table(
    "grants",
    metadata,
    _text("team_id"),
    _text("account"),
    _text("user_id"),
    _text("granted_by"),
    _text("granted_at"),
    PrimaryKeyConstraint("team_id", "account", "user_id"),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    _text("event_key", primary_key=True),
    _text("event"),
    _float("received_at"),
)

forgotten_links = Table(
    "forgotten_links",
    metadata,
    _text("team_id"),
    _text("kind"),
    _text("owner"),
    _text("open_id"),
    _text("display_name"),
    _text("reason"),  # "refresh_refused" or "authorization_removed"
    _text("detail"),  # TikTok's reason number for authorization_removed
    _text("forgotten_at"),
    _text("linked_by"),
    PrimaryKeyConstraint("team_id", "kind", "owner"),
)

pending_retries = Table(
    "pending_retries",
    metadata,
    _text("retry_key", primary_key=True),  # the value of the "Cancel it now" button
    _text("team_id"),
    _text("user_id"),
    _text("publish_id"),
    _text("reason"),
    _float("created_at"),
)

# Everything above is the schema as of release 0.1 (SQLite files at PRAGMA user_version 4).
BASELINE = (
    links,
    oauth_states,
    audit,
    announcements,
    grants,
    webhook_events,
    forgotten_links,
    pending_retries,
)

# A lease: who holds a named piece of work until when (one cancel per upload in flight, one
# token refresh per link, one status poll, one announcement change at a time). Any replica
# may take a lease that expired: its holder died.
leases = Table(
    "leases",
    metadata,
    _text("name", primary_key=True),
    _text("holder", nullable=False),
    _text("detail", nullable=False, server_default=""),  # e.g. the Slack user who asked
    _float("expires_at", nullable=False),
)

# Held uploads (POST /uploads): the bot starts the upload itself when the window closes.
# `state` moves held -> starting (by a conditional update, before the one init) -> started,
# refused or unknown; held -> cancelled; held -> asking (a window missed while down).
held_uploads = Table(
    "held_uploads",
    metadata,
    _text("upload_key", nullable=False),
    _text("team_id", nullable=False),
    _text("channel", nullable=False),
    _text("ts", nullable=False, server_default=""),
    _text("account", nullable=False),
    _text("source_url", nullable=False),
    _text("post", nullable=False),  # JSON: the post_info fields the pipeline sent
    _text("video", nullable=False, server_default="{}"),  # JSON video metadata
    _text("nickname", nullable=False, server_default=""),  # creator_nickname at submission
    _float("hold_s", nullable=False),
    _float("created_at", nullable=False),
    _float("starts_at", nullable=False),
    _text("state", nullable=False),
    _text("publish_id", nullable=False, server_default=""),
    _text("code", nullable=False, server_default=""),  # how the start ended (catalog code)
    _int("http_status"),
    _text("log_id", nullable=False, server_default=""),
    _text("by_user", nullable=False, server_default=""),  # who cancelled or started it
    _float("by_at", nullable=False, server_default="0"),
    _float("updated_at", nullable=False),
    # The TikTok account (open_id) the team account had when the upload was accepted: the
    # start happens only with that one (a relink to another account stops it).
    _text("open_id", nullable=False, server_default=""),
    # Approval before posting (all empty for a plain held upload): who may approve (JSON list
    # of Slack user and user-group ids), how many approvals start it, until when (epoch
    # seconds), who submitted it (never an approver of it), why it was rejected, and the
    # creator's avatar from the creator_info made at submission.
    _text("approvers", nullable=False, server_default=""),
    _int("needed", nullable=False, server_default="0"),
    _float("approve_by", nullable=False, server_default="0"),
    _text("submitted_by", nullable=False, server_default=""),
    _text("reason", nullable=False, server_default=""),
    _text("avatar_url", nullable=False, server_default=""),
    PrimaryKeyConstraint("team_id", "upload_key"),
    Index("idx_held_uploads_state_starts_at", "state", "starts_at"),
)

# One approval of an upload waiting for approval: one row per approver, so each counts once.
# `approved_at` is the database's clock; `choices` is the post page as that approver sent it.
approvals = Table(
    "approvals",
    metadata,
    _text("upload_key", nullable=False),
    _text("team_id", nullable=False),
    _text("user_id", nullable=False),
    _float("approved_at", nullable=False),
    _text("choices", nullable=False, server_default="{}"),  # JSON
    _text("via", nullable=False, server_default="modal"),  # "modal" or "web"
    PrimaryKeyConstraint("team_id", "upload_key", "user_id"),
)

# The web post page's links: one per person and upload, stored as a hash (the link is the
# secret), expiring, single use; `form_hash` is the page's CSRF token, made when it is shown.
approval_links = Table(
    "approval_links",
    metadata,
    _text("token_hash", primary_key=True),
    _text("team_id", nullable=False),
    _text("upload_key", nullable=False),
    _text("user_id", nullable=False),
    _float("created_at", nullable=False),
    _float("expires_at", nullable=False),
    _text("form_hash", nullable=False, server_default=""),
    _float("used_at"),
)

# Cancels of uploads the bot did not announce, followed to their end like announced ones: TikTok's
# `ok` is only a promise to try, so the person who asked hears by direct message how it ended.
# `told` is the ending last said to them (a claim by compare-and-write: one DM per ending).
followed_cancels = Table(
    "followed_cancels",
    metadata,
    _text("publish_id", nullable=False),
    _text("team_id", nullable=False),
    _text("user_id", nullable=False),  # who asked; the one told how it ended
    _text("link_kind", nullable=False),  # the link that made the cancel, and follows it
    _text("link_owner", nullable=False),
    _text("account", nullable=False, server_default=""),  # its display name
    _float("asked_at", nullable=False),
    _text("status", nullable=False, server_default=""),
    _text("fail_reason", nullable=False, server_default=""),
    _int("final", nullable=False, server_default="0"),
    _float("final_at", nullable=False, server_default="0"),
    _float("next_poll_at"),  # NULL: not followed by polling (final or given up)
    _int("poll_count", nullable=False, server_default="0"),
    _text("told", nullable=False, server_default=""),
    _float("updated_at", nullable=False),
    PrimaryKeyConstraint("team_id", "publish_id"),
    Index("idx_followed_cancels_next_poll_at", "next_poll_at"),
)

# The `team approvers` rule: every upload for a team account waits for `needed` approvals from
# these Slack users or members of these user groups (`approvers`: a JSON list of ids).
account_approvers = Table(
    "account_approvers",
    metadata,
    _text("team_id", nullable=False),
    _text("account", nullable=False),
    _text("approvers", nullable=False),
    _int("needed", nullable=False),
    _text("set_by", nullable=False, server_default=""),
    _float("set_at", nullable=False),  # the database's clock
    PrimaryKeyConstraint("team_id", "account"),
)

# Many workspaces (Add to Slack): each workspace's installation. The tokens are Fernet
# ciphertext, never the raw token; `bot_refresh_token` is "" unless the Slack app rotates tokens
# (then `bot_token_expires_at` says when the bot token runs out). Times are the database's clock.
slack_installations = Table(
    "slack_installations",
    metadata,
    _text("team_id", primary_key=True),
    _text("team_name", nullable=False, server_default=""),
    _text("enterprise_id", nullable=False, server_default=""),
    _text("app_id", nullable=False, server_default=""),
    _text("bot_token", nullable=False),
    _text("bot_id", nullable=False, server_default=""),
    _text("bot_user_id", nullable=False, server_default=""),
    _text("bot_scopes", nullable=False, server_default=""),
    _text("bot_refresh_token", nullable=False, server_default=""),
    _float("bot_token_expires_at", nullable=False, server_default="0"),  # 0: never
    _text("installer_user_id", nullable=False, server_default=""),
    _float("installed_at", nullable=False),
    _float("updated_at", nullable=False),
)

# The Add to Slack flow's `state` values (as their SHA-256): single use, expiring by the
# database's clock, so any replica can finish an install another one began.
slack_oauth_states = Table(
    "slack_oauth_states",
    metadata,
    _text("state_hash", primary_key=True),
    _float("expires_at", nullable=False),
)

# A workspace's own settings, set by its admins in Slack (`settings admins`, `settings audit`):
# "" means unset (one workspace: the environment's ADMIN_USERS / AUDIT_CHANNEL apply then).
workspace_settings = Table(
    "workspace_settings",
    metadata,
    _text("team_id", primary_key=True),
    _text("admins", nullable=False, server_default=""),  # JSON list of Slack user ids
    _text("audit_channel", nullable=False, server_default=""),
    _text("updated_by", nullable=False, server_default=""),
    _float("updated_at", nullable=False),
)

# Pipeline credentials of one workspace (`settings pipeline-token`): only the SHA-256 of the
# secret is kept; `token_id` is the public name an admin revokes it by.
pipeline_tokens = Table(
    "pipeline_tokens",
    metadata,
    _text("token_id", primary_key=True),
    _text("team_id", nullable=False),
    _text("token_hash", nullable=False, unique=True),
    _text("made_by", nullable=False, server_default=""),
    _float("made_at", nullable=False),
    _float("revoked_at"),  # NULL: it works
    Index("idx_pipeline_tokens_team_id", "team_id"),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    _int("version", primary_key=True, autoincrement=False),
    _text("applied_at"),
)

# Every table that holds the deployment's data (not its coordination): what copy-db moves.
DATA_TABLES = (
    *BASELINE,
    held_uploads,
    followed_cancels,
    approvals,
    account_approvers,
    slack_installations,
    workspace_settings,
    pipeline_tokens,
)
