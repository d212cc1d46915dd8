"""Is a Slack payload the bot sent valid? Checked with slack_sdk's Block Kit models, deeply.

`Block.parse(b).validate_json()` only checks the block's own fields; `to_dict()` validates every
nested object too (a confirm dialog's text ≤ 300, a button's value ≤ 2 000, a section ≤ 3 000),
so both are called. Views go through `View(**view)` the same way. A traceback anywhere in what
was sent is a problem too.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

SENDS_BLOCKS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
SENDS_VIEWS = ("views.publish", "views.open", "views.update", "views.push")
TRACEBACK = "Traceback (most recent call last)"
CHAT_TEXT_LIMIT = 40_000  # Slack truncates a message's `text` beyond this


def problems_in(method: str, params: dict[str, Any]) -> list[str]:
    """What is wrong with one payload sent by `method` (empty when it is fine)."""
    found: list[str] = []
    dumped = json.dumps(params, default=str)
    if TRACEBACK in dumped:
        found.append(f"{method}: a traceback was sent: {dumped[:300]}")
    if method in SENDS_BLOCKS:
        found += _message_problems(method, params)
    elif method in SENDS_VIEWS:
        found += _view_problems(method, params.get("view"))
    return found


def _message_problems(method: str, params: dict[str, Any]) -> list[str]:
    found = []
    text = params.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > CHAT_TEXT_LIMIT):
        found.append(f"{method}: text is not a string of at most {CHAT_TEXT_LIMIT} characters")
    blocks = params.get("blocks")
    if blocks is None:
        if not text and method != "response_url":
            found.append(f"{method}: neither text nor blocks")
        return found
    return found + blocks_problems(method, blocks, limit=50)


def _view_problems(method: str, view: Any) -> list[str]:
    if not isinstance(view, dict):
        return [f"{method}: view is not an object: {view!r:.200}"]
    try:
        model = View(**view)
        model.validate_json()
        model.to_dict()
    except Exception as exc:
        return [f"{method}: view invalid: {type(exc).__name__}: {exc}"]
    return blocks_problems(method, view.get("blocks"), limit=100)


def blocks_problems(method: str, blocks: Any, limit: int) -> list[str]:
    """Each block parsed by slack_sdk and validated with everything inside it."""
    if not isinstance(blocks, list):
        return [f"{method}: blocks is not a list: {blocks!r:.200}"]
    found = []
    if len(blocks) > limit:
        found.append(f"{method}: {len(blocks)} blocks, more than {limit}")
    for i, block in enumerate(blocks):
        try:
            model = Block.parse(block)
            if model is None:
                found.append(f"{method}: block {i} is not a Block Kit block: {block!r:.200}")
                continue
            model.validate_json()
            model.to_dict()
        except Exception as exc:
            found.append(f"{method}: block {i} invalid: {type(exc).__name__}: {exc}")
    return found
