"""Held uploads (POST /uploads): the announcement with Cancel / Start now, what it turns into
(held back, refused, unknown, asking after a missed window), the thread replies, the clicker's
answer and the rows of `list` and the App Home.

Every state reads in VOICE.md's shape: a headline, a *Still running* line, the next step and
a context line. A held upload that never started has no publish_id, so no next step names the
command's cancel or status: it is for the upload pipeline, or for an admin relinking the team
account (`team connect`). A start stopped by the team account's link names that account and
its admins, never "your link". Internal codes (`timeout`, `interrupted`, …) get plain words;
only TikTok's own codes are shown, in the small print."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.interactions import CANCEL_HELD_ACTION, START_HELD_ACTION
from bot.interactions import COMMAND as CMD
from bot.messages.blocks import (
    Message,
    actions,
    button,
    clip,
    code,
    confirm_dialog,
    context,
    escape,
    message,
    section,
    when,
    who_can_grant,
)
from bot.messages.outcomes import Words, mention
from bot.tiktok.catalog import CATALOG, explain
from bot.tiktok.rules import (
    ACCOUNT_CHANGED,
    INTERRUPTED,
    START_AGAIN_CODES,
    START_NOT_SENT_CODES,
    START_REFUSAL_CODES,
    UNKNOWN_OUTCOME_CODES,
)


@dataclass(frozen=True)
class HeldView:
    """What the messages show of a held upload: plain facts, copied by the caller from the
    stored row (`HeldView.of(row)`)."""

    upload_key: str
    account: str  # the team account's short name
    state: str = "held"
    title: str = ""  # the post's caption
    privacy_level: str = ""  # TikTok's value, e.g. PUBLIC_TO_EVERYONE
    nickname: str = ""  # the TikTok account's name when the upload was accepted
    starts_at: float = 0.0
    publish_id: str = ""
    code: str = ""
    http_status: int | None = None
    log_id: str = ""
    by_user: str = ""
    by_at: float = 0.0
    updated_at: float = 0.0
    # Approval before posting: who may approve (user and user-group ids), how many must, by
    # when, who sent it, who approved so far (filled by the caller from the approvals), why
    # it was rejected, the creator's avatar, and the video's facts.
    approvers: tuple[str, ...] = ()
    needed: int = 0
    approve_by: float = 0.0
    submitted_by: str = ""
    approved_by: tuple[str, ...] = ()
    reason: str = ""
    avatar_url: str = ""
    video: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row) -> HeldView:
        """The facts of a stored held upload (any record with these names and a `post`)."""
        return cls(
            upload_key=row.upload_key,
            account=row.account,
            state=row.state,
            title=str(row.post.get("title") or ""),
            privacy_level=str(row.post.get("privacy_level") or ""),
            nickname=row.nickname,
            starts_at=row.starts_at,
            publish_id=row.publish_id,
            code=row.code,
            http_status=row.http_status,
            log_id=row.log_id,
            by_user=row.by_user,
            by_at=row.by_at,
            updated_at=row.updated_at,
            approvers=tuple(getattr(row, "approvers", ()) or ()),
            needed=getattr(row, "needed", 0),
            approve_by=getattr(row, "approve_by", 0.0),
            submitted_by=getattr(row, "submitted_by", ""),
            reason=getattr(row, "reason", ""),
            avatar_url=getattr(row, "avatar_url", ""),
            video=dict(getattr(row, "video", None) or {}),
        )


PRIVACY_WORDS = {
    "PUBLIC_TO_EVERYONE": "Public",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only me",
}


def privacy_words(level: str) -> str:
    return PRIVACY_WORDS.get(level, level)


NAME_LIMIT = 300  # a TikTok caption may be 2200 characters; the start time must stay in view


def held_name(h: HeldView) -> str:
    title = h.title
    if title:
        return "\u201c" + clip(title, NAME_LIMIT) + "\u201d"
    return "the video " + code(h.upload_key)


def _who(h: HeldView) -> str:
    return escape(h.nickname or h.account)


def _confirm_name(h: HeldView) -> str:
    title = h.title
    return "\u201c" + clip(title, 120) + "\u201d" if title else "this video"


def _held_button(
    h: HeldView, label: str, action: str, style: str, asks: str, says: str, yes: str, no: str
) -> dict:
    """One of a held upload's two buttons, with its confirm dialog (same colour as it)."""
    confirm = confirm_dialog(asks, says, yes, no, style)
    return button(label, action, value=h.upload_key, style=style, confirm=confirm)


