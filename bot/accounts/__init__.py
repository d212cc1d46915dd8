"""Accounts: who acts on TikTok for a Slack user.

Linking a person's TikTok account (OAuth: start, callback, confirm, disconnect; with many
workspaces the confirm page's Sign in with Slack, `slack_signin`), keeping its
tokens usable (refresh ahead of expiry, once across replicas), team accounts and their grants,
which link acts for a request, telling people when TikTok removed a link, and pruning tokens
parked on an unconfirmed page. Also the workspaces served, their own settings (`settings …`:
admins, audit channel) and the pipeline credentials that decide a pipeline request's
workspace. May import `bot.tiktok`, `bot.slack`, `bot.messages`, the
shared modules at the top of `bot/` and `storage`; never `bot.uploads`, `handlers` or `sandbox`.
"""
