"""What a person asks of the bot in Slack: the `/tiktok-cancel` command's text, parsed into a
typed command (`parser`) and routed to the one function per subcommand (`router`); the buttons
a person clicks, the button's door to the same cancel, and where a click's answer goes
(`buttons`); and the App Home tab (`home`), built from the same use cases.

May import `bot.uploads`, `bot.accounts`, `bot.tiktok`, `bot.slack`, `bot.messages`, the shared
modules at the top of `bot/` and `storage`; never `handlers` or `sandbox`.
"""
