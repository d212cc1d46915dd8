"""The App Home tab: the person's link, team accounts, uploads in flight, their history, and
for an admin the workspace's settings."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.interactions import COMMAND as CMD
from bot.interactions import DISCONNECT_ACTION
from bot.messages.announcements import HIDDEN_NOTE, NONE_SHOWN, in_flight_blocks
from bot.messages.blocks import (
    LINKING_NOT_CONFIGURED,
    button,
    code,
    confirm_dialog,
    connect_button,
    context,
    escape,
    section,
    when,
)
from bot.messages.held import START_UNFINISHED, start_history
from bot.messages.linking import LinkView
from bot.messages.outcomes import Words, mention
from bot.messages.settings import home_settings_blocks
from bot.tiktok.catalog import explain
from bot.tiktok.rules import ending_code

HOME_UPLOAD_BLOCKS = 45  # of Slack's 100 per view; the link, accounts and history need the rest
ACTION_WORDS = {
    "cancel": "Asked to cancel",
    "connect": "Linked your TikTok account",
    "disconnect": "Unlinked your TikTok account",
    "team_connect": "Linked the team account",
    "team_remove": "Removed the team account",
    "grant": "Granted the team account",
    "revoke": "Took back the team account",
    "authorization_removed": "TikTok removed this bot's access to",
    "cancel_held": "Cancelled the held upload",
    "start_held": "Pressed Start now on the held upload",
    "settings_admins": "Changed this workspace's bot admins",
    "settings_audit": "Changed this workspace's audit channel",
    "pipeline_token_made": "Made the pipeline token",
    "pipeline_token_revoked": "Revoked the pipeline token",
    "team_approvers": "Set who approves uploads for the team account",
    "approve_upload": "Approved an upload for",
    "reject_upload": "Rejected an upload for",
}
HELD_ACTIONS = ("cancel_held", "start_held")
TOKEN_ACTIONS = ("pipeline_token_made", "pipeline_token_revoked")  # reason: the token's id
# How a non-cancel action ended, in plain words ("ok" says nothing more).
RESULT_WORDS = {
    "ok": "",
    "revoke_failed": "done here, but TikTok didn't confirm it forgot the access",
    "not_linked": "there was nothing to unlink",
    "declined": "you chose not to link it on our confirm page",
    "link_forgotten": "we forgot the link, so it needs to be made again",
    "held_back": "never sent to TikTok",
    "approved": "",
    "rejected": "it will not be posted",
}


def _moment(started_at: str) -> str:
    """A stored UTC timestamp as a Slack date token (the reader's own time zone)."""
    try:
        epoch = datetime.strptime(started_at[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return ""
    return when(epoch.timestamp())


# A cancel TikTok said it would try: its history line follows the upload to its ending.
STOPPING_OUTCOMES = ("ok", "already_stopping")


def _cancel_ending(row: dict) -> str:
    """How a cancel TikTok accepted ended, from what the bot knows of its upload now (joined
    in by `storage.audit.recent_for_user`); "" while TikTok hasn't said and we still ask."""
    if row.get("outcome") not in STOPPING_OUTCOMES or row.get("ending_final") is None:
        return ""
    publish_id = row.get("publish_id") or "-"
    if not row["ending_final"]:
        if row.get("ending_next_poll_at") is None and (row.get("ending_poll_count") or 0) > 0:
            quoted = escape(publish_id).replace("`", "'")
            return (
                "TikTok said it would try, but hasn't said how that ended; "
                f"`{CMD} status {quoted}` checks now."
            )
        return ""
    asker = str(row.get("ending_cancel_by") or "")
    shown = ending_code(row.get("ending_status") or "", row.get("ending_fail_reason") or "", asker)
    by = "you" if asker and asker == row.get("user_id") else mention(asker)
    words = Words(publish_id=publish_id, code=shown, name="it", by=by)
    return words.fill(explain(shown).headline)


def _audit_line(row: dict) -> str:
    action_code = row.get("action") or ""
    action = ACTION_WORDS.get(action_code, "Did something")
    outcome = row.get("outcome") or ""
    if row.get("state") == "started" and action_code == "start_held":
        result = START_UNFINISHED  # a held upload has no publish_id to check with status
    elif row.get("state") == "started":
        result = "unfinished: the bot stopped while waiting for TikTok; check with status"
    elif action_code == "start_held":
        result = start_history(outcome, row.get("account") or "")
    elif action_code == "cancel" and (ending := _cancel_ending(row)):
        result = ending
    elif action_code == "cancel" and outcome:
        words = Words(
            publish_id=row.get("publish_id") or "-",
            account=row.get("account") or "",
            code=outcome,
            name="it",
        )
        result = words.fill(explain(outcome).headline_for("cancel"))
    else:
        result = RESULT_WORDS.get(outcome, "it didn't work")
    subject = f" {code(row['publish_id'])}" if row.get("publish_id") else ""
    reason = str(row.get("reason") or "")
    if action_code in HELD_ACTIONS and not subject and reason.startswith("held upload "):
        subject = " " + code(reason.removeprefix("held upload "))  # its upload_key
    if action_code in TOKEN_ACTIONS and reason:
        subject = " " + code(reason)
    account = f" {escape(row['account'])}" if row.get("account") else ""
    if action_code in ("cancel", *HELD_ACTIONS) and row.get("account"):
        account = f" as {escape(row['account'])}"
    moment = _moment(row.get("started_at") or "")
    line = f"\u2022 {moment} \u2014 {action}{subject}{account}"
    return f"{line}: {result}" if result else line + "."


def home_view(
    link: LinkView | None,
    connect_url: str,
    is_admin: bool,
    teams,
    uploads,
    audit_rows,
    now: float,
    *,
    uploads_unknown: bool = False,
    link_forgotten: bool = False,
    held=(),
    awaiting=(),
    user_id: str = "",
    workspace=None,
) -> dict:
    """The Home tab: your link, team accounts you may use, uploads in flight, your history;
    for an admin, the workspace's settings (`workspace`, a settings view) last."""
    blocks: list[dict] = [section("*tiktok-cancel* \u2014 stop a TikTok upload from Slack.")]
    if link is not None:
        text = (
            f"*Your TikTok link:* *{escape(link.display_name)}* (open_id {code(link.open_id)}), "
            f"lasts until {when(link.refresh_expires_at)}."
        )
        disconnect = button(
            "Disconnect",
            DISCONNECT_ACTION,
            value="me",
            confirm=confirm_dialog(
                "Unlink TikTok?",
                "TikTok will forget this bot's access to your account.",
                "Disconnect",
                "Keep it",
            ),
        )
        blocks.append(section(text, disconnect))
    else:
        if link_forgotten:
            text = "*Your TikTok link:* it stopped working, so it needs to be made again."
        else:
            text = "*Your TikTok link:* none yet. Link your account to cancel uploads."
        if connect_url:
            blocks.append(section(text, connect_button(connect_url)))
        else:
            blocks.append(section(f"{text} {LINKING_NOT_CONFIGURED}"))
    if teams:
        lines = "\n".join(
            f"\u2022 {code(v.account)} \u2014 *{escape(v.display_name)}*" for v in teams
        )
        title = "*Team accounts*" if is_admin else "*Team accounts you may use*"
        blocks.append(section(f"{title}\n{lines}"))
    if uploads or held or awaiting:
        blocks.extend(in_flight_blocks(uploads, held, HOME_UPLOAD_BLOCKS, None, awaiting, user_id))
        if uploads_unknown:
            blocks.append(context(HIDDEN_NOTE))
    elif uploads_unknown:
        blocks.append(section(f"*Uploads still running:* unknown. {NONE_SHOWN}"))
    else:
        blocks.append(section("*Uploads still running or held:* none in channels you can see."))
    if audit_rows:
        lines = "\n".join(_audit_line(r) for r in audit_rows[:10])
        blocks.append(section(f"*Your last {min(10, len(audit_rows))} actions*\n{lines}"))
    if workspace is not None:
        blocks.extend(home_settings_blocks(workspace))
    return {"type": "home", "blocks": blocks[:100]}
