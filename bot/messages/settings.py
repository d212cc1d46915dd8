"""A workspace's settings: `/tiktok-cancel settings …` answers and the App Home's section.

Builders take a settings view (`bot.accounts.workspace_settings.SettingsView`, or any object
with its fields) and plain values. Every value shown says where it comes from (set here in
Slack, or the bot's environment with one workspace). A pipeline token's secret appears in
exactly one message, the one answering the command that made it.
"""

from __future__ import annotations

from bot.interactions import COMMAND as CMD
from bot.messages.blocks import (
    Message,
    approver_mentions,
    code,
    context,
    escape,
    message,
    section,
    when,
    who_can_grant,
)

FROM_SLACK = "slack"  # where a view's value comes from: set here with `settings …`
FROM_ENVIRONMENT = "environment"  # one workspace: ADMIN_USERS / AUDIT_CHANNEL
CLI_MAKER = "cli"  # who made a pipeline token with `python -m bot pipeline-token`
MENTION_BUDGET = 1500  # characters of mentions in one line, the rest counted
PIPELINE_ROUTES = ("POST /notifications", "POST /uploads", "GET /uploads/<upload_key>")

SET_ADMINS = f"`{CMD} settings admins @someone @someone-else`"
CLEAR_ADMINS = f"`{CMD} settings admins none`"
SET_AUDIT = f"`{CMD} settings audit #channel`"
CLEAR_AUDIT = f"`{CMD} settings audit none`"
MAKE_TOKEN = f"`{CMD} settings pipeline-token`"
SHOW = f"`{CMD} settings`"


def _revoke(token_id: str = "") -> str:
    shown = escape(token_id).replace("`", "'") if token_id else "&lt;id&gt;"
    return f"`{CMD} settings pipeline-token revoke {shown}`"


def channel_mention(channel_id: str) -> str:
    return f"<#{escape(channel_id)}>"


def _people(users) -> str:
    return approver_mentions(tuple(users), MENTION_BUDGET)


def admins_line(view) -> str:
    """Who administers the bot here, and where that comes from."""
    if view.admins_from == FROM_SLACK:
        where = f"set here with `{CMD} settings admins`"
        if view.env_admins:
            where += f"; it overrides ADMIN_USERS ({_people(view.env_admins)})"
        named = f"{_people(view.admins)} ({where})"
    elif view.admins_from == FROM_ENVIRONMENT:
        named = f"{_people(view.admins)} (ADMIN_USERS, from the bot's environment)"
    else:
        named = "nobody named"
    return f"*Bot admins:* {named}. Slack's workspace admins and owners are bot admins too."


def audit_line(view) -> str:
    """Where audit entries of uploads the bot did not announce go, and why."""
    if view.audit_from == FROM_SLACK:
        where = f"set here with `{CMD} settings audit`"
        if view.env_audit_channel:
            where += f"; it overrides AUDIT_CHANNEL ({channel_mention(view.env_audit_channel)})"
        shown = f"{channel_mention(view.audit_channel)} ({where})"
    elif view.audit_from == FROM_ENVIRONMENT:
        shown = f"{channel_mention(view.audit_channel)} (AUDIT_CHANNEL, from the bot's environment)"
    else:
        shown = "none, so cancels of uploads the bot didn't announce are kept in its audit log only"
    return (
        f"*Audit channel:* {shown}. Announced uploads keep their entries in the announcement's "
        "thread."
    )


def _maker(made_by: str) -> str:
    if made_by == CLI_MAKER or not made_by:
        return "on the bot's command line"
    return f"by <@{escape(made_by)}>"


def _routes(public_url: str = "") -> str:
    """The pipeline routes, each as inline code (with the bot's address when known)."""
    base = public_url.rstrip("/")
    shown = []
    for route in PIPELINE_ROUTES:
        method, _, path = route.partition(" ")
        shown.append(code(f"{method} {base}{path}"))
    return ", ".join(shown)


def _one_workspace_pipelines(view) -> str:
    notify = "on" if view.notify_on else "off: NOTIFY_TOKEN is unset"
    upload = "on" if view.upload_on else "off: UPLOAD_TOKEN is unset"
    return (
        "*Pipelines:* this deployment serves one workspace, so its pipelines use the "
        "NOTIFY_TOKEN and UPLOAD_TOKEN in the bot's environment, not pipeline tokens. "
        f"`POST /notifications` is {notify}; `POST /uploads` and `GET /uploads/<upload_key>` "
        f"are {upload}."
    )


