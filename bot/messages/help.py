"""Help and usage answers: what the command does, and what was wrong with what was typed.

A usage problem gets one sentence about what was typed (echoed, escaped), the nearest command
when it looks like a typo, and one example line; the full list stays behind `help`.
"""

from __future__ import annotations

from bot.interactions import COMMAND as CMD
from bot.messages.blocks import Message, code, escape, message, section
from bot.tiktok.ids import MAX_VALUE_LENGTH

SAMPLE_ID = "v_pub_url~v2.123456789"

HELP_TEXT = escape(
    "\n".join(
        [
            "*tiktok-cancel* stops a TikTok upload that is still being fetched.",
            f"\u2022 `{CMD} <publish_id> [reason]` \u2014 cancel that upload "
            f"(`{CMD} cancel <publish_id>` works too)",
            f"\u2022 `{CMD} status <publish_id>` \u2014 where the upload is now",
            f"\u2022 `{CMD} list` \u2014 held and running uploads, with their buttons",
            f"\u2022 `{CMD} as <account> <publish_id> [reason]` \u2014 cancel with a team account",
            f"\u2022 `{CMD} accounts` \u2014 the team accounts you may use",
            f"\u2022 `{CMD} connect` \u2014 link your TikTok account",
            f"\u2022 `{CMD} disconnect` \u2014 unlink it (TikTok forgets the access too)",
            f"\u2022 `{CMD} whoami` \u2014 which TikTok account you act as",
            f"\u2022 `{CMD} explain <code>` \u2014 what a TikTok code or fail reason means",
            f"\u2022 `{CMD} help` \u2014 this list",
            f"Admins: `{CMD} team connect <account>`, `{CMD} team grant <account> @someone`, "
            f"`{CMD} team revoke <account> @someone`, `{CMD} team remove <account>`, "
            f"`{CMD} team approvers <account> @someone @group [needed N]` (every upload for it "
            f"waits for approval; `{CMD} team approvers <account> none` stops that).",
            f"Admins: `{CMD} settings` shows this workspace's bot admins, audit channel and "
            f"pipeline tokens; `{CMD} settings admins @someone…` names the bot admins, "
            f"`{CMD} settings audit #channel` picks the audit channel (`none` clears either); "
            f"`{CMD} settings pipeline-token` makes a token for an upload pipeline (shown once), "
            f"`{CMD} settings pipeline-token revoke <id>` stops one.",
            f"The publish_id is the one your upload pipeline got from TikTok, like `{SAMPLE_ID}`.",
        ]
    )
)

# One example line per command, shown with a usage problem about it.
EXAMPLES = {
    "cancel": f"{CMD} {SAMPLE_ID} wrong thumbnail",
    "status": f"{CMD} status {SAMPLE_ID}",
    "list": f"{CMD} list",
    "connect": f"{CMD} connect",
    "disconnect": f"{CMD} disconnect",
    "whoami": f"{CMD} whoami",
    "explain": f"{CMD} explain publish_not_cancellable",
    "as": f"{CMD} as brand {SAMPLE_ID}",
    "accounts": f"{CMD} accounts",
    "team": f"{CMD} team grant brand @alex",
    "team approvers": f"{CMD} team approvers brand @alex @social-leads needed 2",
    "settings": f"{CMD} settings",
    "settings admins": f"{CMD} settings admins @alex @sam",
    "settings audit": f"{CMD} settings audit #social-audit",
    "settings pipeline-token": f"{CMD} settings pipeline-token revoke pt_3f9a1c2b",
    "help": f"{CMD} help",
}

