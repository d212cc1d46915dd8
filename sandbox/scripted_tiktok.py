"""The sandbox's TikTok: the stand-in, told per upload what to answer the next cancel and
what to answer the next Direct Post init (`sandbox.answers` lists the choices)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sandbox.answers import ACCEPTED, NORMAL, scripted_reply
from sandbox.fakes import FakeTikTok, Reply
from sandbox.scenario import CLIENT_KEY


@dataclass
class Scripted:
    answer: str
    used: bool = False


class SandboxTikTok(FakeTikTok):
    """The TikTok stand-in, told per upload what to answer the next cancel.

    A scripted answer holds for every call of that one cancel (the bot's retries and its
    refresh-and-retry included) and is dropped once the bot has finished it, so "429" shows
    what the person reads when TikTok stays busy, not a silent retry that worked. An accepted
    cancel doesn't end the upload at once: TikTok's word comes later (see `Sandbox`), as in
    production, so the page shows "stopping" first.
    """

    def __init__(self) -> None:
        super().__init__(
            client_key=CLIENT_KEY, client_secret="sandbox-client-" + secrets.token_urlsafe(24)
        )
        self.next_answers: dict[str, Scripted] = {}  # publish_id, or "" for any upload
        self.endings: dict[str, str] = {}  # publish_id → where its accepted cancel ends
        self.settle_cancels = False
        self.cancel_answer = self._scripted_answer
        self.next_init = ""  # the answer scripted for the next Direct Post init, if any
        # New publish_ids differ from one run to the next, so a --db kept across runs never
        # meets one it already stored.
        self.init_count = int(time.time()) % 1_000_000 * 100

    def script_next_init(self, answer: str) -> None:
        """What the next Direct Post init gets; `normal`: as TikTok would."""
        self.unscript("init")
        self.next_init = "" if answer == NORMAL else answer
        if self.next_init:
            self.script("init", scripted_reply(answer))

    def scripted_init(self) -> str:
        """The answer still waiting for the next init ("" once an init has taken it)."""
        return self.next_init if self.pending_scripts("init") else ""

    def script_next(self, answer: str, publish_id: str = "") -> None:
        if answer == NORMAL:
            self.next_answers.pop(publish_id, None)
        else:
            self.next_answers[publish_id] = Scripted(answer)

    def _scripted_answer(self, publish_id: str) -> Reply | None:
        scripted = self.next_answers.get(publish_id) or self.next_answers.get("")
        if scripted is None:
            self.endings.pop(publish_id, None)
            return None  # as TikTok would, by the upload's state
        scripted.used = True
        if scripted.answer in ACCEPTED:
            self.endings[publish_id] = ACCEPTED[scripted.answer]
        return scripted_reply(scripted.answer)

    def cancel_finished(self, publish_id: str) -> None:
        """The bot finished a cancel of `publish_id`: the answer scripted for it is spent."""
        for key in (publish_id, ""):
            scripted = self.next_answers.get(key)
            if scripted is not None and scripted.used:
                del self.next_answers[key]
                return