def tokens_lines(view) -> str:
    """The workspace's live pipeline tokens by id, who made them and when: never a secret."""
    if not view.many:
        return _one_workspace_pipelines(view)
    if not view.tokens:
        return f"*Pipeline tokens:* none yet. Make one for a pipeline with {MAKE_TOKEN}."
    lines = [
        f"\u2022 {code(t.token_id)}, made {_maker(t.made_by)} {when(t.made_at)}"
        for t in view.tokens
    ]
    return "*Pipeline tokens:*\n" + "\n".join(lines)


def _how_to_change(view) -> dict:
    parts = [f"Change: {SET_ADMINS} · {SET_AUDIT} (`none` clears either)"]
    if view.many:
        parts.append(f"Pipelines: {MAKE_TOKEN} · {_revoke()}")
    return context(*parts)


def settings_refused_message(admins=()) -> Message:
    """`settings …` from someone who is not an admin here."""
    text = (
        "Only bot admins see and change this workspace's settings, so nothing was shown or "
        f"changed. Who can help: {who_can_grant(admins)}."
    )
    return message("Only admins see this workspace's settings", [section(text)])


def settings_message(view) -> Message:
    """`settings`: what applies in this workspace, and how to change it."""
    headline = "This workspace's tiktok-cancel settings"
    text = f"*{headline}*\n{admins_line(view)}\n{audit_line(view)}"
    blocks = [section(text), section(tokens_lines(view)), _how_to_change(view)]
    return message(headline, blocks)


def home_settings_blocks(view) -> list[dict]:
    """The App Home's settings section, for admins."""
    text = f"*This workspace's settings* (you're a bot admin)\n{admins_line(view)}\n"
    text += audit_line(view)
    return [section(text), section(tokens_lines(view)), _how_to_change(view)]


def _admins_before(previous, view) -> str:
    if previous is None:
        if view.env_admins:
            return f"Before: ADMIN_USERS from the bot's environment ({_people(view.env_admins)})."
        return "Before: nobody named."
    return f"Before: {_people(previous) or 'nobody named'}."


def admins_changed_message(admins_change, users) -> Message:
    """`settings admins …` done (or not needed): `users` as typed, () for `none`."""
    view = admins_change.view
    if admins_change.code == "unchanged":
        if users:
            headline = f"The bot admins here already were {_people(users)}, so nothing changed."
        else:
            headline = "This workspace names no bot admins of its own, so nothing changed."
        return message(headline, [section(headline), context(admins_line(view))])
    if users:
        headline = f"The bot admins here are now {_people(users)}."
        text = (
            f"*{headline}*\nWith Slack's workspace admins and owners, they link and grant team "
            "accounts, set approval rules and change these settings."
        )
        if view.env_admins:
            text += " In this workspace this list replaces ADMIN_USERS from the bot's environment."
    elif view.admins:
        headline = (
            "This workspace's own list of bot admins is cleared, so ADMIN_USERS from the bot's "
            f"environment applies again: {_people(view.admins)}."
        )
        text = f"*{headline}*\nSlack's workspace admins and owners are bot admins too."
    else:
        headline = "This workspace no longer names bot admins."
        text = f"*{headline}*\nSlack's workspace admins and owners are its bot admins."
    if not admins_change.caller_still_admin:
        text += (
            "\nYou're not one of them now, so you can't change these settings any more; "
            f"who can: {who_can_grant(view.admins)}."
        )
    blocks = [section(text), context(_admins_before(admins_change.previous, view))]
    blocks.append(context(f"To change it: {SET_ADMINS}", f"To clear it: {CLEAR_ADMINS}"))
    return message(headline, blocks)


def _audit_before(previous, view) -> str:
    if previous:
        return f"Before: {channel_mention(previous)}."
    if view.env_audit_channel:
        where = channel_mention(view.env_audit_channel)
        return f"Before: AUDIT_CHANNEL from the bot's environment ({where})."
    return "Before: none."