def held_buttons(h: HeldView) -> dict:
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
    return actions(cancel, start)


def _words(h: HeldView, admins=()) -> Words:
    """What fills a catalog template for a held upload: the upload as it is named here, and
    the team account's name (for `team connect <account>`)."""
    return Words(
        publish_id=h.upload_key,
        title=h.title[:NAME_LIMIT],
        verb="start",
        account=h.account,
        admins=tuple(admins),
        code=h.code,
        log_id=h.log_id,
        name=held_name(h),
    )


def is_tiktok_code(code_: str) -> bool:
    """Is this code TikTok's own (shown in the small print), not one of the bot's (timeout,
    a garbled reply, a link problem, an interrupted start), which only get plain words?"""
    if not code_ or code_ in (INTERRUPTED, ACCOUNT_CHANGED):
        return False
    return code_ not in CATALOG or explain(code_).kind not in ("fault", "bot")


# --- where a held upload stands --------------------------------------------------------------

# Why a start that may be tried again failed (bot.tiktok.rules.START_AGAIN_CODES).
AGAIN_REASONS = {
    "timeout": "TikTok didn't answer in time",
    "bad_response": "TikTok's reply was garbled",
    "server_error": "TikTok's servers failed",
    "internal_error": "TikTok reported an error on its side",
    "connection_failed": "we couldn't reach TikTok",
    "rate_limit_exceeded": (
        "TikTok is getting too many requests for the team account {account} right now"
    ),
    "refresh_unavailable": (
        "TikTok had trouble renewing the bot's access to the team account {account}"
    ),
}
# Why we don't know whether an init TikTok may have acted on did act.
UNKNOWN_REASONS = {
    "timeout": "no answer came back in time",
    "bad_response": "its reply was garbled, or the connection broke before it came",
    "server_error": "TikTok's servers failed without saying what happened",
    "internal_error": "TikTok reported an error on its side without saying what happened",
    INTERRUPTED: "the bot stopped before TikTok's answer came back",
}
# A start stopped by the team account (or the bot's own settings) rather than by TikTok's
# judgement of the video: the catalog speaks of the reader's own link there, so a team
# account gets these words. Also codes whose catalog words are about a cancel.
START_WORDS = {
    "link_expired": (
        "Couldn't start {upload}: the team account {account} needs to be linked again.",
        "TikTok refused to renew the bot's access to {account}: the access ran out or was "
        "removed in the TikTok app, so the bot forgot the link. The video was never sent to "
        "TikTok.",
    ),
    "link_unreadable": (
        "Couldn't start {upload}: the team account {account} needs to be linked again.",
        "The bot's security key (TOKEN_ENCRYPTION_KEY) was changed, so the link to {account} "
        "stored under the old key can't be read any more. The video was never sent to TikTok.",
    ),
    "no_such_account": (
        "Couldn't start {upload}: the team account {account} is no longer linked.",
        "{account} was removed from the bot after this upload was announced, so the bot can't "
        "post as it. The video was never sent to TikTok.",
    ),
    "refresh_misconfigured": (
        "Couldn't start {upload}: TikTok didn't accept this bot's own settings when we renewed "
        "the access to the team account {account}.",
        "TikTok refused the client key or secret this bot identifies itself with. That is the "
        "bot's configuration, not the team account: the link to {account} is kept and works "
        "again once the settings are fixed. The video was never sent to TikTok.",
    ),
    "access_token_invalid": (
        "Couldn't start {upload}: TikTok refused the bot's access to the team account "
        "{account}, even freshly renewed.",
        "We renewed the access to {account}, which worked, and TikTok still refused it. That "
        "happens when the account removed this bot in the TikTok app, so it needs to be linked "
        "again.",
    ),
    "scope_not_authorized": (
        "Couldn't start {upload}: the team account {account} is linked without permission to "
        "post videos.",
        "When {account} was linked, the permission to post videos wasn't allowed on TikTok's "
        "page, so TikTok won't let the bot post as it.",
    ),
    "invalid_params": (
        "Couldn't start {upload}: TikTok says the request was incomplete or malformed.",
        "TikTok turned the request down before taking the video. Most often one of the details "
        "sent with it (the video link, the caption, the privacy setting) isn't valid.",
    ),
}
START_WORDS["team_link_expired"] = START_WORDS["link_expired"]
START_WORDS["not_linked"] = START_WORDS["no_such_account"]
UNKNOWN_CODE_WORDS = (
    "TikTok refused to start {upload}.",
    "TikTok answered with a code we have no explanation for yet (it is in the small print "
    "below), so we can't say more about why.",
)


