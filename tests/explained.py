"""A check shared by the tests of `explain` and `status`: an answer that explains a code has the
"Still running:" line and a next step (VOICE.md)."""

from __future__ import annotations


def assert_explained(text: str) -> None:
    assert "Still running:*" in text
    assert "*Next:*" in text
