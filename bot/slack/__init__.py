"""Slack: talking to Slack and reading it.

Replies through `response_url`, audit and thread posts, DMs (`output`); the names people
recognise (`names`); which announced uploads a person may see (`visibility`); the bot scopes the
app asks for (`scopes`); with many workspaces, Add to Slack (`install_flow`, over Bolt's stores
`installation_store`), rotating a workspace's bot token (`bot_tokens`) and Sign in with Slack
(`sign_in`: who signed in, by OpenID Connect); every Web API call counted for /metrics
(`metered`). May import
`bot.tiktok`, `bot.messages`, the shared modules at the top of `bot/` and `storage`; never
`bot.uploads`, `bot.accounts`, `handlers` or `sandbox`.
"""
