"""Slack listeners and HTTP routes: parse the request, call one function, render the answer."""

from handlers.slack_actions import register_actions
from handlers.slack_command import register_command
from handlers.slack_events import register_events
from handlers.web_routes import add_routes

__all__ = ["add_routes", "register_actions", "register_command", "register_events"]
