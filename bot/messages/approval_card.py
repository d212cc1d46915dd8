"""Approval before posting: the card an upload waiting for approval is announced with, what it
turns into (approved, rejected, expired), its thread replies, the direct message to each
approver, and the answers an approver gets.

The card is the pipeline's request laid out for the people who decide: the TikTok account's
nickname and avatar (from a fresh creator_info), the caption, the video's facts and the rules
it breaks, who may approve, how many approvals are in, the deadline, and Review and approve /
Reject / Cancel. Nothing has been sent to TikTok while it waits, so every *Still running* line
says so plainly. Every echoed value is escaped; approvers are mentions we write ourselves.
"""

from __future__ import annotations

from bot.interactions import (
    CANCEL_HELD_ACTION,
    OPEN_POST_PAGE_ACTION,
    REJECT_ACTION,
    REVIEW_ACTION,
)
from bot.messages.blocks import (
    Message,
    actions,
    approver_mentions,
    button,
    clip,
    code,
    confirm_dialog,
    context,
    escape,
    message,
    section,
    when,
)
from bot.messages.held import HeldView, held_name, privacy_words
from bot.messages.outcomes import mention

CAPTION_LIMIT = 1500  # the card's caption excerpt: the rest is on the post page
REASON_LIMIT = 500


def approvers_phrase(approvers) -> str:
    return approver_mentions(approvers) if approvers else "nobody"


def _who(h: HeldView) -> str:
    return escape(h.nickname or h.account)


def count_line(h: HeldView) -> str:
    """How many approvals are in, and whose."""
    got = len(h.approved_by)
    names = ", ".join(mention(u) for u in h.approved_by)
    return f"{got} of {h.needed} needed" + (f" ({names})" if names else "")


def video_facts(video: dict) -> str:
    """The video as the pipeline described it, in one line ("" when it said nothing)."""
    parts = []
    if video.get("width") and video.get("height"):
        parts.append(f"{int(video['width'])}\u00d7{int(video['height'])}")
    if video.get("duration_s") is not None:
        parts.append(f"{float(video['duration_s']):g} s")
    if video.get("fps"):
        parts.append(f"{float(video['fps']):g} fps")
    if video.get("format"):
        parts.append(escape(str(video["format"])[:64]))
    if video.get("codec"):
        parts.append(escape(str(video["codec"])[:64]))
    if video.get("size_bytes"):
        parts.append(f"{int(video['size_bytes']) / 1_000_000:.1f} MB")
    return " \u00b7 ".join(parts)


def headline(h: HeldView) -> str:
    name, who = held_name(h), _who(h)
    if h.state == "awaiting_approval":
        return f"{name} waits for approval before it goes to TikTok as {who}."
    if h.state == "approved":
        return f"{name} is approved: starting it at TikTok as {who}."
    if h.state == "rejected":
        return f"{name} was rejected and never sent to TikTok."
    return f"{name} expired without approval and was never sent to TikTok."  # expired


def still_running(h: HeldView) -> str:
    if h.state == "awaiting_approval":
        return (
            "not yet \u2014 nothing has been sent to TikTok; it goes out only once "
            f"{h.needed} approval{'s' if h.needed != 1 else ''} {'are' if h.needed != 1 else 'is'}"
            " in"
        )
    if h.state == "approved":
        return "unknown \u2014 we're asking TikTok to take it right now"
    return "no \u2014 never sent to TikTok"


def next_step(h: HeldView) -> str:
    if h.state == "awaiting_approval":
        return (
            f"an approver presses Review and approve (the post page TikTok asks for) or "
            f"Reject, by {when(h.approve_by)}. If nobody does, it expires, never posted. "
            "Cancel holds it back for good."
        )
    if h.state == "approved":
        return "nothing yet: this message will say how the start went."
    if h.state == "rejected":
        return (
            "nothing to do. To post it after all, fix what the reason says and have your "
            "upload pipeline send it again with a new upload_key."
        )
    return (
        "nothing to do. To post it after all, have your upload pipeline send it again with a "
        "new upload_key (and a later approve_by, or ask the approvers to look sooner)."
    )


def _detail(h: HeldView) -> str:
    if h.state == "rejected":
        reason = clip(h.reason, REASON_LIMIT) if h.reason else "no reason given"
        return f"{mention(h.by_user)} rejected it {when(h.by_at)}: \u201c{reason}\u201d"
    if h.state == "expired":
        return (
            f"Its deadline passed {when(h.approve_by)} with approvals at {count_line(h)}, so "
            "we didn't send it."
        )
    return ""


def _body(h: HeldView) -> str:
    lines = []
    detail = _detail(h)
    if detail:
        lines.append(detail)
    if h.state in ("awaiting_approval", "approved"):
        lines.append(f"*Approvers:* {approvers_phrase(h.approvers)}")
        lines.append(f"*Approvals:* {count_line(h)}")
        lines.append(f"*Deadline:* {when(h.approve_by, relative=True)}")
    lines.append(f"*Still running:* {still_running(h)}")
    step = next_step(h)
    lines.append(f"*Next step:* {step[:1].upper() + step[1:]}")
    return "\n".join(lines)