def again_reason(h: HeldView) -> str:
    reason = AGAIN_REASONS.get(h.code, "TikTok couldn't be asked just now")
    return _words(h).fill(reason)


def unknown_reason(h: HeldView) -> str:
    return UNKNOWN_REASONS.get(h.code, "TikTok's servers failed with an answer we don't know")


def _start_words(h: HeldView) -> tuple[str, str]:
    """The headline and the "what happened" of a refused start, as templates."""
    if h.code in START_WORDS:
        return START_WORDS[h.code]
    if h.code in START_REFUSAL_CODES and h.code in CATALOG:
        entry = explain(h.code)
        return entry.headline, entry.what
    return UNKNOWN_CODE_WORDS


def refused_headline(h: HeldView) -> str:
    return _words(h).fill(_start_words(h)[0])


def refused_what(h: HeldView) -> str:
    return _words(h).fill(_start_words(h)[1])


def start_next_step(h: HeldView, admins=()) -> str:
    """What to do after a refused start: the catalog's step for a held start. The upload
    never got a publish_id, so a step naming the command's cancel or status never applies."""
    if h.code not in CATALOG:
        return _words(h, admins).fill(
            "Ask {admins} to find out from TikTok support what TikTok's code below means "
            "(quoting it and the log ID), then have your upload pipeline send the video again "
            "with a new upload_key if it should still go out."
        )
    return _words(h, admins).fill(explain(h.code).next_for("start"))


def headline(h: HeldView) -> str:
    """The state in one sentence (the message's text, and its first line in bold)."""
    name, who = held_name(h), _who(h)
    if h.state == "held":
        privacy = privacy_words(h.privacy_level)
        return f"{name} goes to TikTok as {who} {when(h.starts_at, relative=True)}, {privacy}."
    if h.state == "cancelled":
        return f"{name} was held back and never sent to TikTok."
    if h.state == "starting":
        return f"Starting {name} at TikTok as {who}."
    if h.state == "started":
        return f"TikTok accepted {name} as upload {code(h.publish_id)}."
    if h.state == "unknown":
        return f"TikTok may have started {name}: we don't know."
    if h.state == "refused":
        return refused_headline(h)
    if h.state == "retry":
        return f"{name} was not started: {again_reason(h)}."
    if h.state == ACCOUNT_CHANGED:
        return account_changed_headline(h)
    return f"{name} was not started: the bot was down when its window closed."  # asking


def still_running(h: HeldView) -> str:
    """The value of the "Still running" line, with its note."""
    if h.state == "held":
        return (
            f"not yet \u2014 it starts {when(h.starts_at)} unless someone cancels it; "
            "nothing has been sent to TikTok yet"
        )
    if h.state == "cancelled":
        return "no \u2014 never sent to TikTok"
    if h.state == "starting":
        return "unknown \u2014 we're asking TikTok to take it right now"
    if h.state == "started":
        return (
            "yes \u2014 TikTok is fetching it and will post it unless someone cancels it "
            "(from now on a cancel is best effort)"
        )
    if h.state == "unknown":
        return "unknown \u2014 TikTok may have taken it and be fetching it now"
    if h.state == "refused":
        if h.code in START_NOT_SENT_CODES:
            return "no \u2014 it was never sent to TikTok, and we won't try again on our own"
        return "no \u2014 TikTok didn't take it, so nothing was posted; we won't try again"
    if h.state == "retry":
        return "no \u2014 nothing was posted; Start now to try again (we won't on our own)"
    if h.state == ACCOUNT_CHANGED:
        return "no \u2014 it was never sent to TikTok, and we won't start it"
    return "no \u2014 never sent to TikTok; it waits for Start now or Cancel"  # asking


