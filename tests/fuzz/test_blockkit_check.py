"""The fuzz suite's Block Kit check finds what Slack would refuse (so a green run means it)."""

from __future__ import annotations

from tests.fuzz.blockkit import problems_in


def section_with_button(value: str = "v", confirm_text: str = "Sure?") -> dict:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "Upload"},
        "accessory": {
            "type": "button",
            "action_id": "cancel_upload",
            "text": {"type": "plain_text", "text": "Cancel upload"},
            "value": value,
            "confirm": {
                "title": {"type": "plain_text", "text": "Cancel?"},
                "text": {"type": "mrkdwn", "text": confirm_text},
                "confirm": {"type": "plain_text", "text": "Cancel upload"},
                "deny": {"type": "plain_text", "text": "Keep it"},
            },
        },
    }


def test_a_valid_message_and_view_have_no_problems():
    message = {"text": "t", "blocks": [section_with_button()]}
    assert problems_in("chat.postMessage", message) == []
    assert problems_in("views.publish", {"view": {"type": "home", **message}}) == []


def test_nested_limits_unknown_blocks_and_tracebacks_are_found():
    cases = {
        "confirm": {"text": "t", "blocks": [section_with_button(confirm_text="x" * 301)]},
        "value": {"text": "t", "blocks": [section_with_button(value="x" * 2001)]},
        "section": {
            "text": "t",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        },
        "unknown": {"text": "t", "blocks": [{"type": "no_such_block"}]},
        "traceback": {"text": "Traceback (most recent call last):\n  File ..."},
        "empty": {},
        "too_many": {"text": "t", "blocks": [section_with_button()] * 51},
    }
    for name, message in cases.items():
        assert problems_in("chat.postMessage", message), name
    assert problems_in("views.publish", {"view": {"type": "home", "blocks": "nope"}})
    assert problems_in("views.publish", {"view": None})
