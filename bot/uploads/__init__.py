"""Uploads: what the bot does to a TikTok upload.

The one cancel (command and button), a status check, announcements with their Cancel button,
held uploads the bot starts itself when their window closes, following an upload to its end
(TikTok webhooks, and polling as a backstop), what is in flight, and what the upload
pipeline's credential may post. May import `bot.accounts`, `bot.tiktok`, `bot.slack`,
`bot.messages`, the shared modules at the top of `bot/` and `storage`; never `handlers` or
`sandbox`.
"""