UNKNOWN_NEXT = (
    "wait at least an hour: TikTok can take up to an hour to fetch a video, and its review "
    "(moderation) can take longer. Then open the TikTok app as {who} and look at the "
    "account's posts (and drafts). Only if it isn't there, have your upload pipeline send it "
    "again with a new upload_key: if TikTok did take it after all, sending it again may post "
    "it twice."
)


def next_step(h: HeldView, admins=()) -> str:
    """What someone can do now: a button, the pipeline, or an admin; never the command's
    cancel or status for an upload that has no publish_id."""
    if h.state == "held":
        return (
            "none if it should go out then. Press Cancel to hold it back for good (certain, "
            "since TikTok hasn't been asked yet), or Start now to send it at once."
        )
    if h.state == "cancelled":
        return (
            "nothing to do. To post it after all, have your upload pipeline send it again "
            "with a new upload_key."
        )
    if h.state == "starting":
        return "nothing yet: the upload's message will say how it went."
    if h.state == "started":
        command = code(f"{CMD} {h.publish_id}")
        status = code(f"{CMD} status {h.publish_id}")
        return (
            f"to stop it, press Cancel upload on its message or run {command}; {status} "
            "shows where it is."
        )
    if h.state == "unknown":
        return UNKNOWN_NEXT.format(who=_who(h))
    if h.state == "refused":
        return start_next_step(h, admins)
    if h.state == "retry":
        return "press Start now to try again (a minute is usually enough), or Cancel."
    if h.state == ACCOUNT_CHANGED:
        account = escape(h.account)
        return (
            f"if it should go out as the account {account} is linked to now, have your upload "
            "pipeline send the video again with a new upload_key; it will be announced with "
            f"that account. `{CMD} accounts` shows which TikTok account that is (to people "
            "granted it, and to admins)."
        )
    return "press Start now to send it, or Cancel."  # asking


def _by(h: HeldView) -> str:
    """Who acted and when, for the small print."""
    if h.state in ("held", "asking", "cancelled") or not h.by_at:
        return ""
    if h.by_user:
        return f"Start now pressed by {mention(h.by_user)} {when(h.by_at)}"
    return f"Its window closed {when(h.by_at)}"


def _tiktok_said(h: HeldView) -> list[str]:
    """TikTok's own code, the HTTP status of a failing server, and TikTok's log ID."""
    if h.state not in ("refused", "retry", "unknown"):
        return []
    parts = []
    if is_tiktok_code(h.code):
        parts.append(f"TikTok's code: {code(h.code)}")
    elif h.http_status and h.http_status >= 500:
        parts.append(f"TikTok's answer: HTTP {int(h.http_status)}")
    if h.log_id:
        parts.append(f"TikTok log ID: {code(h.log_id)}")
    return parts


def _facts(h: HeldView) -> dict:
    """The context line: the team account, privacy, upload key, who acted, TikTok's word."""
    return context(
        f"TikTok account: {escape(h.account)}",
        f"Privacy: {privacy_words(h.privacy_level)}",
        f"Upload key: {code(h.upload_key)}",
        _by(h),
        *_tiktok_said(h),
    )


def _shape(h: HeldView, admins=(), detail: str = "") -> str:
    """Still running, then the next step (after an optional detail line)."""
    lines = [detail] if detail else []
    lines.append(f"*Still running:* {still_running(h)}")
    lines.append(f"*Next step:* {_capital(next_step(h, admins))}")
    return "\n".join(lines)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _detail(h: HeldView) -> str:
    """What happened, for the channel message."""
    if h.state == "cancelled":
        return f"{mention(h.by_user)} cancelled it {when(h.by_at)}."
    if h.state == "unknown":
        return (
            f"We asked TikTok to start it {when(h.by_at or h.updated_at)} and "
            f"{unknown_reason(h)}. We won't ask TikTok again on our own: if it did take the "
            "video, a second request could post it twice."
        )
    if h.state == "refused":
        return refused_what(h)
    if h.state == "asking":
        return (
            f"Its window closed {when(h.starts_at)} and more time than the window itself has "
            "passed, so we didn't send it late on our own."
        )
    if h.state == ACCOUNT_CHANGED:
        return (
            "We didn't send it to TikTok, so nothing was posted, and we won't start it with an "
            "account nobody saw in this announcement."
        )
    return ""


