"""Approval in Slack: Review and approve (opens the post-page modal), Reject (opens the reason
modal), and the two modals' submissions.

Every click and submission is acknowledged first. A submission is checked against the facts
the modal was built from (kept in its private_metadata), with no disk or network work: a
problem goes back in the ack as `response_action: errors`, next to its field; otherwise the
modal closes and the approval (or rejection) is made, its answer sent to the person by DM.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.actor import Actor
from bot.background import Background
from bot.commands.buttons import ClickReplies
from bot.interactions import (
    APPROVE_VIEW,
    CAPTION_FIELD,
    COMMERCIAL_FIELD,
    COMMERCIAL_KIND_FIELD,
    INTERACTIONS_FIELD,
    OPEN_POST_PAGE_ACTION,
    PRIVACY_FIELD,
    REASON_FIELD,
    REJECT_ACTION,
    REJECT_VIEW,
    REVIEW_ACTION,
    WATCH_VIDEO_ACTION,
)
from bot.messages import post_page
from bot.uploads import post_choices
from bot.uploads.approvals import Approvals
from handlers.slack.actions import actor_of, response_url_of

MAX_METADATA = 3000  # Slack's private_metadata limit


def _field(values: dict, block_id: str) -> dict:
    """The one element's state in input block `block_id` ({} when absent or malformed)."""
    block = values.get(block_id)
    if not isinstance(block, dict):
        return {}
    element = block.get(block_id)
    return element if isinstance(element, dict) else {}


def _text(values: dict, block_id: str) -> str:
    value = _field(values, block_id).get("value")
    return value if isinstance(value, str) else ""


def _selected(values: dict, block_id: str) -> str:
    option = _field(values, block_id).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else ""


def _ticked(values: dict, block_id: str) -> tuple[str, ...]:
    options = _field(values, block_id).get("selected_options")
    if not isinstance(options, list):
        return ()
    return tuple(
        str(o["value"]) for o in options if isinstance(o, dict) and isinstance(o.get("value"), str)
    )


def read_form(view: dict) -> post_choices.PostForm:
    """The post page's modal as Slack sent it back, unchecked."""
    state = view.get("state") if isinstance(view.get("state"), dict) else {}
    values = state.get("values") if isinstance(state.get("values"), dict) else {}
    return post_choices.PostForm(
        caption=_text(values, CAPTION_FIELD),
        privacy=_selected(values, PRIVACY_FIELD),
        interactions=_ticked(values, INTERACTIONS_FIELD),
        commercial="on" in _ticked(values, COMMERCIAL_FIELD),
        kinds=_ticked(values, COMMERCIAL_KIND_FIELD),
    )


def read_metadata(view: dict) -> dict[str, Any]:
    raw = view.get("private_metadata")
    if not isinstance(raw, str) or len(raw) > MAX_METADATA:
        return {}
    try:
        meta = json.loads(raw)
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _view_actor(body: dict) -> Actor:
    user = body.get("user") or {}
    team = body.get("team") or {}
    return Actor(
        team_id=team.get("id") or user.get("team_id", ""),
        user_id=user.get("id", ""),
        channel_id="",
        source="approval",
    )


def register(
    app: AsyncApp, *, approvals: Approvals, replies: ClickReplies, work: Background
) -> None:
    @app.action(REVIEW_ACTION)
    @app.action(REJECT_ACTION)
    async def decision_clicked(ack: AsyncAck, body: dict, action: dict) -> None:
        """Review and approve, or Reject: a modal opens for the clicker, or they hear why not."""
        await ack()
        async with work.working():
            actor = actor_of(body)
            open_modal = (
                approvals.open_post_page
                if action.get("action_id") == REVIEW_ACTION
                else approvals.open_reject
            )
            refused = await open_modal(
                actor.team_id,
                str(action.get("value") or ""),
                actor.user_id,
                str(body.get("trigger_id") or ""),
            )
            if refused is not None:
                await replies.send(response_url_of(body), actor, refused)

    @app.action(OPEN_POST_PAGE_ACTION)
    @app.action(WATCH_VIDEO_ACTION)
    async def link_clicked(ack: AsyncAck) -> None:
        await ack()  # a URL button: the browser does the rest

    @app.view(APPROVE_VIEW)
    async def approve_submitted(ack: AsyncAck, body: dict, view: dict) -> None:
        meta = read_metadata(view)
        facts = post_choices.facts_from_metadata(meta)
        duration = meta.get("v")
        choices, problems = post_choices.check(read_form(view), facts, duration)
        if choices is None:
            errors = post_page.errors_for(problems, duration, facts.max_duration_s)
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        async with work.working():
            actor = _view_actor(body)
            upload_key = str(meta.get("k") or "")
            answer = await approvals.approve(
                actor.team_id, upload_key, actor.user_id, choices, "modal"
            )
            await replies.send("", actor, answer)

    @app.view(REJECT_VIEW)
    async def reject_submitted(ack: AsyncAck, body: dict, view: dict) -> None:
        state = view.get("state") if isinstance(view.get("state"), dict) else {}
        values = state.get("values") if isinstance(state.get("values"), dict) else {}
        reason = _text(values, REASON_FIELD).strip()
        problem = "reason_missing" if not reason else ""
        if len(reason) > post_page.MAX_REASON:
            problem = "reason_too_long"
        if problem:
            await ack(
                response_action="errors", errors=post_page.errors_for({REASON_FIELD: problem})
            )
            return
        await ack()
        async with work.working():
            actor = _view_actor(body)
            upload_key = view.get("private_metadata")
            answer = await approvals.reject(
                actor.team_id, str(upload_key or "")[:200], actor.user_id, reason
            )
            await replies.send("", actor, answer)

    @app.view(re.compile(".*"))
    async def stale_modal(ack: AsyncAck) -> None:
        await ack()  # a modal we no longer know: it closes quietly, nothing changes