def audit_changed_message(audit_change, channel: str) -> Message:
    """`settings audit …` done (or not needed): `channel` as typed, "" for `none`."""
    view = audit_change.view
    if audit_change.code == "unchanged":
        if channel:
            headline = (
                f"Audit entries already go to {channel_mention(channel)}, so nothing changed."
            )
        else:
            headline = "This workspace had no audit channel of its own, so nothing changed."
        return message(headline, [section(headline), context(audit_line(view))])
    if channel:
        shown = channel_mention(channel)
        headline = f"Audit entries now go to {shown}."
        text = (
            f"*{headline}*\nFrom now on a cancel of an upload the bot didn't announce is "
            f"posted in {shown}; announced uploads keep theirs in the announcement's thread. "
            f"If {shown} is private, invite the bot there (`/invite @tiktok-cancel`), or its "
            "entries can't be posted."
        )
        if view.env_audit_channel:
            text += " In this workspace it replaces AUDIT_CHANNEL from the bot's environment."
    elif view.audit_channel:
        shown = channel_mention(view.audit_channel)
        headline = (
            "This workspace's own audit channel is cleared, so AUDIT_CHANNEL from the bot's "
            f"environment applies again: {shown}."
        )
        text = f"*{headline}*"
    else:
        headline = "Audit entries are no longer posted in a channel."
        text = (
            f"*{headline}*\nCancels of uploads the bot didn't announce are kept in its audit log "
            "only; announced uploads keep their entries in the announcement's thread."
        )
    blocks = [section(text), context(_audit_before(audit_change.previous, view))]
    blocks.append(context(f"To change it: {SET_AUDIT}", f"To clear it: {CLEAR_AUDIT}"))
    return message(headline, blocks)


def one_workspace_pipelines_message(view) -> Message:
    """`settings pipeline-token …` where the bot serves one workspace (SLACK_BOT_TOKEN)."""
    headline = "Pipeline tokens are for a bot serving many workspaces, so nothing changed."
    text = (
        f"*{headline}*\nThis deployment serves one workspace: its pipelines use NOTIFY_TOKEN "
        "(for `POST /notifications`) and UPLOAD_TOKEN (for `POST /uploads` and "
        "`GET /uploads/<upload_key>`), set in the bot's environment by whoever runs it. "
        "Ask them for the token your pipeline needs."
    )
    return message(headline, [section(text), context(_one_workspace_pipelines(view))])


def token_made_message(token_id: str, token: str, public_url: str = "") -> Message:
    """A new pipeline token: its secret, shown this once, and how a pipeline uses it."""
    name = code(token_id)
    headline = f"Made the pipeline token {name} for this workspace. Copy it now: it's shown once."
    text = (
        f"*Made the pipeline token {name} for this workspace.*\n"
        "*Copy it now:* this is the only time it is shown, and the bot keeps only a "
        "fingerprint of it. Put it in your pipeline's secret store, not in a file or a chat."
    )
    secret = f"```{escape(token)}```"
    use = (
        f"Your pipeline sends it as `Authorization: Bearer {escape(token)}` with "
        f"{_routes(public_url)}. It acts for this workspace only, and may post videos: "
        "keep it like a password."
    )
    lost = f"Lost or leaked? Revoke it with {_revoke(token_id)} and make another with {MAKE_TOKEN}."
    return message(headline, [section(text), section(secret), section(use), context(lost)])


def too_many_tokens_message(view, limit: int) -> Message:
    headline = f"This workspace already has {limit} pipeline tokens, so no new one was made."
    text = f"*{headline}*\nRevoke one no pipeline uses with {_revoke()}, then make one again."
    return message(headline, [section(text), section(tokens_lines(view))])


def token_revoked_message(revoked) -> Message:
    """`settings pipeline-token revoke <id>` done, or no such live token here."""
    name = code(revoked.token_id)
    if revoked.code == "no_such_token":
        headline = f"This workspace has no working pipeline token {name}, so nothing changed."
        text = f"{headline} It may have been revoked already; {SHOW} lists the ones that work."
        return message(headline, [section(text)])
    headline = f"Revoked the pipeline token {name}."
    text = (
        f"*{headline}*\nA pipeline still using it is refused from now on. If one still needs "
        f"access, give it a new token from {MAKE_TOKEN}."
    )
    left = len(revoked.view.tokens)
    remaining = "No pipeline tokens are left." if not left else f"{left} still work: {SHOW}."
    return message(headline, [section(text), context(remaining)])


def settings_change_message(action: str, change, admins=(), users=(), channel="") -> Message:
    """The answer to any `settings …` command, from how it ended (`change.code`)."""
    if change.code == "not_admin":
        return settings_refused_message(admins)
    if change.code == "one_workspace":
        return one_workspace_pipelines_message(change.view)
    if action == "show":
        return settings_message(change.view)
    if action == "admins":
        return admins_changed_message(change, users)
    if action == "audit":
        return audit_changed_message(change, channel)
    if change.code == "too_many_tokens":
        return too_many_tokens_message(change.view, len(change.view.tokens))
    if action == "pipeline_token":
        return token_made_message(change.token_id, change.token, change.view.public_url)
    return token_revoked_message(change)
