"""The OAuth callback's HTML pages (what a browser shows after TikTok's consent page)."""

from __future__ import annotations

import html

from bot.catalog import explain
from bot.messages.blocks import CMD
from bot.messages.outcomes import fill

PAGE_PROBLEMS = {
    "state_unknown": (
        "This link isn't one we made",
        "It may have been copied incompletely, or made by another bot. Nothing was linked.",
    ),
    "state_used": (
        "This link was already used",
        "Each link works once. Nothing new was linked.",
    ),
    "state_expired": (
        "This link has expired",
        "Links work for 10 minutes. Nothing was linked.",
    ),
    "access_denied": (
        "TikTok access wasn't allowed",
        "You chose not to let tiktok-cancel act for your TikTok account, so nothing was linked.",
    ),
}


def oauth_page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)} \u2014 tiktok-cancel</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
        "padding:0 1rem;color:#1d1c1d}h1{font-size:1.4rem}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>"
    )


def linked_page(display_name: str) -> str:
    return oauth_page(
        f"Linked as {display_name}",
        "tiktok-cancel can now cancel uploads for this TikTok account. "
        "You can close this tab and go back to Slack.",
    )


def link_failed_page(code_: str) -> str:
    again = f"Go back to Slack and type {CMD} connect to get a fresh link."
    if code_ in PAGE_PROBLEMS:
        title, body = PAGE_PROBLEMS[code_]
        return oauth_page(title, f"{body} {again}")
    entry = explain(code_)
    what = fill(entry.what, "-")
    return oauth_page(
        "TikTok didn't complete the link",
        f"{strip_mrkdwn(what)} Nothing was linked. {again} (TikTok said: {code_[:60]})",
    )


def strip_mrkdwn(text: str) -> str:
    return text.replace("`", "").replace("*", "")
