"""Wording for uploads hidden because Slack couldn't be asked who may see their channel.

`list_answer` and `home_with_note` wrap what `bot.messages` builds for `list` and the App Home,
adding one line when some uploads were hidden as unknown (until `bot.messages` takes a flag).
"""

from __future__ import annotations

from bot import messages
from bot.visibility import Visible

HIDDEN_NOTE = (
    "Some uploads may be hidden: we couldn't ask Slack who can see the channels they were "
    "announced in. Try again in a minute."
)
HEADER = "*Uploads still running"  # how bot.messages.home_view heads its uploads
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
    if not visible.unknown:
        return messages.list_message(visible.items, now)
    if not visible.items:
        return {"text": NONE_SHOWN, "blocks": [_section(NONE_SHOWN)]}
    message = messages.list_message(visible.items, now)
    blocks = [*message["blocks"][:49], _note_block()]
    return {**message, "blocks": blocks}


def home_with_note(view: dict, visible: Visible) -> dict:
    """The Home view with the hidden-uploads line after its uploads, when some were hidden."""
    if not visible.unknown:
        return view
    blocks = list(view.get("blocks", []))
    for i, block in enumerate(blocks):
        text = block.get("text")
        if not (isinstance(text, dict) and str(text.get("text", "")).startswith(HEADER)):
            continue
        if not visible.items:  # "none" would not be true: say unknown instead
            blocks[i] = _section(f"{HEADER}:* unknown. {NONE_SHOWN}")
        else:
            blocks.insert(i + 1 + min(len(visible.items), 20), _note_block())
        break
    else:
        blocks.append(_note_block())
    return {**view, "blocks": blocks[:100]}
