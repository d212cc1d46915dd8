"""Held uploads (POST /uploads): the announcement with Cancel / Start now, what it turns into
(held back, refused, unknown, asking after a missed window) and the thread replies."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ConfirmObject, MarkdownTextObject

from bot.catalog import CATALOG, explain
from bot.messages.blocks import (
    CMD,
    Message,
    button,
    clip,
    code,
    context,
    escape,
    message,
    section,
    when,
    who_can_grant,
)
from bot.messages.outcomes import Words, mention
from bot.tiktok_rules import RELINK_CODES
from storage.held import HeldUpload

CANCEL_HELD_ACTION = "cancel_held"
START_HELD_ACTION = "start_held"
PRIVACY_WORDS = {
    "PUBLIC_TO_EVERYONE": "Public",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only me",
}


def privacy_words(level: str) -> str:
    return PRIVACY_WORDS.get(level, level)


NAME_LIMIT = 300  # a TikTok caption may be 2200 characters; the start time must stay in view


def held_name(h: HeldUpload) -> str:
    title = str(h.post.get("title") or "")
    if title:
        return "\u201c" + clip(title, NAME_LIMIT) + "\u201d"
    return "the video " + code(h.upload_key)


def _who(h: HeldUpload) -> str:
    return escape(h.nickname or h.account)


def _confirm_name(h: HeldUpload) -> str:
    title = str(h.post.get("title") or "")
    return "\u201c" + clip(title, 120) + "\u201d" if title else "this video"


def _held_button(
    h: HeldUpload, label: str, action: str, style: str, asks: str, says: str, yes: str, no: str
) -> dict:
    """One of a held upload's two buttons, with its confirm dialog (same colour as it)."""
    text = MarkdownTextObject(text=says, verbatim=True)
    confirm = ConfirmObject(title=asks, text=text, confirm=yes, deny=no, style=style)
    return button(label, action, value=h.upload_key, style=style, confirm=confirm)


def held_buttons(h: HeldUpload) -> dict:
    name = _confirm_name(h)
    cancel = _held_button(
        h,
        "Cancel",
        CANCEL_HELD_ACTION,
        "danger",
        "Cancel this upload?",
        f"{name} will not be sent to TikTok. This can't be undone.",
        "Cancel upload",
        "Keep it",
    )
    start = _held_button(
        h,
        "Start now",
        START_HELD_ACTION,
        "primary",
        "Start it now?",
        f"TikTok starts fetching {name} at once; after that a cancel is only best effort.",
        "Start now",
        "Not yet",
    )
    return ActionsBlock(elements=[cancel, start]).to_dict()


def _facts(h: HeldUpload) -> dict:
    return context(
        f"TikTok account: {escape(h.account)}",
        f"Privacy: {privacy_words(str(h.post.get('privacy_level') or ''))}",
        f"Upload key: {code(h.upload_key)}",
    )


def held_message(h: HeldUpload, warnings: list[str] | tuple[str, ...] = (), admins=()) -> Message:
    """The channel message for a held upload, in every state but `started`."""
    if h.state == "account_changed":
        return account_changed_message(h)
    name, who = held_name(h), _who(h)
    privacy = privacy_words(str(h.post.get("privacy_level") or ""))
    blocks: list[dict] = []
    if h.state == "held":
        text = f"{name} goes to TikTok as {who} {when(h.starts_at, relative=True)}, {privacy}."
        blocks.append(
            section(
                f":raised_hand: *{text}*\nUntil then Cancel is certain: "
                "nothing has been sent to TikTok yet."
            )
        )
        if warnings:
            lines = "\n".join(f"\u2022 {w}" for w in warnings)
            blocks.append(section(f"*Before it starts:* TikTok may refuse it:\n{lines}"))
        blocks.append(_facts(h))
        blocks.append(held_buttons(h))
    elif h.state == "cancelled":
        text = f"{name} was held back and never sent to TikTok."
        blocks.append(
            section(f":no_entry_sign: *{text}*\n{mention(h.by_user)} cancelled it {when(h.by_at)}.")
        )
        blocks.append(_facts(h))
    elif h.state == "starting":
        text = f"Starting {name} at TikTok as {who}."
        blocks.append(section(f":hourglass_flowing_sand: *{text}* We'll update this message."))
        blocks.append(_facts(h))
    elif h.state == "unknown":
        text = f"TikTok may have started {name}: we don't know."
        blocks.append(section(f":grey_question: *{text}*\n" + unknown_detail(h)))
        blocks.append(_facts(h))
    elif h.state == "refused":
        text = refused_headline(h)
        blocks.append(section(f":x: *{text}*\n" + refused_detail(h, admins)))
        blocks.append(_facts(h))
    elif h.state == "retry":
        text = retry_headline(h)
        blocks.append(section(f":warning: *{text}*\n" + retry_detail(h)))
        blocks.append(_facts(h))
        blocks.append(held_buttons(h))
    else:  # asking: the window closed while the bot was down
        text = f"{name} was not started: the bot was down when its window closed."
        blocks.append(section(f":double_vertical_bar: *{text}*\n" + asking_detail(h)))
        blocks.append(_facts(h))
        blocks.append(held_buttons(h))
    return message(text, blocks)


