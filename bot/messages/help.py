"""Help and usage answers: what the command does, and what was wrong with what was typed."""

from __future__ import annotations

from bot.command_parser import MAX_VALUE_LENGTH, Parsed
from bot.messages.blocks import CMD, Message, code, escape, message, section

HELP_TEXT = escape(
    "\n".join(
        [
            "*tiktok-cancel* stops a TikTok upload that is still being fetched.",
            f"\u2022 `{CMD} <publish_id> [reason]` \u2014 cancel that upload",
            f"\u2022 `{CMD} status <publish_id>` \u2014 where the upload is now",
            f"\u2022 `{CMD} list` \u2014 announced uploads still running, with Cancel buttons",
            f"\u2022 `{CMD} as <account> <publish_id> [reason]` \u2014 cancel with a team account",
            f"\u2022 `{CMD} accounts` \u2014 the team accounts you may use",
            f"\u2022 `{CMD} connect` \u2014 link your TikTok account",
            f"\u2022 `{CMD} disconnect` \u2014 unlink it (TikTok forgets the access too)",
            f"\u2022 `{CMD} whoami` \u2014 which TikTok account you act as",
            f"\u2022 `{CMD} explain <code>` \u2014 what a TikTok code or fail reason means",
            f"\u2022 `{CMD} help` \u2014 this list",
            f"Admins: `{CMD} team connect <account>`, `{CMD} team grant <account> @someone`, "
            f"`{CMD} team revoke <account> @someone`, `{CMD} team remove <account>`.",
            "The publish_id is the one your upload pipeline got from TikTok, "
            "like `v_pub_url~v2.123456789`.",
        ]
    )
)

PROBLEMS = {
    "unknown_word": "I don't know the word {word}.",
    "missing_id": "Which upload? Add its publish_id after {word}.",
    "malformed_id": "{word} doesn't look like a TikTok publish_id, so nothing was sent to TikTok.",
    "too_long": f"That value is longer than {MAX_VALUE_LENGTH} characters, so nothing was sent "
    "to TikTok.",
    "reason_too_long": f"The reason is longer than {MAX_VALUE_LENGTH} characters; please shorten "
    "it. Nothing was sent to TikTok.",
    "extra_words": "{word} takes no extra words here.",
    "missing_code": "Which code? For example `" + CMD + " explain publish_not_cancellable`.",
    "malformed_code": "{word} doesn't look like a TikTok code.",
    "missing_account": "Which team account? Add its short name after {word}.",
    "malformed_account": "{word} isn't a team account name: use letters, digits, - and _.",
    "team_usage": "Use `" + CMD + " team connect|grant|revoke|remove &lt;account&gt; …`.",
    "missing_users": "Whom? Mention them after the account, like `"
    + CMD
    + " team grant brand @alex`.",
    "bad_mention": "{word} isn't a Slack mention. Mention people with @, like @alex.",
}


def help_message() -> Message:
    return message("How to use /tiktok-cancel", [section(HELP_TEXT)])


def usage_message(parsed: Parsed) -> Message:
    word = code(parsed.word[:80] + ("\u2026" if len(parsed.word) > 80 else ""))
    problem = PROBLEMS.get(parsed.problem, "I didn't understand that.").format(word=word)
    if parsed.suggestion:
        problem += f" Did you mean `{CMD} {parsed.suggestion}`?"
    return message(problem, [section(problem), section(HELP_TEXT)])