def _avatar(h: HeldView) -> dict | None:
    url = h.avatar_url
    if not url.startswith("https://") or len(url) > 3000:
        return None
    return {"type": "image", "image_url": url, "alt_text": (h.nickname or h.account)[:2000]}


def facts_line(h: HeldView) -> dict:
    requested = privacy_words(h.privacy_level) if h.privacy_level else "none"
    return context(
        f"TikTok account: {escape(h.account)}",
        f"Requested privacy: {requested}",
        f"Upload key: {code(h.upload_key)}",
        f"Sent by {mention(h.submitted_by)}" if h.submitted_by else "",
    )


def approval_buttons(h: HeldView) -> dict:
    review = button("Review and approve", REVIEW_ACTION, value=h.upload_key, style="primary")
    reject = button("Reject", REJECT_ACTION, value=h.upload_key)
    name = "\u201c" + clip(h.title, 120) + "\u201d" if h.title else "this video"
    cancel = button(
        "Cancel",
        CANCEL_HELD_ACTION,
        value=h.upload_key,
        style="danger",
        confirm=confirm_dialog(
            "Cancel this upload?",
            f"{name} will not be sent to TikTok. This can't be undone.",
            "Cancel upload",
            "Keep it",
            "danger",
        ),
    )
    return actions(review, reject, cancel)


ICONS = {
    "awaiting_approval": ":ballot_box_with_check:",
    "approved": ":white_check_mark:",
    "rejected": ":no_entry:",
    "expired": ":hourglass:",
}


def approval_card(h: HeldView, warnings=()) -> Message:
    """The channel message of an upload waiting for approval, and of how that ended."""
    text = headline(h)
    blocks: list[dict] = [section(f"{ICONS.get(h.state, '')} *{text}*\n{_body(h)}", _avatar(h))]
    if h.title and h.state in ("awaiting_approval", "approved"):
        blocks.append(section(f"*Caption:* {clip(h.title, CAPTION_LIMIT)}"))
    facts = video_facts(h.video)
    if h.state == "awaiting_approval" and (facts or warnings):
        lines = [f"*Video:* {facts}"] if facts else []
        if warnings:
            lines.append("*TikTok may refuse it:*")
            lines.extend(f"\u2022 {w}" for w in warnings)
        blocks.append(section("\n".join(lines)))
    blocks.append(facts_line(h))
    if h.state == "awaiting_approval":
        blocks.append(approval_buttons(h))
    return message(text, blocks)


# --- thread replies ------------------------------------------------------------------------

EDIT_WORDS = {
    "title": "edited the caption",
    "privacy_level": "chose the audience",
    "disable_comment": "set comments",
    "disable_duet": "set duets",
    "disable_stitch": "set stitches",
    "brand_content_toggle": "set the branded-content disclosure",
    "brand_organic_toggle": "set the your-brand disclosure",
}


def choices_line(post: dict) -> str:
    """What an approver chose on the post page, in one line."""
    allowed = [
        name
        for name, key in (
            ("comments", "disable_comment"),
            ("duets", "disable_duet"),
            ("stitches", "disable_stitch"),
        )
        if not post.get(key, True)
    ]
    if post.get("brand_content_toggle") and post.get("brand_organic_toggle"):
        disclosure = "Paid partnership (your brand and branded content)"
    elif post.get("brand_content_toggle"):
        disclosure = "Paid partnership (branded content)"
    elif post.get("brand_organic_toggle"):
        disclosure = "Promotional content (your brand)"
    else:
        disclosure = "not commercial content"
    return (
        f"Audience: {privacy_words(str(post.get('privacy_level') or ''))} \u00b7 "
        f"Allowed: {', '.join(allowed) or 'no comments, duets or stitches'} \u00b7 "
        f"Disclosure: {disclosure}"
    )


def approved_reply(h: HeldView, user_id: str, via: str, post: dict, edits: list[str]) -> Message:
    """An approval, in the upload's thread: who, when, where, and what they chose."""
    where = "on the web post page" if via == "web" else "in Slack"
    text = f"{mention(user_id)} approved {held_name(h)} {where} ({count_line(h)})."
    changed = ", ".join(EDIT_WORDS[e] for e in edits if e in EDIT_WORDS)
    lines = [f"*{text}*", choices_line(post)]
    if "title" in edits:
        lines.append(f"*New caption:* {clip(str(post.get('title') or ''), CAPTION_LIMIT)}")
    if changed:
        lines.append(f"They {changed}, differently from what the pipeline asked.")
    return message(text, [section("\n".join(lines)), facts_line(h)])


def rejected_reply(h: HeldView) -> Message:
    text = f"{mention(h.by_user)} rejected {held_name(h)}: never sent to TikTok."
    body = f"*{text}*\n" + _body(h)
    return message(text, [section(body), facts_line(h)])