def when_line(h: HeldUpload) -> str:
    """Where a held upload stands, one line, for `list` and the App Home."""
    if h.state == "asking":
        return (
            f"Not started: the bot was down when its window closed {when(h.starts_at)}. "
            "Nothing was sent to TikTok; Start now or Cancel."
        )
    if h.state == "retry":
        return (
            f"Not started: {again_reason(h)}. Nothing was posted; Start now to try again, "
            "or Cancel."
        )
    privacy = privacy_words(str(h.post.get("privacy_level") or ""))
    return (
        f"Goes to TikTok as {_who(h)} {when(h.starts_at, relative=True)}, {privacy}. "
        "Nothing sent yet, so Cancel is certain."
    )


def held_rows(h: HeldUpload) -> list[dict]:
    """One held upload in `list` and the App Home: its name, start time and both buttons."""
    return [section(f"{held_name(h)}\n{when_line(h)}"), held_buttons(h)]


def _words(h: HeldUpload, admins=()) -> Words:
    title = str(h.post.get("title") or "")[:NAME_LIMIT]
    return Words(
        publish_id=h.upload_key,
        title=title,
        verb="start",
        account=h.account,
        admins=tuple(admins),
        code=h.code,
        log_id=h.log_id,
    )


def _tiktok_code(h: HeldUpload) -> str:
    return f"TikTok's code: {code(h.code)}" + (f" (log ID {code(h.log_id)})" if h.log_id else "")


def refused_headline(h: HeldUpload) -> str:
    """The catalog's words where they are about a start; plain words otherwise (a code we
    don't know, or one only a cancel or status check gives, would guess about the outcome)."""
    entry = explain(h.code)
    if h.code in CATALOG and entry.kind != "fault":
        return _words(h).fill(entry.headline)
    return f"TikTok refused to start {held_name(h)} ({code(h.code)})."


def start_next_step(h: HeldUpload, admins=()) -> str:
    """What to do after a refused start. The upload never got a publish_id, so the command's
    cancel and status (which most catalog steps name) don't apply to it."""
    account = escape(h.account)
    if h.code in RELINK_CODES:
        return (
            f"Ask {who_can_grant(admins)} to link {account} again with "
            f"`{CMD} team connect {account}`, then have your upload pipeline send the video "
            "again with a new upload_key."
        )
    entry = explain(h.code)
    if entry.next_on_start:
        return _words(h, admins).fill(entry.next_on_start)
    template = entry.next_step
    if h.code not in CATALOG or "{cmd}" in template or "{id}" in template:
        return (
            "Have your upload pipeline send the video again with a new upload_key once the "
            "problem above is fixed."
        )
    return _words(h, admins).fill(template)


def refused_detail(h: HeldUpload, admins=()) -> str:
    lines = [
        "TikTok didn't take the video, so nothing was posted; we won't try again on our own.",
        _words(h, admins).fill(explain(h.code).what),
        "*Next step:* " + start_next_step(h, admins),
        _tiktok_code(h),
    ]
    return "\n".join(line for line in lines if line)


# Why a start that may be tried again failed (tiktok_rules.START_AGAIN_CODES).
AGAIN_REASONS = {
    "timeout": "TikTok didn't answer in time",
    "bad_response": "TikTok's reply was garbled",
    "server_error": "TikTok's servers failed",
    "internal_error": "TikTok reported an error on its side",
    "connection_failed": "we couldn't reach TikTok",
    "rate_limit_exceeded": "TikTok is getting too many requests from this account right now",
    "refresh_unavailable": "TikTok had trouble renewing our access to the account",
}


def again_reason(h: HeldUpload) -> str:
    return AGAIN_REASONS.get(h.code, f"TikTok answered {code(h.code)}")


def retry_headline(h: HeldUpload) -> str:
    return f"{held_name(h)} was not started: {again_reason(h)}."


def retry_detail(h: HeldUpload) -> str:
    return (
        "TikTok didn't take the video, so nothing was posted; we won't try again on our own.\n"
        "*Next step:* press Start now to try again (a minute is usually enough), or Cancel.\n"
        + _tiktok_code(h)
    )


def unknown_detail(h: HeldUpload) -> str:
    return (
        f"We asked TikTok to start it {when(h.by_at or h.updated_at)} and got no clear answer "
        f"({code(h.code)}). We will not ask again, so it can never be posted twice.\n"
        f"*Next step:* open the TikTok app as {_who(h)} in a few minutes and look at the "
        "profile's posts: if it is there, TikTok started it; if it is not there after 10 "
        "minutes, have your upload pipeline send it again with a new upload_key."
    )


