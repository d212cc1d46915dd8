"""The bot's own HTTP server: one module per route (`health`, `oauth_callback`, `oauth_confirm`,
`notifications`, `uploads`, `approve_page`, `webhooks`, `slack_events`, `metrics` (also
METRICS_PORT's own server), and with many
workspaces `slack_install`, Add to Slack, and `slack_signin`, the link confirm page's Sign in
with Slack), mounted by `routes.register`; the upload pipeline's
request parser they share (`pipeline_request`); the HTML pages around TikTok's consent
(`oauth_pages`), of Add to Slack (`install_pages`) and of the web post page (`approve_pages`);
the guards that run before any route (`http_guard`, `slack_request_check`). May import `bot`,
aiohttp, slack_bolt's aiohttp adapter and its OAuth flow's request and answer types; never
`storage`, `handlers.slack` or `sandbox`. Re-exports nothing.
"""
