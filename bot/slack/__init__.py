"""Slack: talking to Slack and reading it.

Replies through `response_url`, audit and thread posts, DMs (`output`); the names people
recognise (`names`); which announced uploads a person may see (`visibility`); the bot scopes the
app asks for (`scopes`). May import `bot.tiktok`, `bot.messages`,
the shared modules at the top of `bot/` and `storage`; never `bot.uploads`, `bot.accounts`,
`handlers` or `sandbox`.
"""