def asking_detail(h: HeldUpload) -> str:
    return (
        f"Its window closed {when(h.starts_at)} and more time than the window itself has "
        "passed, so we did not post it late on our own. Nothing was sent to TikTok.\n"
        "*Next step:* press Start now to send it, or Cancel."
    )


def cancelled_reply(h: HeldUpload) -> Message:
    text = f"{mention(h.by_user)} cancelled {held_name(h)} {when(h.by_at)}: never sent to TikTok."
    return message(text, [section(text)])


def started_reply(h: HeldUpload) -> Message:
    who = f"{mention(h.by_user)} started it" if h.by_user else "Its window closed"
    text = (
        f"{who}; TikTok accepted {held_name(h)} as upload {code(h.publish_id)} and is "
        "fetching it. Cancel from now on is best effort."
    )
    return message(text, [section(text)])


def refused_reply(h: HeldUpload, admins=()) -> Message:
    text = refused_headline(h)
    return message(text, [section(f"*{text}*\n" + refused_detail(h, admins))])


def retry_reply(h: HeldUpload) -> Message:
    text = retry_headline(h)
    return message(text, [section(f"*{text}*\n" + retry_detail(h)), held_buttons(h)])


def unknown_reply(h: HeldUpload) -> Message:
    text = f"TikTok may have started {held_name(h)}: we don't know."
    return message(text, [section(f"*{text}*\n" + unknown_detail(h))])


def asking_reply(h: HeldUpload) -> Message:
    text = f"{held_name(h)} was not started: the bot was down when its window closed."
    return message(text, [section(f"*{text}*\n" + asking_detail(h)), held_buttons(h)])


def not_allowed_message(account: str, admins=()) -> Message:
    text = (
        f"Only people granted the team account {escape(account)} (or admins) may start or "
        "cancel this upload. Nothing changed."
    )
    hint = f"*Next step:* ask {who_can_grant(admins)} to grant you {escape(account)}."
    return message(text, [section(text), section(hint)])


def already_message(h: HeldUpload) -> Message:
    states = {
        "cancelled": "was already cancelled; nothing was sent to TikTok",
        "starting": "is being started at TikTok right now",
        "started": f"was already started at TikTok as upload {code(h.publish_id)}",
        "refused": "was already refused by TikTok",
        "unknown": "was already sent to TikTok once, with no clear answer",
        "account_changed": "was not started: its team account was linked to another TikTok "
        "account after it was announced",
    }
    said = states.get(h.state, "changed meanwhile")
    text = f"Nothing changed: {held_name(h)} {said}."
    return message(text, [section(text)])


def gone_message() -> Message:
    text = "We don't know this held upload any more. Nothing changed."
    return message(text, [section(text)])


def done_message(h: HeldUpload) -> Message:
    """The clicker's own answer, from the row after their click."""
    if h.state == "account_changed":
        return account_changed_reply(h)
    if h.state == "cancelled":
        text = f"Cancelled: {held_name(h)} was never sent to TikTok."
    elif h.state == "started":
        text = f"Started: TikTok accepted {held_name(h)} as upload {code(h.publish_id)}."
    elif h.state == "refused":
        text = refused_headline(h)
    elif h.state == "retry":
        text = retry_headline(h) + " Nothing was posted; you can press Start now again."
    elif h.state == "unknown":
        text = f"TikTok may have started {held_name(h)}: we don't know. See the announcement."
    else:
        return already_message(h)
    return message(text, [section(text)])


# --- account_changed: the team account was relinked to another TikTok account -----------------


def account_changed_headline(h: HeldUpload) -> str:
    return (
        f"{held_name(h)} was not started: the team account {escape(h.account)} is now linked "
        f"to a different TikTok account than the one it was announced with ({_who(h)})."
    )


def account_changed_detail(h: HeldUpload) -> str:
    account = escape(h.account)
    return (
        "We didn't send it to TikTok, so nothing was posted, and we won't start it with an "
        "account nobody saw in this announcement.\n"
        f"*Next step:* if it should go out as the account {account} is linked to now, have "
        "your upload pipeline send the video again with a new upload_key; it will be "
        f"announced with that account. `{CMD} accounts` shows which TikTok account that is "
        "(to people granted it, and to admins)."
    )


def account_changed_reason(h: HeldUpload) -> str:
    """The same, in plain text for the pipeline (`GET /uploads/<upload_key>`)."""
    return (
        f"Not started: the team account {h.account} is now linked to a different TikTok "
        "account than the one it was announced with, so nothing was sent to TikTok. To post "
        "it as the account linked now, send it again with a new upload_key."
    )


def account_changed_message(h: HeldUpload) -> Message:
    """The announcement once a start found the team account relinked (no buttons)."""
    text = account_changed_headline(h)
    blocks = [section(f":x: *{text}*\n" + account_changed_detail(h)), _facts(h)]
    return message(text, blocks)


def account_changed_reply(h: HeldUpload) -> Message:
    text = account_changed_headline(h)
    return message(text, [section(f"*{text}*\n" + account_changed_detail(h))])
