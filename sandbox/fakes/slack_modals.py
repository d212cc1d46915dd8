"""Modals in the fake Slack: the trigger ids it hands out and the views opened with them.

Slack lets an app open a modal (`views.open`, or `views.push` on top of one) only with a
`trigger_id` from an interaction it sent the app moments before: a button click, a slash
command, a modal submission. This fake does the same: `new_trigger_id(user_id)` issues one
(the driver puts it in each click and command), good once, for `ttl` seconds (Slack's 3 by
default); an id it never issued answers `invalid_trigger_id`, a used one
`exchanged_trigger_id`, a late one `expired_trigger_id`, as Slack answers.

Each view opened, pushed or updated is one `FakeView` record in `views`: the view as the
fake answered it (id, hash, `state`, and the app's own fields), who sees it and the trigger
that opened it. `views.update` finds the view by `view_id` (or `external_id`) and checks
`hash` when given (`hash_conflict`). What a submission's ack says (`response_action` update,
push, clear, errors, or a plain ack that closes the modal) is applied by `answered()`.

Several workspaces: a trigger id belongs to the workspace of the interaction it came with
(`new_trigger_id(user_id, team_id)`), and only that workspace's bot token can open a modal
with it (another's gets `invalid_trigger_id`); each view records its workspace (`team_id`,
also in the view as `team_id` / `app_installed_team_id`) and only that workspace's token can
update it (another's gets `not_found`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

TRIGGER_TTL_S = 3.0  # Slack: "trigger_id ... expires in three seconds"
VIEW_TYPES = ("modal",)


@dataclass
class FakeView:
    """One modal as one person sees it, after `method` (views.open, views.push, views.update
    or a submission's `response_action`): `view` is what the fake answered the app."""

    method: str
    user_id: str
    trigger_id: str
    view: dict[str, Any]
    time: float = field(default_factory=time.monotonic)
    team_id: str = ""

    @property
    def id(self) -> str:
        return str(self.view["id"])

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.view.get("blocks")
        return blocks if isinstance(blocks, list) else []


@dataclass
class _Trigger:
    user_id: str
    issued: float
    team_id: str = ""
    exchanged: bool = False


def new_view_id() -> str:
    return "V" + secrets.token_hex(5).upper()


def new_hash() -> str:
    """A view hash as Slack writes them (`<epoch>.<hex>`); a new one on every change."""
    return f"{int(time.time())}.{secrets.token_hex(4)}"


class Modals:
    """The fake's modal bookkeeping: trigger ids issued and views shown, per person."""

    def __init__(self, team_id: str, app_id: str, bot_id: str) -> None:
        self.team_id = team_id
        self.app_id = app_id
        self.bot_id = bot_id
        self.ttl: float | None = TRIGGER_TTL_S
        self.views: list[FakeView] = []
        self.closed: set[str] = set()
        self._triggers: dict[str, _Trigger] = {}
        self._seq = 0

    # -- trigger ids -------------------------------------------------------------------

    def new_trigger_id(self, user_id: str, team_id: str | None = None) -> str:
        """A trigger id for an interaction by `user_id` in workspace `team_id` (by default the
        one this was made for), issued now."""
        self._seq += 1
        trigger_id = f"{self._seq}.{int(time.time())}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = _Trigger(user_id, time.monotonic(), team_id or self.team_id)
        return trigger_id

    def trigger_team(self, trigger_id: Any) -> str | None:
        """The workspace a trigger id was issued in (None: not one this fake issued)."""
        trigger = self._triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        return trigger.team_id if trigger is not None else None

    def expire_trigger(self, trigger_id: str) -> None:
        """Make an issued trigger id too old to use (without waiting `ttl` seconds)."""
        self._triggers[trigger_id].issued = float("-inf")

    def _exchange(
        self, trigger_id: Any, arrived: float, team_id: str
    ) -> tuple[_Trigger | None, str]:
        """The trigger a views.open/push may use (spent from now on), or Slack's error."""
        trigger = self._triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None or trigger.team_id != team_id:
            return None, "invalid_trigger_id"
        if trigger.exchanged:
            return None, "exchanged_trigger_id"
        if self.ttl is not None and arrived - trigger.issued > self.ttl:
            return None, "expired_trigger_id"
        trigger.exchanged = True
        return trigger, ""

    # -- views -------------------------------------------------------------------------

    def current(self, view_id: str) -> FakeView | None:
        """The latest record of view `view_id` (what the person sees in it now)."""
        return next((v for v in reversed(self.views) if v.id == view_id), None)

    def last(
        self, user_id: str, callback_id: str | None = None, team_id: str | None = None
    ) -> FakeView | None:
        """The view most recently shown to `user_id` (of workspace `team_id`, if given; with
        `callback_id`, if given) that is still open, as it is now."""
        for record in reversed(self.views):
            if record.user_id != user_id or record.id in self.closed:
                continue
            if team_id is not None and record.team_id != team_id:
                continue
            now = self.current(record.id)
            if now is not None and (callback_id is None or now.callback_id == callback_id):
                return now
        return None

    def matching(
        self, user_id: str | None, callback_id: str | None, team_id: str | None = None
    ) -> list[FakeView]:
        return [
            v
            for v in self.views
            if (user_id is None or v.user_id == user_id)
            and (callback_id is None or v.callback_id == callback_id)
            and (team_id is None or v.team_id == team_id)
        ]

    def open(
        self,
        params: dict[str, Any],
        arrived: float,
        method: str,
        team_id: str | None = None,
        bot_id: str | None = None,
    ) -> dict[str, Any]:
        """views.open or views.push with workspace `team_id`'s bot token: a new view for the
        person whose trigger this is."""
        team_id = team_id or self.team_id
        view, error = _view_param(params)
        if error:
            return {"ok": False, "error": error}
        trigger, error = self._exchange(params.get("trigger_id"), arrived, team_id)
        if trigger is None:
            return {"ok": False, "error": error}
        trigger_id = str(params["trigger_id"])
        previous = self.last(trigger.user_id, team_id=team_id) if method == "views.push" else None
        view_id = new_view_id()
        answered = {
            **self._defaults(view_id, team_id, bot_id),
            "root_view_id": previous.view["root_view_id"] if previous else view_id,
            "previous_view_id": previous.id if previous else None,
            **view,
            "id": view_id,
            "hash": new_hash(),
            "state": {"values": {}},
        }
        self.views.append(FakeView(method, trigger.user_id, trigger_id, answered, team_id=team_id))
        return {"ok": True, "view": answered}

    def update(self, params: dict[str, Any], team_id: str | None = None) -> dict[str, Any]:
        """views.update with workspace `team_id`'s token: the view found by `view_id` or
        `external_id` replaced."""
        view, error = _view_param(params)
        if error:
            return {"ok": False, "error": error}
        old = self.find(params)
        if old is None or old.team_id != (team_id or self.team_id):
            return {"ok": False, "error": "not_found"}
        given_hash = params.get("hash")
        if given_hash and given_hash != old.view.get("hash"):
            return {"ok": False, "error": "hash_conflict"}
        answered = self._replaced(old, view)
        self.views.append(
            FakeView("views.update", old.user_id, old.trigger_id, answered, team_id=old.team_id)
        )
        return {"ok": True, "view": answered}

    def answered(self, view_id: str, user_id: str, ack: dict[str, Any] | None) -> None:
        """What Slack does with a modal once the app acked its submission: `errors` keep it
        open, `update` replaces it, `push` shows a new one on top, anything else closes it."""
        action = (ack or {}).get("response_action")
        new = (ack or {}).get("view")
        old = self.current(view_id)
        if action == "errors":
            return
        if action == "update" and old is not None and isinstance(new, dict):
            answered = self._replaced(old, new)
            self.views.append(
                FakeView("response_action", user_id, old.trigger_id, answered, team_id=old.team_id)
            )
            return
        if action == "push" and old is not None and isinstance(new, dict):
            pushed_id = new_view_id()
            answered = {
                **self._defaults(pushed_id, old.team_id, old.view.get("bot_id")),
                "root_view_id": old.view.get("root_view_id", old.id),
                "previous_view_id": old.id,
                **new,
                "id": pushed_id,
                "hash": new_hash(),
                "state": {"values": {}},
            }
            self.views.append(
                FakeView("response_action", user_id, old.trigger_id, answered, team_id=old.team_id)
            )
            return
        if action == "clear" and old is not None:
            root = old.view.get("root_view_id", old.id)
            self.closed.update(v.id for v in self.views if v.view.get("root_view_id") == root)
        self.closed.add(view_id)

    def find(self, params: dict[str, Any]) -> FakeView | None:
        """The view a views.update names by `view_id` or `external_id`, as it is now."""
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if view_id:
            return self.current(str(view_id))
        if external_id:
            for record in reversed(self.views):
                if record.view.get("external_id") == external_id:
                    return self.current(record.id)
        return None

    def _replaced(self, old: FakeView, view: dict[str, Any]) -> dict[str, Any]:
        keep = ("root_view_id", "previous_view_id")
        return {
            **self._defaults(old.id, old.team_id, old.view.get("bot_id")),
            **{k: old.view.get(k) for k in keep},
            **view,
            "id": old.id,
            "hash": new_hash(),
            "state": {"values": {}},
        }

    def _defaults(
        self, view_id: str, team_id: str | None = None, bot_id: str | None = None
    ) -> dict[str, Any]:
        team_id = team_id or self.team_id
        return {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "app_id": self.app_id,
            "app_installed_team_id": team_id,
            "bot_id": bot_id or self.bot_id,
        }


def _view_param(params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The `view` argument if it is a modal view object, else Slack's error for it."""
    view = params.get("view")
    if not isinstance(view, dict) or view.get("type") not in VIEW_TYPES:
        return {}, "invalid_arguments"
    return view, ""
