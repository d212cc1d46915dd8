"""TikTok: the API client, TikTok's rules and the explanation catalog.

`client` speaks the Content Posting and OAuth APIs and returns typed results (it knows nothing
of Slack or the database); `rules` says which states are final and which codes are worth a
retry; `catalog` (with `catalog.toml`) holds every code's plain words; `restrictions` checks
TikTok's media limits; `ids` says what a publish_id looks like. Imports nothing from the rest
of the bot (its own modules and the shared ones at the top of `bot/` aside) and never `storage`.
"""