PROBLEMS = {
    "unknown_word": "We don't know the word {word}.",
    "missing_id": "Which upload? Add its publish_id after {word}.",
    "malformed_id": "{word} doesn't look like a TikTok publish_id, so nothing was sent to TikTok.",
    "too_long": f"That value is longer than {MAX_VALUE_LENGTH} characters, so nothing was sent "
    "to TikTok.",
    "reason_too_long": f"The reason is longer than {MAX_VALUE_LENGTH} characters; please shorten "
    "it. Nothing was sent to TikTok.",
    "extra_words": "{word} takes no extra words.",
    "missing_code": "Which code? Add it after {word}.",
    "malformed_code": "{word} doesn't look like a TikTok code.",
    "missing_account": "Which team account? Add its short name after {word}.",
    "malformed_account": "{word} isn't a team account name: use letters, digits, - and _.",
    "team_usage": "{word} isn't something `" + CMD + " team` does: it takes connect, grant, "
    "revoke, remove or approvers.",
    "missing_users": "Whom? Mention them after the account.",
    "bad_mention": "{word} isn't a Slack mention. Mention people with @, like @alex.",
    "missing_approvers": "Who approves? Mention people or user groups after the account, or "
    "write `none` to stop asking for approval. Nothing changed.",
    "bad_approver": "{word} isn't a mention of a person or a user group, so nothing changed. "
    "Mention them with @, like @alex or @social-leads.",
    "none_alone": "`none` stops asking for approval and takes no other words, so nothing changed.",
    "bad_needed": "{word}: `needed` takes a whole number from 1 to 100 at the end, like "
    "`needed 2`. Nothing changed.",
    "too_many_approvers": "That names more than 100 people and groups, so nothing changed. "
    "Name a user group instead of its members.",
    "needed_over_people": "{word} is more approvals than the people named, so no upload could "
    "ever be approved and nothing changed. Name more people or a user group, or lower the "
    "number.",
    "settings_usage": "{word} isn't something `" + CMD + " settings` does: it takes admins, "
    "audit or pipeline-token. Nothing changed.",
    "missing_admins": "Who? Mention the people after `settings admins`, or write `none` to "
    "clear the list. Nothing changed.",
    "admins_none_alone": "`none` clears the list and takes no other words, so nothing changed.",
    "bad_admin": "{word} isn't a mention of a person, so nothing changed. Mention them with @, "
    "like @alex.",
    "too_many_admins": "That names more than 100 people, so nothing changed.",
    "missing_channel": "Which channel? Mention it after `settings audit` with #, or write "
    "`none` to clear it. Nothing changed.",
    "one_channel": "{word}: `settings audit` takes one channel (or `none`), so nothing changed.",
    "bad_channel": "{word} isn't a channel mention, so nothing changed. Pick the channel with #, "
    "like #social-audit.",
    "token_usage": "{word} isn't something `settings pipeline-token` does: alone it makes a "
    "token, and `revoke <id>` stops one. Nothing changed.",
    "missing_token_id": "Which token? Add its id after `revoke`: it starts with pt_, and `"
    + CMD
    + " settings` lists them. Nothing changed.",
    "one_token_id": "{word}: revoke one token at a time, by its id. Nothing changed.",
    "bad_token_id": "{word} isn't a pipeline token's id (like pt_3f9a1c2b; `"
    + CMD
    + " settings` lists them), so nothing changed.",
    "secret_pasted": "That looks like a pipeline token itself, so we didn't use or show it. "
    "To revoke one, give its id (like pt_3f9a1c2b; `" + CMD + " settings` lists them). "
    "Nothing changed.",
}

# Problems whose example is not the one of the first word shown with them.
PROBLEM_EXAMPLES = {
    "missing_approvers": "team approvers",
    "bad_approver": "team approvers",
    "none_alone": "team approvers",
    "bad_needed": "team approvers",
    "too_many_approvers": "team approvers",
    "needed_over_people": "team approvers",
    "settings_usage": "settings",
    "missing_admins": "settings admins",
    "admins_none_alone": "settings admins",
    "bad_admin": "settings admins",
    "too_many_admins": "settings admins",
    "missing_channel": "settings audit",
    "one_channel": "settings audit",
    "bad_channel": "settings audit",
    "token_usage": "settings pipeline-token",
    "missing_token_id": "settings pipeline-token",
    "one_token_id": "settings pipeline-token",
    "bad_token_id": "settings pipeline-token",
    "secret_pasted": "settings pipeline-token",
}


def help_message() -> Message:
    return message("How to use /tiktok-cancel", [section(HELP_TEXT)])


def _example_for(problem: str, word: str, suggestion: str) -> str:
    if suggestion:
        return EXAMPLES.get(suggestion, EXAMPLES["cancel"])
    if problem in PROBLEM_EXAMPLES:
        return EXAMPLES[PROBLEM_EXAMPLES[problem]]
    first = word.split(" ", 1)[0].lower()
    if problem in ("unknown_word", "malformed_id", "too_long", "reason_too_long"):
        first = first if first in EXAMPLES and problem != "unknown_word" else "cancel"
    return EXAMPLES.get(first, EXAMPLES["cancel"])


def usage_message(problem: str, word: str, suggestion: str = "") -> Message:
    """What was wrong with what was typed: `problem` names it (a key of PROBLEMS), `word` is
    the word it is about, `suggestion` a close subcommand for a typo."""
    shown = code(word[:80] + ("\u2026" if len(word) > 80 else ""))
    said = PROBLEMS.get(problem, "We didn't understand that.").format(word=shown)
    if suggestion:
        said += f" Did you mean `{CMD} {suggestion}`?"
    example = f"For example: {code(_example_for(problem, word, suggestion))}"
    more = f"`{CMD} help` lists everything it can do."
    return message(said, [section(f"{said}\n{example}\n{more}")])


# Bolt's answer to anything from a workspace with no installation (many workspaces): the app
# was uninstalled there, or never added with Add to Slack.
NOT_INSTALLED_TEXT = (
    "tiktok-cancel isn't installed in this workspace any more, so it did nothing. "
    "Still running: whatever you asked about is unchanged. Next: a workspace admin adds it "
    "again with Add to Slack."
)
