"""tiktok-cancel: a Slack bot that cancels TikTok pull-from-URL uploads and explains why.

The product, grouped by capability: `commands/` (what a person asks: the command's text, the
buttons, App Home), `uploads/` (cancel, status, announce, hold, follow), `accounts/` (links,
tokens, team accounts), `slack/` and `tiktok/` (talking to each), `messages/` (every message,
plain dicts), `ops/` (operator tools behind the CLI). The modules at the top are shared by all
of them (settings, logs, actor, outcome, claims, background work, metrics and the /metrics
page) and import no room; `app.py`
and `__main__.py` are the composition root, the only modules that import `handlers` or
`sandbox`. Never imports `handlers` otherwise; tests/test_import_directions.py holds the rules.
"""

__version__ = "0.1.0"
