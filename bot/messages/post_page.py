"""The post page TikTok asks a Direct Post app to show before it posts (tiktok-api.md §11.4),
as a Slack modal, and the rejection modal; the words of every problem the page can show.

The modal is built from a fresh creator_info: the account's nickname and avatar; the caption,
editable; who can see the post, a select of the account's current options with no option
chosen (the pipeline's wish is shown as "asked for", never preselected); comment, duet and
stitch unticked, and left out (with a line saying why) where the creator turned them off; the
commercial-content disclosure; the consent line. Submitting it is one approval. A Block Kit
checkbox can't be greyed out, so an option the creator turned off is not offered at all.
Plain values in, plain dicts out.
"""

from __future__ import annotations

import json
from typing import Any

from bot.interactions import (
    APPROVE_VIEW,
    CAPTION_FIELD,
    COMMERCIAL_FIELD,
    COMMERCIAL_KIND_FIELD,
    INTERACTIONS_FIELD,
    OPEN_POST_PAGE_ACTION,
    PRIVACY_FIELD,
    REASON_FIELD,
    REJECT_VIEW,
    WATCH_VIDEO_ACTION,
)
from bot.messages.approval_card import approvers_phrase, count_line
from bot.messages.blocks import actions, button, context, escape, plain_text, section, when
from bot.messages.held import HeldView, privacy_words

MUSIC_USAGE_URL = "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"
BRANDED_POLICY_URL = "https://www.tiktok.com/legal/page/global/bc-policy/en"
MAX_CAPTION = 2200
MAX_REASON = 500
INTERACTION_WORDS = {"comment": "Comment", "duet": "Duet", "stitch": "Stitch"}
KIND_WORDS = {
    "your_brand": (
        "Your brand",
        "Promotional content: you promote yourself or your own business",
    ),
    "branded": (
        "Branded content",
        "Paid partnership: you promote another brand or a third party",
    ),
}
COMMERCIAL_WORDS = "This post promotes a brand, product or service"
# The page's words, the same on the modal and the web page (`handlers.web.approve_pages`).
TITLE = "Post to TikTok"
WATCH_WORDS = "Watch the video"
CAPTION_LABEL = "Caption"
PRIVACY_LABEL = "Who can see this post"
PRIVACY_PLACEHOLDER = "Choose who can see it"
PRIVACY_HINT = "The upload pipeline asked for: {requested}. TikTok asks you to choose."
INTERACTIONS_LABEL = "Allow viewers to"
OFF_LINE = "{off}: turned off in this account's TikTok settings."
COMMERCIAL_LABEL = "Commercial content disclosure"
KIND_LABEL = "If it does, it promotes"
KIND_HINT = (
    "Your brand: labelled Promotional content. Branded content: labelled Paid "
    "partnership, and can't be Only me."
)
# {music} and {branded} are links to TikTok's two documents, written as each page writes links.
CONSENT = (
    "By posting, you agree to TikTok's {music}. With Branded content ticked, you also agree "
    "to TikTok's {branded}. TikTok may take a few minutes to process the video after it starts."
)
MUSIC_USAGE_WORDS = "Music Usage Confirmation"
BRANDED_POLICY_WORDS = "Branded Content Policy"

ERROR_WORDS = {
    "caption_too_long": f"A TikTok caption is at most {MAX_CAPTION} characters.",
    "privacy_missing": "Choose who can see this post: TikTok asks for it every time.",
    "privacy_not_offered": "This account can't post with that audience now: choose another one.",
    "kind_missing": "You said this post is commercial content: tick Your brand, Branded "
    "content, or both.",
    "branded_private": "Branded content can't be private (Only me): choose another audience.",
    "too_long": "This video is {duration} s long; this account may post at most {longest} s "
    "now. Reject it, or cancel it and send a shorter cut.",
    "reason_missing": "Say why, in a few words: the thread and the pipeline show it.",
    "reason_too_long": f"A reason is at most {MAX_REASON} characters.",
}


def submit_words(last: bool) -> str:
    """The submit button: the last approval needed posts it."""
    return "Approve and post" if last else "Approve"


def privacy_hint(requested_level: str) -> str:
    """Under the privacy choice: what the pipeline asked for, never preselected."""
    requested = privacy_words(requested_level) if requested_level else "nothing"
    return PRIVACY_HINT.format(requested=requested)


def error_words(code: str, duration_s: Any = None, longest_s: Any = None) -> str:
    """The words shown next to a field for a problem code of `post_choices.check`."""
    words = ERROR_WORDS.get(code, "TikTok would refuse this.")
    if code == "too_long":
        return words.format(duration=f"{float(duration_s):g}", longest=f"{float(longest_s):g}")
    return words


def errors_for(problems: dict[str, str], duration_s: Any = None, longest_s: Any = None) -> dict:
    """`response_action: errors`'s map: each field's problem in words."""
    return {field: error_words(code, duration_s, longest_s) for field, code in problems.items()}


def _option(text: str, value: str, description: str = "") -> dict:
    option: dict[str, Any] = {"text": plain_text(text[:75]), "value": value}
    if description:
        option["description"] = plain_text(description[:75])
    return option


def _input(block_id: str, label: str, element: dict, *, optional: bool, hint: str = "") -> dict:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain_text(hint[:2000])
    return block


