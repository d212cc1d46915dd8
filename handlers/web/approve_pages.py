"""The HTML of the web post page (`GET /approve/<token>`) and of what its form answers.

The form is the Slack modal's (`bot.messages.post_page`), field for field and word for word:
the account's nickname and avatar from a fresh creator_info; the video, playable (a `<video>`
of the upload's https source_url); the caption, editable; who can see it, a select of the
account's current options with nothing chosen (the pipeline's wish is shown, never
preselected); comment, duet and stitch unticked, and greyed out (`disabled`) where the creator
turned them off; the commercial-content disclosure; the consent line; the form token (CSRF).
A problem is shown next to its field, in the modal's words.

Everything shown is escaped with `html.escape`. Slack's mrkdwn of the answers we reuse
(refusals, the approval's outcome) is turned into plain text first. The page runs no script
and loads nothing but the avatar and the video, from their own https origins (the CSP says so).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from aiohttp import web

from bot.interactions import (
    CAPTION_FIELD,
    COMMERCIAL_FIELD,
    COMMERCIAL_KIND_FIELD,
    INTERACTIONS_FIELD,
    PRIVACY_FIELD,
)
from bot.messages import post_page
from bot.messages.approval_card import count_line, still_running
from bot.messages.blocks import when
from bot.messages.held import privacy_words
from bot.uploads.approval_links import LINK_TTL_S, WebPage
from bot.uploads.post_choices import PostForm
from handlers.web import oauth_pages
from handlers.web.oauth_pages import HTML, PAGE_HEADERS

FORM_TOKEN_FIELD = "form_token"
LINK_HOURS = int(LINK_TTL_S // 3600)

# Why the page can't be shown: (title, what happened and what to do), and the HTTP status.
PROBLEMS = {
    "unknown": (
        404,
        "This link isn't one we made",
        "It may have been copied incompletely. Nothing was approved. In Slack, press Review and "
        "approve on the upload's message to see the post page there (its Open this page in a "
        "browser button gives you a fresh link).",
    ),
    "used": (
        410,
        "This link was already used",
        "Each post-page link works once. Nothing new was approved. The upload's message in "
        "Slack says where it stands.",
    ),
    "expired": (
        410,
        "This link has expired",
        f"A post-page link works for {LINK_HOURS} hours at most, and never past the upload's "
        "deadline. Nothing was approved. If the upload still waits for approval, press Review "
        "and approve on its message in Slack.",
    ),
    "stale": (
        403,
        "This form is out of date",
        "The post page was opened again since (in another tab, perhaps), and only the newest "
        "one can approve. Nothing was approved. Reload this page for a fresh form.",
    ),
    "malformed": (
        400,
        "This form didn't arrive whole",
        "Nothing was approved. Reload this page for a fresh form and send it again.",
    ),
}
REFUSED_TITLE = "Nothing was approved"
FIX_BELOW = "Nothing was approved yet: fix what is marked below, then press the button again."
POSTING_AS = "Posting to TikTok as {nickname} (team account {account})"
APPROVALS_LINE = "Approvals: {count} \u00b7 Deadline: {deadline}"
NO_PREVIEW = "The video can't be played here: its address isn't an https one."
NO_PLAYER = "Your browser can't play this video here."

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "color:#1d1c1d}h1{font-size:1.4rem}.who{display:flex;gap:.8rem;align-items:center}"
    ".who img{border-radius:50%}video{width:100%;max-height:70vh;background:#000}"
    "label.field{display:block;font-weight:600;margin-top:1rem}textarea,select{font:inherit;"
    "width:100%;box-sizing:border-box}fieldset{margin-top:1rem;border:1px solid #ccc;"
    "border-radius:6px}fieldset label{display:block}small{color:#555}.error{color:#b00020;"
    "font-weight:600}.warn{color:#8a4b00}button{font:inherit;padding:.5rem 1rem;margin:1rem 0;"
    "border-radius:6px;border:1px solid #007a5a;background:#007a5a;color:#fff;cursor:pointer}"
    "label.off{color:#999}"
)
HTTPS_ORIGIN = re.compile(r"https://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")
MENTION = re.compile(r"<([@#!])([^<>|]*)(?:\|([^<>]*))?>")
LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
BOLD_EDGES = re.compile(r"(^\*|\*$|(?<=:)\*)", re.MULTILINE)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn as plain text: mentions as @id, dates and links as their text, our
    escapes undone, the bold and code marks we write removed."""

    def mention(m: re.Match) -> str:
        kind, target, label = m.group(1), m.group(2), m.group(3)
        if label:
            return label
        if kind == "!":
            return "@" + target.partition("^")[2] if target.startswith("subteam^") else "@" + target
        return kind + target

    text = MENTION.sub(mention, mrkdwn)
    text = LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = BOLD_EDGES.sub("", text.replace("`", ""))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def https_origin(url: str) -> str:
    """The https origin of `url` for the page's CSP ("" when it isn't a plain https URL)."""
    if not url.startswith("https://") or len(url) > 3000:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    origin = f"https://{parts.hostname or ''}" + (f":{port}" if port else "")
    return origin if HTTPS_ORIGIN.fullmatch(origin) else ""


