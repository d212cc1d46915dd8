"""Wording for `list` and the App Home now that they show only uploads in channels the person
can see: "none" says "in channels you can see" (true whether or not others are hidden, and it
tells nobody that a private channel has one), and when Slack couldn't be asked about some
channels, the answer says uploads may be hidden.

`list_answer` and `home_with_note` wrap what `bot.messages` builds (until it takes a flag).
"""

from __future__ import annotations

from bot import messages
from bot.visibility import Visible

HIDDEN_NOTE = (
    "Some uploads may be hidden: we couldn't ask Slack who can see the channels they were "
    "announced in. Try again in a minute."
)
HEADER = "*Uploads still running"  # how bot.messages.home_view heads its uploads
NONE_VISIBLE = "No announced uploads are still running in channels you can see. Nothing to cancel."
HOME_NONE = f"{HEADER}:* none in channels you can see."
NONE_SHOWN = (
    "We couldn't ask Slack who can see the channels uploads were announced in, so none are "
    "shown. Try again in a minute."
)


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _note_block() -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": HIDDEN_NOTE}]}


def list_answer(visible: Visible, now: float) -> messages.Message:
    """The `list` answer for what the person may see, saying when some may be hidden."""
    if not visible.items:
        text = NONE_SHOWN if visible.unknown else NONE_VISIBLE
        return {"text": text, "blocks": [_section(text)]}
    if not visible.unknown:
        return messages.list_message(visible.items, now)
    message = messages.list_message(visible.items, now)
    blocks = [*message["blocks"][:49], _note_block()]
    return {**message, "blocks": blocks}


def home_with_note(view: dict, visible: Visible) -> dict:
    """The Home view saying "none in channels you can see", or, when some were hidden as
    unknown, that they may be hidden (after the uploads it shows)."""
    if visible.items and not visible.unknown:
        return view
    blocks = list(view.get("blocks", []))
    for i, block in enumerate(blocks):
        text = block.get("text")
        if not (isinstance(text, dict) and str(text.get("text", "")).startswith(HEADER)):
            continue
        if not visible.items:  # a bare "none" would not be true
            none = f"{HEADER}:* unknown. {NONE_SHOWN}" if visible.unknown else HOME_NONE
            blocks[i] = _section(none)
        else:
            blocks.insert(i + 1 + min(len(visible.items), 20), _note_block())
        break
    else:
        if visible.unknown:
            blocks.append(_note_block())
    return {**view, "blocks": blocks[:100]}
