"""Slack listeners, one module per kind, each with one `register(app, …)` given only the use
cases its listeners call: `commands` (the slash command), `actions` (buttons), `events` (the
App Home); `socket_mode` is Bolt's Socket Mode handler, timed for /metrics. Every listener
acknowledges Slack first, then works inside `work.working()` so shutdown waits for its answer.
May import `bot` (the use cases, `bot.interactions`, `bot.actor`) and slack_bolt; never
`handlers.web` or `sandbox`. Re-exports nothing.
"""