def _checkboxes(action_id: str, options: list[dict]) -> dict:
    return {"type": "checkboxes", "action_id": action_id, "options": options}


def metadata(h: HeldView, facts) -> str:
    """What the submission needs back (Slack returns it untouched): the upload and the facts
    the page was built from, so the answer can be checked before Slack's 3 s run out."""
    return json.dumps(
        {
            "k": h.upload_key,
            "o": list(facts.privacy_options),
            "d": [i for i in INTERACTION_WORDS if facts.disabled(i)],
            "m": facts.max_duration_s,
            "v": h.video.get("duration_s"),
        },
        separators=(",", ":"),
    )


def _avatar(facts, h: HeldView) -> dict | None:
    url = facts.avatar_url or h.avatar_url
    if not url.startswith("https://") or len(url) > 3000:
        return None
    return {"type": "image", "image_url": url, "alt_text": (facts.nickname or h.account)[:2000]}


def post_page_modal(
    h: HeldView, facts, source_url: str, *, web_url: str = "", last: bool = True
) -> dict:
    """The Slack modal of the post page, for one approver."""
    nickname = escape(facts.nickname or h.nickname or h.account)
    lines = [
        f"*Posting to TikTok as {nickname}* (team account {escape(h.account)})",
        f"*Approvals:* {count_line(h)} \u00b7 *Deadline:* {when(h.approve_by, relative=True)}",
        f"*Approvers:* {approvers_phrase(h.approvers)}",
    ]
    if facts.too_long(h.video.get("duration_s")):
        lines.append(
            ":warning: " + error_words("too_long", h.video.get("duration_s"), facts.max_duration_s)
        )
    blocks: list[dict] = [section("\n".join(lines), _avatar(facts, h))]
    links = []
    if source_url.startswith("https://") and len(source_url) <= 3000:
        links.append(button(WATCH_WORDS, WATCH_VIDEO_ACTION, url=source_url))
    if web_url:
        links.append(button("Open this page in a browser", OPEN_POST_PAGE_ACTION, url=web_url))
    if links:
        blocks.append(actions(*links))
    caption: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": CAPTION_FIELD,
        "multiline": True,
        "max_length": MAX_CAPTION,
    }
    if h.title:
        caption["initial_value"] = h.title[:MAX_CAPTION]
    blocks.append(_input(CAPTION_FIELD, CAPTION_LABEL, caption, optional=True))
    privacy = {
        "type": "static_select",
        "action_id": PRIVACY_FIELD,
        "placeholder": plain_text(PRIVACY_PLACEHOLDER),
        "options": [_option(privacy_words(o), o) for o in facts.privacy_options[:100]],
    }
    blocks.append(
        _input(
            PRIVACY_FIELD,
            PRIVACY_LABEL,
            privacy,
            optional=False,
            hint=privacy_hint(h.privacy_level),
        )
    )
    offered = [_option(w, i) for i, w in INTERACTION_WORDS.items() if not facts.disabled(i)]
    off = [w for i, w in INTERACTION_WORDS.items() if facts.disabled(i)]
    if offered:
        blocks.append(
            _input(
                INTERACTIONS_FIELD,
                INTERACTIONS_LABEL,
                _checkboxes(INTERACTIONS_FIELD, offered),
                optional=True,
            )
        )
    if off:
        blocks.append(context(OFF_LINE.format(off=", ".join(off))))
    blocks.append(
        _input(
            COMMERCIAL_FIELD,
            COMMERCIAL_LABEL,
            _checkboxes(COMMERCIAL_FIELD, [_option(COMMERCIAL_WORDS, "on")]),
            optional=True,
        )
    )
    kinds = [_option(text, value, about) for value, (text, about) in KIND_WORDS.items()]
    blocks.append(
        _input(
            COMMERCIAL_KIND_FIELD,
            KIND_LABEL,
            _checkboxes(COMMERCIAL_KIND_FIELD, kinds),
            optional=True,
            hint=KIND_HINT,
        )
    )
    blocks.append(
        context(
            CONSENT.format(
                music=f"<{MUSIC_USAGE_URL}|{MUSIC_USAGE_WORDS}>",
                branded=f"<{BRANDED_POLICY_URL}|{BRANDED_POLICY_WORDS}>",
            )
        )
    )
    return {
        "type": "modal",
        "callback_id": APPROVE_VIEW,
        "private_metadata": metadata(h, facts),
        "title": plain_text(TITLE),
        "submit": plain_text(submit_words(last)),
        "close": plain_text("Not now"),
        "blocks": blocks,
    }


def reject_modal(h: HeldView) -> dict:
    """Asks the reason for a rejection (shown in the thread and to the pipeline)."""
    reason = {
        "type": "plain_text_input",
        "action_id": REASON_FIELD,
        "multiline": True,
        "max_length": MAX_REASON,
        "placeholder": plain_text("What should change before it is sent again?"),
    }
    name = escape(h.title[:200]) if h.title else escape(h.upload_key)
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "private_metadata": h.upload_key,
        "title": plain_text("Reject upload"),
        "submit": plain_text("Reject"),
        "close": plain_text("Keep it"),
        "blocks": [
            section(
                f"\u201c{name}\u201d will never be sent to TikTok. This can't be undone.\n"
                "*Still running:* no \u2014 nothing has been sent to TikTok yet."
            ),
            _input(REASON_FIELD, "Why", reason, optional=False),
        ],
    }
