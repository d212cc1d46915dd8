"""The modals the bot opened, as the sandbox's page shows and sends them.

A modal is what the Slack stand-in recorded when the bot called `views.open` (or pushed or
updated one): the page renders that very view for the person it was opened for. Sending it
is what Slack does when the person presses its submit button: the inputs the page sends
(`{block_id: text | option value | [option values] | null}`) become `state.values`
(`view_values.values_for`), what Slack's own client refuses (a required input left empty,
a text too long) is answered here without reaching the bot, and the rest goes to the bot as
a signed `view_submission` through the driver. The bot's ack decides what the person sees:
`response_action: errors` keeps the modal open with each error next to its input, a plain
ack closes it. The close button closes it without telling the bot (as in Slack, since the
bot's modals don't ask for `notify_on_close`). A person has a modal open in one workspace:
the same person id in another workspace is another person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.fakes.view_values import ModalError, input_blocks, unsendable_by_field, values_for
from sandbox.guards import BadRequest

if TYPE_CHECKING:
    from sandbox.fakes import FakeSlack
    from sandbox.fakes.driver import Driver
    from sandbox.fakes.slack_modals import FakeView

MAX_INPUTS = 100  # a modal has at most 100 blocks


class PageModals:
    """What each person has open, the errors shown in it, and its submit and close."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        # view id -> (the view's hash when they were shown, {block_id: words})
        self._errors: dict[str, tuple[str, dict[str, str]]] = {}

    def shown(self, user_id: str, team_id: str | None = None) -> dict[str, Any] | None:
        """The modal `user_id` of workspace `team_id` (None: of any) has open now, as the bot
        sent it (and the stand-in answered it: id, hash), with the errors shown in it; None
        when they have none open."""
        view = self.slack.last_view(user_id, team_id=team_id)
        if view is None:
            return None
        return {"view": view.view, "errors": self._errors_of(view)}

    def _errors_of(self, view: FakeView) -> dict[str, str]:
        shown_hash, errors = self._errors.get(view.id, ("", {}))
        return errors if shown_hash == view.view.get("hash") else {}

    def _open(self, user_id: str, team_id: str, view_id: str) -> FakeView:
        view = self.slack.last_view(user_id, team_id=team_id)
        if view is None or view.id != view_id:
            raise BadRequest(f"{user_id} has no modal {view_id!r} open (it was closed)", 409)
        return view

    async def submit(
        self, driver: Driver, user_id: str, team_id: str, view_id: str, inputs: Any
    ) -> dict[str, Any]:
        """`user_id` of workspace `team_id` presses the submit button of their open modal
        `view_id`, its inputs as the page sends them. Answers whether it was sent to the bot
        (`sent`), the bot's HTTP status, the errors now shown by block_id, and whether the
        modal is `closed`."""
        view = self._open(user_id, team_id, view_id)
        fields = _fields(inputs, input_blocks(view))
        try:
            values = values_for(view, **fields)
        except ModalError as problem:
            raise BadRequest(str(problem)) from None
        refused = unsendable_by_field(view, values)
        if refused:  # Slack's client says so itself; the bot hears nothing
            errors = {block_id: f"This field {words}." for block_id, words in refused.items()}
            self._errors[view.id] = (str(view.view.get("hash")), errors)
            return {"sent": False, "status": 0, "errors": errors, "closed": False}
        status, ack = await driver.send_view_submission(
            view.callback_id, view.private_metadata, values, user_id=user_id, view_id=view.id
        )
        errors = _ack_errors(ack)
        now = self.slack.view(view.id)
        self._errors[view.id] = (str(now.view.get("hash") if now else ""), errors)
        still = self.slack.last_view(user_id, team_id=team_id)
        return {
            "sent": True,
            "status": status,
            "errors": errors,
            "closed": still is None or still.id != view.id,
        }

    async def close(self, user_id: str, team_id: str, view_id: str) -> dict[str, Any]:
        """`user_id` of workspace `team_id` presses the close button of their open modal
        `view_id`."""
        view = self._open(user_id, team_id, view_id)
        await self.slack.close_view(view.id)
        self._errors.pop(view.id, None)
        return {"closed": True}


def _fields(inputs: Any, blocks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The page's inputs as `values_for` takes them: an empty text or no option chosen is
    None (Slack sends `null` for them); anything else than text or a list of texts is a 400."""
    if not isinstance(inputs, dict) or len(inputs) > MAX_INPUTS:
        raise BadRequest("values must be an object: block_id -> text, option value or list")
    fields: dict[str, Any] = {}
    for block_id, value in inputs.items():
        if block_id not in blocks:
            raise BadRequest(f"the modal has no input {block_id!r}")
        if value is None or isinstance(value, str):
            fields[block_id] = value or None
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            fields[block_id] = value
        else:
            raise BadRequest(f"{block_id} must be a text, an option value or a list of them")
    return fields


def _ack_errors(ack: dict[str, Any] | None) -> dict[str, str]:
    """The `errors` of a `response_action: errors` ack, by block_id (else none)."""
    if not ack or ack.get("response_action") != "errors":
        return {}
    errors = ack.get("errors")
    if not isinstance(errors, dict):
        return {}
    return {str(k): str(v) for k, v in errors.items()}
