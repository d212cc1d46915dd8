"""The bot scopes the Slack app needs: what manifest.yml asks for (a test keeps the two the
same; what each is for is written there). `check` compares a token's scopes with them, and
the Slack stand-in grants them by default, as a workspace installed from the manifest would."""

BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "users:read.email",
    "channels:read",
    "groups:read",
    "mpim:read",
    "im:read",
    "usergroups:read",
)