APPROVAL_STATES = ("awaiting_approval", "approved", "rejected", "expired")
ICONS = {
    "held": ":raised_hand:",
    "cancelled": ":no_entry_sign:",
    "starting": ":hourglass_flowing_sand:",
    "started": ":arrow_forward:",
    "unknown": ":grey_question:",
    "refused": ":x:",
    "retry": ":warning:",
    "asking": ":double_vertical_bar:",
    ACCOUNT_CHANGED: ":x:",
}


def held_message(h: HeldView, warnings: list[str] | tuple[str, ...] = (), admins=()) -> Message:
    """The channel message for a held upload, in every state but `started` (an upload that
    waits for approval, or never got it, has its own card: `bot.messages.approval_card`)."""
    if h.state in APPROVAL_STATES:
        from bot.messages.approval_card import approval_card

        return approval_card(h, warnings)
    text = headline(h)
    first = f"{ICONS.get(h.state, '')} *{text}*\n" + _shape(h, admins, _detail(h))
    blocks: list[dict] = [section(first)]
    if h.state == "held" and warnings:
        lines = "\n".join(f"\u2022 {w}" for w in warnings)
        blocks.append(section(f"*Before it starts:* TikTok may refuse it:\n{lines}"))
    blocks.append(_facts(h))
    if h.state in ("held", "retry", "asking"):
        blocks.append(held_buttons(h))
    return message(text, blocks)


def when_line(h: HeldView) -> str:
    """Where a held upload stands, for `list` and the App Home: what, and Still running
    (the next step is the row's buttons)."""
    if h.state == "asking":
        what = f"Not started: the bot was down when its window closed {when(h.starts_at)}."
    elif h.state == "retry":
        what = f"Not started: {again_reason(h)}."
    else:
        privacy = privacy_words(h.privacy_level)
        what = f"Goes to TikTok as {_who(h)} {when(h.starts_at, relative=True)}, {privacy}."
    return f"{what}\n*Still running:* {still_running(h)}"


def held_rows(h: HeldView) -> list[dict]:
    """One held upload in `list` and the App Home: its name, where it stands, both buttons."""
    return [section(f"{held_name(h)}\n{when_line(h)}"), held_buttons(h)]


# --- thread replies: what happened, when and by whom -------------------------------------------


def _reply(h: HeldView, text: str, lead: str = "", admins=(), with_buttons=False) -> Message:
    body = f"*{text}*\n" + (f"{lead}\n" if lead else "") + _shape(h, admins)
    blocks = [section(body), _facts(h)]
    if with_buttons:
        blocks.append(held_buttons(h))
    return message(text, blocks)


def cancelled_reply(h: HeldView) -> Message:
    text = f"{mention(h.by_user)} cancelled {held_name(h)} {when(h.by_at)}: never sent to TikTok."
    return _reply(h, text)


def started_reply(h: HeldView) -> Message:
    who = f"{mention(h.by_user)} started it" if h.by_user else "Its window closed"
    text = (
        f"{who}; TikTok accepted {held_name(h)} as upload {code(h.publish_id)} and is fetching it."
    )
    return _reply(h, text)


def refused_reply(h: HeldView, admins=()) -> Message:
    """Short of the channel message's explanation: the headline, Still running, next step."""
    return _reply(h, refused_headline(h), admins=admins)


def retry_reply(h: HeldView) -> Message:
    return _reply(h, headline(h), with_buttons=True)


def unknown_reply(h: HeldView) -> Message:
    return _reply(h, f"TikTok may have started {held_name(h)}: we don't know.")


def asking_reply(h: HeldView) -> Message:
    text = f"{held_name(h)} was not started: the bot was down when its window closed."
    return _reply(h, text, with_buttons=True)


# --- account_changed: the team account was relinked to another TikTok account -----------------


def account_changed_headline(h: HeldView) -> str:
    return (
        f"{held_name(h)} was not started: the team account {escape(h.account)} is now linked "
        f"to a different TikTok account than the one it was announced with ({_who(h)})."
    )


def account_changed_reason(h: HeldView) -> str:
    """The same, in plain text for the pipeline (`GET /uploads/<upload_key>`)."""
    return (
        f"Not started: the team account {h.account} is now linked to a different TikTok "
        "account than the one it was announced with, so nothing was sent to TikTok. To post "
        "it as the account linked now, send it again with a new upload_key."
    )


