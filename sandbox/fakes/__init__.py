"""Loopback fakes of Slack and TikTok for tests and the sandbox.

Each fake is a small aiohttp server on 127.0.0.1 speaking the real wire format:

- `FakeTikTok`: OAuth v2 token/revoke, user info, publish cancel and status fetch.
- `FakeSlack`: Web API methods, response_url endpoints and a Socket Mode websocket; modals
  (`views.open` with the trigger ids it issues, `views.update`) and user groups; several
  workspaces, each answered by its own bot token (`slack_workspaces`, `slack_tokens`), with
  wrong-team calls caught (`slack_calls`); "Add to Slack" (OAuth v2, token rotation) and Sign
  in with Slack (`slack_oauth`).
- `Reply`: a scripted answer (status, body, delay, hang, connection reset).

Signed requests to the bot (HTTP mode) are built in `sandbox.fakes.slack_requests`;
`sandbox.fakes.driver` sends them for a person (filling in a modal with
`sandbox.fakes.view_values`), from any workspace, and links their TikTok account through the
bot's real OAuth round trip, as their browser would; it also installs the app and signs in
with Slack as a browser (`sandbox.fakes.browser`, cookies kept by hand).
`sandbox.fakes.ports.free_port` names a port for a server that must know it before it starts
(safe under pytest-xdist).
"""

from .server import Reply
from .slack import FakeSlack
from .tiktok import FakeTikTok

__all__ = ["FakeSlack", "FakeTikTok", "Reply"]
