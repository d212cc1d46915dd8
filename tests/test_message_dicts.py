"""The message builders are plain dicts of plain values.

They build every block as the dict Slack reads, with no slack_sdk model and no stored row
(`bot/messages/` imports neither slack_sdk nor `storage` nor the command parser, and the TikTok
rules no `storage`). The interactive parts (buttons, their confirm dialogs, rows of buttons)
used to be written by slack_sdk's models, so they must still come out exactly as those models
write them: parsed by slack_sdk and written back, each is the same JSON, key order included.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block, BlockElement

from bot import messages
from bot.actor import Actor
from bot.messages import held as held_messages
from bot.outcome import Outcome

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_796_000_000.0
LONG_ID = "v_pub_url~v2." + "9" * 243
TITLE = ("&<>" * 40 + "\U0001f389 <!channel> https://evil.example/login ")[:200]
LINK = messages.LinkView("Alex", "open-1", "video.upload", "2026-11-30T01:02:03Z", "", NOW, NOW)


def built() -> list[dict]:
    """A message (or view) of every family that carries buttons."""
    running = messages.AnnouncedView(LONG_ID, title="&" * 189, status="PROCESSING_DOWNLOAD")
    actor = Actor("T1", "U1", "C1")
    return [
        messages.announcement_message(running),
        messages.list_message([running], NOW),
        *(
            held_messages.held_message(held_messages.HeldView("k" * 128, "brand", state, TITLE))
            for state in ("held", "retry", "asking")
        ),
        messages.outcome_message(
            Outcome("cancel", "not_linked", LONG_ID, actor, connect_url="https://example.com/c")
        ),
        messages.outcome_message(Outcome("status", "PROCESSING_DOWNLOAD", LONG_ID, actor, TITLE)),
        messages.connect_message("https://example.com/c"),
        messages.team_connect_message("brand", "https://example.com/c"),
        messages.linked_dm("Alex", "open-1", "k" * 22, LONG_ID),
        messages.link_forgotten_message(
            messages.ForgottenView("Alex", "refresh_refused"), "https://example.com/c"
        ),
        messages.home_view(LINK, "", False, [], [running], [], NOW),
        messages.home_view(None, "https://example.com/c", False, [], [], [], NOW),
    ]


def interactive_parts(message: dict) -> list[tuple[dict, dict]]:
    """(what the bot wrote, what slack_sdk writes back from it) for every row of buttons and
    every button beside a section."""
    pairs = []
    for block in message["blocks"]:
        if block["type"] == "actions":
            pairs.append((block, Block.parse(block).to_dict()))
        elif "accessory" in block:
            pairs.append((block["accessory"], BlockElement.parse(block["accessory"]).to_dict()))
    return pairs


def test_buttons_and_their_dialogs_are_written_as_slack_sdks_models_write_them():
    for message in built():
        parts = interactive_parts(message)
        assert parts, message["text"]  # each was built in a state that has buttons
        for ours, models in parts:
            assert json.dumps(ours) == json.dumps(models)


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("bot/messages", ("slack_sdk", "storage", "bot.commands")),
        ("bot/tiktok", ("storage",)),
    ],
)
def test_builders_and_rules_import_no_models_rows_or_parser(folder, forbidden):
    found = []
    for path in sorted((ROOT / folder).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    found.append(f"{path.relative_to(ROOT)}: {name}")
    assert found == []