def account_changed_reply(h: HeldView) -> Message:
    """The thread reply once a start found the team account relinked."""
    return _reply(h, account_changed_headline(h), _detail(h))


# --- the clicker's own answer --------------------------------------------------------------


def not_allowed_message(account: str, admins=()) -> Message:
    text = (
        f"Only people granted the team account {escape(account)} (or admins) may start or "
        "cancel this upload. Nothing changed."
    )
    who = who_can_grant(admins) + ("," if admins else "")  # "<@U…>, or any … owner, to"
    hint = f"*Next step:* ask {who} to grant you {escape(account)}."
    return message(text, [section(text), section(hint)])


ALREADY = {
    "cancelled": "was already cancelled; nothing was sent to TikTok",
    "starting": "is being started at TikTok right now",
    "refused": "was already tried, and it didn't start",
    "unknown": "was already sent to TikTok once, with no clear answer",
    ACCOUNT_CHANGED: "was not started: its team account was linked to another TikTok account "
    "after it was announced",
}


def already_message(h: HeldView, admins=()) -> Message:
    """Someone pressed a button of an upload another click (or the schedule) moved first."""
    if h.state == "started":
        said = f"was already started at TikTok as upload {code(h.publish_id)}"
        rest = (
            "*Still running:* its message in the channel follows it at TikTok and shows where "
            f"it is now\n*Next step:* {_capital(next_step(h, admins))}"
        )
    else:
        said = ALREADY.get(h.state, "changed meanwhile")
        rest = _shape(h, admins)
    text = f"Nothing changed: {held_name(h)} {said}."
    return message(text, [section(f"*{text}*\n{rest}"), _facts(h)])


def gone_message() -> Message:
    text = "We don't know this held upload any more. Nothing changed."
    return message(text, [section(text)])


def done_message(h: HeldView, admins=()) -> Message:
    """The clicker's own answer, from the row after their click."""
    if h.state == "cancelled":
        text = f"Cancelled: {held_name(h)} was never sent to TikTok."
    elif h.state == "started":
        text = f"Started: TikTok accepted {held_name(h)} as upload {code(h.publish_id)}."
    elif h.state in ("refused", "retry", "unknown", ACCOUNT_CHANGED):
        text = headline(h)
    else:
        return already_message(h, admins)
    detail = refused_what(h) if h.state == "refused" else ""
    if h.state in ("unknown", ACCOUNT_CHANGED):
        detail = _detail(h)
    body = f"*{text}*\n" + _shape(h, admins, detail)
    return message(text, [section(body), _facts(h)])


# --- the App Home's history --------------------------------------------------------------

NOT_SENT_WORDS = {
    "link_expired": "the team account {account} needs to be linked again",
    "team_link_expired": "the team account {account} needs to be linked again",
    "link_unreadable": "the team account {account} needs to be linked again",
    "not_linked": "the team account {account} is no longer linked",
    "no_such_account": "the team account {account} is no longer linked",
    "refresh_misconfigured": "TikTok didn't accept the bot's own settings",
}


def start_history(outcome: str, account: str) -> str:
    """How a press of Start now ended, for the App Home's history."""
    acct = escape(account) if account else "-"
    if outcome == "ok":
        return "TikTok accepted it"
    if not outcome:
        return ""
    if outcome == INTERRUPTED or outcome in UNKNOWN_OUTCOME_CODES:
        return "no clear answer from TikTok, so we don't know whether it started; see its message"
    if outcome in START_AGAIN_CODES:
        reason = AGAIN_REASONS[outcome].format(account=acct)
        return f"not started: {reason}; nothing was posted"
    if outcome in NOT_SENT_WORDS:
        return f"not started: {NOT_SENT_WORDS[outcome].format(account=acct)}; nothing was sent"
    if outcome == ACCOUNT_CHANGED:
        return (
            "not sent to TikTok: the team account was linked to another TikTok account after it "
            "was announced"
        )
    return f"TikTok didn't take it ({code(outcome)})"


START_UNFINISHED = (
    "unfinished: the bot stopped while waiting for TikTok, so we don't know whether it "
    "started; see its message"
)
