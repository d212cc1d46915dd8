"""The App Home tab: the person's link, team accounts, uploads in flight, their history."""

from __future__ import annotations

from slack_sdk.models.blocks import ConfirmObject, MarkdownTextObject, SectionBlock

from bot.catalog import explain
from bot.messages.announcements import state_line
from bot.messages.blocks import (
    LINKING_NOT_CONFIGURED,
    button,
    cancel_button,
    code,
    connect_button,
    escape,
    section,
    upload_name,
    when,
)
from bot.messages.outcomes import fill
from bot.tiktok_rules import shows_cancel_button

DISCONNECT_ACTION = "disconnect_tiktok"
ACTION_WORDS = {
    "cancel": "cancel",
    "connect": "linked TikTok",
    "disconnect": "unlinked TikTok",
    "team_connect": "linked team account",
    "team_remove": "removed team account",
    "grant": "granted",
    "revoke": "revoked",
}


def _audit_line(row: dict) -> str:
    action = ACTION_WORDS.get(row.get("action") or "", escape(row.get("action") or ""))
    outcome = row.get("outcome") or ""
    if row.get("state") == "started":
        result = "unfinished (the bot stopped mid-call; check with status)"
    elif row.get("action") == "cancel" and outcome:
        headline = explain(outcome).headline
        result = fill(headline, row.get("publish_id") or "-", account=row.get("account") or "")
    else:
        result = escape(outcome)
    subject = f" {code(row['publish_id'])}" if row.get("publish_id") else ""
    account = f" ({escape(row['account'])})" if row.get("account") else ""
    moment = escape((row.get("started_at") or "")[:16].replace("T", " "))
    return f"\u2022 {moment} UTC \u2014 {action}{subject}{account}: {result}"


def home_view(
    link, connect_url: str, is_admin: bool, teams, uploads, audit_rows, now: float
) -> dict:
    """The Home tab: your link, team accounts you may use, uploads in flight, your history."""
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
            confirm=ConfirmObject(
                title="Unlink TikTok?",
                text="TikTok will forget this bot's access to your account.",
                confirm="Disconnect",
                deny="Keep it",
            ),
        )
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=text), accessory=disconnect).to_dict()
        )
    elif connect_url:
        text = "*Your TikTok link:* none yet. Link your account to cancel uploads."
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=text), accessory=connect_button(connect_url)
            ).to_dict()
        )
    else:
        blocks.append(section("*Your TikTok link:* none yet. " + LINKING_NOT_CONFIGURED))
    if teams:
        lines = "\n".join(
            f"\u2022 {code(v.account)} \u2014 *{escape(v.display_name)}*" for v in teams
        )
        title = "*Team accounts*" if is_admin else "*Team accounts you may use*"
        blocks.append(section(f"{title}\n{lines}"))
    if uploads:
        blocks.append(section(f"*Uploads still running* ({len(uploads)}):"))
        for a in uploads[:20]:
            text = f"{upload_name(a.publish_id, a.title)}\n{state_line(a)}"
            cancel = cancel_button(a.publish_id, a.title) if shows_cancel_button(a) else None
            item = SectionBlock(text=MarkdownTextObject(text=text), accessory=cancel)
            blocks.append(item.to_dict())
    else:
        blocks.append(section("*Uploads still running:* none."))
    if audit_rows:
        lines = "\n".join(_audit_line(r) for r in audit_rows[:10])
        blocks.append(section(f"*Your last {min(10, len(audit_rows))} actions*\n{lines}"))
    return {"type": "home", "blocks": blocks[:100]}
