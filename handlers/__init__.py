"""Handlers: the bot's doors. `slack/` holds the Slack listeners (the slash command, button
clicks, events), one `register(app, …)` per kind; `web/` holds the bot's own HTTP routes, one
module per route, mounted by `web.routes.register`, with the HTML pages they serve and the
guards that run before them. Each handler parses the request, calls one use case and renders
the answer. May import `bot`, never `storage` (the use cases own the database); only the
composition root (`bot/app.py`) imports this package, and nothing here imports `sandbox`.
This `__init__` re-exports nothing.
"""