def expired_reply(h: HeldView) -> Message:
    text = f"{held_name(h)} expired without approval: never sent to TikTok."
    body = f"*{text}*\n" + _body(h)
    return message(text, [section(body), facts_line(h)])


# --- the approver's direct message and answers -------------------------------------------


def approver_notice(h: HeldView, channel: str, web_url: str = "") -> Message:
    """The direct message each approver gets: what waits for them, and the buttons."""
    text = f"{held_name(h)} waits for your approval before it goes to TikTok as {_who(h)}."
    lines = [
        f"*{text}*",
        f"It is in <#{escape(channel)}>. Approvals: {count_line(h)}, by "
        f"{when(h.approve_by, relative=True)}.",
        "*Still running:* not yet \u2014 nothing has been sent to TikTok.",
        "*Next step:* press Review and approve to see the post page and approve it, or Reject.",
    ]
    blocks = [section("\n".join(lines), _avatar(h)), facts_line(h)]
    row = [
        button("Review and approve", REVIEW_ACTION, value=h.upload_key, style="primary"),
        button("Reject", REJECT_ACTION, value=h.upload_key),
    ]
    if web_url:
        row.append(button("Open the post page in a browser", OPEN_POST_PAGE_ACTION, url=web_url))
    blocks.append(actions(*row))
    return message(text, blocks)


REFUSALS = {
    "not_approver": "Only the people named as its approvers (or members of the named groups) "
    "may approve or reject {name}. Nothing changed.",
    "own_upload": "You sent {name}, so you can't approve it: someone else among its approvers "
    "must. Nothing changed.",
    "already_approved": "You approved {name} already; each approver counts once. Nothing changed.",
    "gone": "We don't know this upload any more. Nothing changed.",
    "rejected": "{name} was already rejected, so it can't be approved. Nothing changed.",
    "expired": "{name} expired: its deadline passed before enough people approved it, so it "
    "can't be approved now. Nothing changed.",
    "cancelled": "{name} was cancelled, so it can't be approved. Nothing changed.",
    "started": "{name} already has the approvals it needed; its message in the channel says "
    "how its start went. Nothing changed.",
    "creator_info": "TikTok didn't tell us about the account just now ({code}), and the post "
    "page must show it fresh. Nothing changed: try Review and approve again in a minute.",
    "cannot_post": "TikTok says {who} can't post right now ({code}). Nothing changed: try again "
    "later; the upload keeps waiting until its deadline.",
    "no_trigger": "Slack didn't let us open the post page in time. Nothing changed: press Review "
    "and approve again.",
}


def refusal_message(code_: str, h: HeldView | None, tiktok_code: str = "") -> Message:
    """Why an approval, a rejection or the post page was refused, in plain words."""
    name = held_name(h) if h is not None else "this upload"
    who = _who(h) if h is not None else "the account"
    text = REFUSALS.get(code_, REFUSALS["gone"]).format(
        name=name, who=who, code=escape(tiktok_code)
    )
    still = "*Still running:* " + (still_running(h) if h is not None else "unknown")
    blocks = [section(f"{text}\n{still}")]
    if h is not None:
        blocks.append(facts_line(h))
    return message(text, blocks)


def counted_message(h: HeldView) -> Message:
    """An approval that is in, with more still needed."""
    more = h.needed - len(h.approved_by)
    text = f"Your approval of {held_name(h)} is in ({count_line(h)})."
    lines = [
        f"*{text}*",
        f"*Still running:* not yet \u2014 it goes to TikTok once {more} more "
        f"approver{'s' if more != 1 else ''} approve{'' if more != 1 else 's'}; nothing has been "
        "sent yet.",
        f"*Next step:* nothing for you. If nobody else approves by {when(h.approve_by)}, it "
        "expires, never posted.",
    ]
    return message(text, [section("\n".join(lines)), facts_line(h)])


def rejected_message(h: HeldView) -> Message:
    text = f"Rejected: {held_name(h)} will never be sent to TikTok."
    lines = [
        f"*{text}*",
        "*Still running:* no \u2014 never sent to TikTok",
        "*Next step:* nothing; its thread and the pipeline say it was rejected, with your reason.",
    ]
    return message(text, [section("\n".join(lines)), facts_line(h)])


def waiting_rows(h: HeldView, user_id: str = "") -> list[dict]:
    """One upload waiting for approval in `list` and the App Home: its name, whether it
    waits for you, the count and deadline, and its buttons."""
    mine = user_id in h.approvers and user_id not in h.approved_by and user_id != h.submitted_by
    lead = ":point_right: *Waiting for you* — " if mine else ""
    text = (
        f"{lead}{held_name(h)} as {_who(h)}\n"
        f"Approvals: {count_line(h)}, by {when(h.approve_by, relative=True)}."
        f"\n*Still running:* {still_running(h)}"
    )
    return [section(text), approval_buttons(h)]