def headers(media: str = "", image: str = "") -> dict[str, str]:
    """Our pages' headers (never cached, framed or referred), with the video's and the
    avatar's origins let in."""
    csp = PAGE_HEADERS["Content-Security-Policy"]
    if image:
        csp += f"; img-src {image}"
    if media:
        csp += f"; media-src {media}"
    return {**PAGE_HEADERS, "Content-Security-Policy": csp}


def response(text: str, status: int = 200, media: str = "", image: str = "") -> web.Response:
    return web.Response(status=status, text=text, content_type=HTML, headers=headers(media, image))


def shell(title: str, inner: str) -> str:
    """A whole page (the OAuth pages' shell, with this page's style); `inner` is escaped."""
    return oauth_pages.page(title, inner, STYLE)


def problem_response(problem: str) -> web.Response:
    status, title, body = PROBLEMS.get(problem, PROBLEMS["unknown"])
    return response(shell(title, f"<p>{_e(body)}</p>"), status)


def _message_lines(message: dict) -> list[str]:
    """Every line a person reads in a message's sections and contexts, as plain text."""
    lines: list[str] = []
    for block in message.get("blocks", []):
        texts = [block["text"]["text"]] if isinstance(block.get("text"), dict) else []
        texts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e, dict)]
        for text in texts:
            if isinstance(text, str):
                lines += [plain(line) for line in text.split("\n") if line.strip()]
    return lines


def message_page(message: dict, title: str = "") -> str:
    """An answer from Slack's words (a refusal, an approval's outcome) as a page."""
    headline = plain(str(message.get("text") or ""))
    lines = [line for line in _message_lines(message) if line.strip() != headline.strip()]
    body = "".join(f"<p>{_e(line)}</p>" for line in lines)
    if title:
        body = f"<p><b>{_e(headline)}</b></p>{body}"
    return shell(title or headline, body)


def message_response(message: dict, status: int, title: str = "") -> web.Response:
    return response(message_page(message, title), status)


# --- the form ------------------------------------------------------------------------------


def _error(errors: dict[str, str], field_: str, duration, longest) -> str:
    code_ = errors.get(field_)
    if not code_:
        return ""
    words = post_page.error_words(code_, duration, longest)
    return f"<p class=error id={field_}-error role=alert>{_e(words)}</p>"


def _checkbox(name: str, value: str, label: str, *, ticked: bool, off: bool = False, about=""):
    attrs = f'type=checkbox name={name} value="{_e(value)}"'
    if ticked and not off:
        attrs += " checked"
    if off:
        attrs += " disabled"
    extra = f" <small>{_e(about)}</small>" if about else ""
    css = " class=off" if off else ""
    return f"<label{css}><input {attrs}> {_e(label)}{extra}</label>"


def _video(source_url: str) -> str:
    if not https_origin(source_url):
        return f"<p class=warn>{_e(NO_PREVIEW)}</p>"
    src = _e(source_url)
    return (
        f'<video controls preload=metadata src="{src}">{_e(NO_PLAYER)}</video>'
        f'<p><a href="{src}" rel="noreferrer noopener" target=_blank>'
        f"{_e(post_page.WATCH_WORDS)}</a></p>"
    )


def _header(page: WebPage) -> str:
    review = page.review
    assert review is not None and review.view is not None and review.facts is not None
    view, facts = review.view, review.facts
    nickname = facts.nickname or view.nickname or view.account
    avatar = facts.avatar_url or view.avatar_url
    img = ""
    if https_origin(avatar):
        img = f'<img src="{_e(avatar)}" alt="{_e(nickname)}" width=48 height=48>'
    posting = POSTING_AS.format(nickname=nickname, account=view.account)
    approvals = APPROVALS_LINE.format(
        count=plain(count_line(view)), deadline=plain(when(view.approve_by))
    )
    lines = [
        f"<div class=who>{img}<p><b>{_e(posting)}</b></p></div>",
        f"<p>{_e(approvals)}</p>",
        f"<p>Still running: {_e(plain(still_running(view)))}</p>",
    ]
    duration = view.video.get("duration_s")
    if facts.too_long(duration):
        words = post_page.error_words("too_long", duration, facts.max_duration_s)
        lines.append(f"<p class=warn>{_e(words)}</p>")
    return "".join(lines)


