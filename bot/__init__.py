"""tiktok-cancel: a Slack bot that cancels TikTok pull-from-URL uploads and explains why."""

__version__ = "0.1.0"
