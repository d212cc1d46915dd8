"""What a person leaves in a modal's inputs, as Slack sends it: `state.values`.

`values_for(view, caption="…", privacy="SELF_ONLY", interactions=["comment"])` finds each
input block by its `block_id` and answers Slack's shape for its element: a text input's
`value`, a select's or radio group's `selected_option`, checkboxes' or a multi-select's
`selected_options` (the option objects as the view defines them, looked up by value), a user
or conversation picker's ids, a date or time. Inputs not named keep their initial value (or
are empty), as in Slack, which sends every input block's state.

`unsendable(view, values)` is what Slack's own client would refuse before anything reaches
the app: a required input left empty, text shorter or longer than the input allows
(`unsendable_by_field`: the same, by block_id, as the sandbox's page shows it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# element type -> (the state key Slack sends, the view key holding its initial value)
STATE_KEYS = {
    "plain_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "checkboxes": ("selected_options", "initial_options"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_external_select": ("selected_options", "initial_options"),
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
}
MANY = ("selected_options", "selected_users", "selected_conversations", "selected_channels")


class ModalError(AssertionError):
    """A person could not fill or send this modal as asked: no input with that block_id, an
    option the input does not offer, a required input left empty. An AssertionError, so a
    test that meets one fails as it should."""


def _blocks(view: Any) -> list[dict[str, Any]]:
    """The blocks of a view given as its JSON or as a `FakeView` record."""
    data = getattr(view, "view", view)
    blocks = data.get("blocks") if isinstance(data, dict) else None
    return [b for b in blocks or [] if isinstance(b, dict)]


def input_blocks(view: Any) -> dict[str, dict[str, Any]]:
    """The view's input blocks by block_id."""
    return {
        str(b["block_id"]): b
        for b in _blocks(view)
        if b.get("type") == "input" and b.get("block_id") and isinstance(b.get("element"), dict)
    }


def options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    """Every option an element offers (its `options`, or those of its `option_groups`)."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += list(group.get("options") or [])
    return options


def _option(element: dict[str, Any], block_id: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):  # an option object sent as given (a forged request)
        return value
    offered = options_of(element)
    for option in offered:
        if option.get("value") == value:
            return option
    if element.get("type", "").endswith("external_select"):
        return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}
    values = [o.get("value") for o in offered]
    raise ModalError(f"input {block_id!r} offers no option {value!r} (it offers {values})")


def _state(element: dict[str, Any], block_id: str, given: Any) -> dict[str, Any]:
    kind = str(element.get("type", ""))
    if kind not in STATE_KEYS:
        raise ModalError(f"input {block_id!r} is a {kind!r}, which this helper cannot fill")
    key, _ = STATE_KEYS[kind]
    if key == "selected_option":
        value: Any = None if given is None else _option(element, block_id, given)
    elif key == "selected_options":
        value = [_option(element, block_id, v) for v in _many(given)]
    elif key in MANY:
        value = [str(v) for v in _many(given)]
    else:
        value = None if given is None else str(given)
    return {"type": kind, key: value}


def _many(given: Any) -> Iterable[Any]:
    if given is None:
        return []
    if isinstance(given, (str, dict)):
        return [given]
    return list(given)


def _initial(element: dict[str, Any]) -> dict[str, Any]:
    kind = str(element.get("type", ""))
    key, initial_key = STATE_KEYS.get(kind, ("value", "initial_value"))
    empty: Any = [] if key in MANY else None
    return {"type": kind, key: element.get(initial_key, empty)}


def values_for(view: Any, /, **fields: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """Slack's `state.values` for `view` (its JSON or a `FakeView`) with the inputs named by
    block_id set to `fields`' values: `{block_id: {action_id: {type, value | …}}}`."""
    blocks = input_blocks(view)
    unknown = sorted(set(fields) - set(blocks))
    if unknown:
        raise ModalError(f"the modal has no input {unknown} (its inputs: {sorted(blocks)})")
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block_id, block in blocks.items():
        element = block["element"]
        action_id = str(element.get("action_id") or f"{block_id}-action")
        if block_id in fields:
            state = _state(element, block_id, fields[block_id])
        else:
            state = _initial(element)
        values[block_id] = {action_id: state}
    return values


def unsendable_by_field(view: Any, values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, str]:
    """What Slack's client would refuse in these values, by block_id: "is required", "needs
    at least N characters" or "takes at most N characters" (empty: it sends them)."""
    problems: dict[str, str] = {}
    for block_id, block in input_blocks(view).items():
        element = block["element"]
        for state in (values.get(block_id) or {}).values():
            filled = [v for k, v in state.items() if k != "type"]
            value = filled[0] if filled else None
            if value in (None, "", []):
                if not block.get("optional"):
                    problems[block_id] = "is required"
                continue
            if isinstance(value, str) and element.get("type") == "plain_text_input":
                low, high = element.get("min_length"), element.get("max_length")
                if low is not None and len(value) < low:
                    problems[block_id] = f"needs at least {low} characters"
                if high is not None and len(value) > high:
                    problems[block_id] = f"takes at most {high} characters"
    return problems


def unsendable(view: Any, values: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """What Slack's client would refuse to send in these values (empty: it sends them)."""
    return [
        f"{block_id!r} {problem}" for block_id, problem in unsendable_by_field(view, values).items()
    ]