def form_page(page: WebPage) -> str:
    """The post page for one approver: the form, and what was wrong with the last one sent."""
    review = page.review
    assert review is not None and review.view is not None and review.facts is not None
    assert review.upload is not None
    view, facts = review.view, review.facts
    sent = page.sent
    errors = page.errors
    duration, longest = view.video.get("duration_s"), facts.max_duration_s
    parts = [_header(page)]
    if errors:
        parts.append(f"<p class=error role=alert>{_e(FIX_BELOW)}</p>")
    parts.append(_video(review.upload.source_url))
    caption = sent.caption if sent is not None else view.title
    parts.append(
        "<form method=post>"
        f'<input type=hidden name={FORM_TOKEN_FIELD} value="{_e(page.form_token)}">'
        f"<label class=field for={CAPTION_FIELD}>{_e(post_page.CAPTION_LABEL)}</label>"
        f"<textarea id={CAPTION_FIELD} name={CAPTION_FIELD} rows=6 "
        f"maxlength={post_page.MAX_CAPTION}>{_e(caption)}</textarea>"
        + _error(errors, CAPTION_FIELD, duration, longest)
    )
    chosen = sent.privacy if sent is not None else ""
    chosen = chosen if chosen in facts.privacy_options else ""
    options = [
        f'<option value="" disabled{"" if chosen else " selected"}>'
        f"{_e(post_page.PRIVACY_PLACEHOLDER)}</option>"
    ]
    for option in facts.privacy_options[:100]:
        selected = " selected" if option == chosen else ""
        words = _e(privacy_words(option))
        options.append(f'<option value="{_e(option)}"{selected}>{words}</option>')
    parts.append(
        f"<label class=field for={PRIVACY_FIELD}>{_e(post_page.PRIVACY_LABEL)}</label>"
        f"<select id={PRIVACY_FIELD} name={PRIVACY_FIELD} required>{''.join(options)}</select>"
        f"<small>{_e(post_page.privacy_hint(view.privacy_level))}</small>"
        + _error(errors, PRIVACY_FIELD, duration, longest)
    )
    ticked = set(sent.interactions) if sent is not None else set()
    boxes = [
        _checkbox(INTERACTIONS_FIELD, i, w, ticked=i in ticked, off=facts.disabled(i))
        for i, w in post_page.INTERACTION_WORDS.items()
    ]
    off = [w for i, w in post_page.INTERACTION_WORDS.items() if facts.disabled(i)]
    off_line = f"<small>{_e(post_page.OFF_LINE.format(off=', '.join(off)))}</small>" if off else ""
    parts.append(
        f"<fieldset><legend>{_e(post_page.INTERACTIONS_LABEL)}</legend>{''.join(boxes)}"
        f"{off_line}</fieldset>"
    )
    commercial = sent.commercial if sent is not None else False
    kinds = set(sent.kinds) if sent is not None else set()
    kind_boxes = [
        _checkbox(COMMERCIAL_KIND_FIELD, value, text, ticked=value in kinds, about=about)
        for value, (text, about) in post_page.KIND_WORDS.items()
    ]
    parts.append(
        f"<fieldset><legend>{_e(post_page.COMMERCIAL_LABEL)}</legend>"
        + _checkbox(COMMERCIAL_FIELD, "on", post_page.COMMERCIAL_WORDS, ticked=commercial)
        + f"<fieldset><legend>{_e(post_page.KIND_LABEL)}</legend>{''.join(kind_boxes)}"
        f"<small>{_e(post_page.KIND_HINT)}</small></fieldset>"
        + _error(errors, COMMERCIAL_KIND_FIELD, duration, longest)
        + "</fieldset>"
    )
    music = (
        f'<a href="{_e(post_page.MUSIC_USAGE_URL)}" rel="noreferrer noopener" target=_blank>'
        f"{_e(post_page.MUSIC_USAGE_WORDS)}</a>"
    )
    branded = (
        f'<a href="{_e(post_page.BRANDED_POLICY_URL)}" rel="noreferrer noopener" target=_blank>'
        f"{_e(post_page.BRANDED_POLICY_WORDS)}</a>"
    )
    consent = _e(post_page.CONSENT).format(music=music, branded=branded)
    parts.append(
        f"<p>{consent}</p>"
        f"<button type=submit>{_e(post_page.submit_words(review.last))}</button></form>"
    )
    return shell(post_page.TITLE, "".join(parts))


def form_response(page: WebPage) -> web.Response:
    review = page.review
    assert review is not None and review.upload is not None
    facts, view = review.facts, review.view
    avatar = (facts.avatar_url if facts else "") or (view.avatar_url if view else "")
    return response(
        form_page(page),
        400 if page.errors else 200,
        media=https_origin(review.upload.source_url),
        image=https_origin(avatar),
    )


def read_form(fields: dict[str, list[str]]) -> tuple[str, PostForm]:
    """The form token and the post page's fields, as the browser sent them (unchecked)."""

    def first(name: str) -> str:
        values = fields.get(name) or [""]
        return values[0]

    return first(FORM_TOKEN_FIELD), PostForm(
        caption=first(CAPTION_FIELD).replace("\r\n", "\n"),
        privacy=first(PRIVACY_FIELD),
        interactions=tuple(fields.get(INTERACTIONS_FIELD) or ()),
        commercial="on" in (fields.get(COMMERCIAL_FIELD) or ()),
        kinds=tuple(fields.get(COMMERCIAL_KIND_FIELD) or ()),
    )
