"""The HTML pages a person's browser sees around TikTok's consent: the confirm page (nothing is
linked until its form is posted), linked, declined, and why a link was refused.

Everything shown is escaped with `html.escape`; the pages load nothing from elsewhere.
"""

from __future__ import annotations

import html

from bot.catalog import explain
from bot.messages import fill

CMD = "/tiktok-cancel"
CONFIRM_PATH = "confirm"  # relative to /tiktok/oauth/callback, so it works behind a path prefix

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

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;"
    "color:#1d1c1d}h1{font-size:1.4rem}dl{display:grid;grid-template-columns:auto 1fr;"
    "gap:.3rem 1rem}dt{font-weight:600}dd{margin:0}button{font:inherit;padding:.5rem 1rem;"
    "margin:.5rem .5rem 0 0;border-radius:6px;border:1px solid #888;cursor:pointer}"
    "button.link{background:#007a5a;color:#fff;border-color:#007a5a}.warn{color:#8a4b00}"
)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def page(title: str, inner: str) -> str:
    """A whole page; `inner` must already be escaped HTML."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<meta name=referrer content=no-referrer>"
        f"<title>{_e(title)} \u2014 tiktok-cancel</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>{inner}</body></html>"
    )


def oauth_page(title: str, body: str) -> str:
    return page(title, f"<p>{_e(body)}</p>")


def linked_page(display_name: str) -> str:
    return oauth_page(
        f"Linked as {display_name}",
        "tiktok-cancel can now cancel uploads for this TikTok account. "
        "You can close this tab and go back to Slack.",
    )


def declined_page(display_name: str) -> str:
    name = display_name or "this TikTok account"
    return oauth_page(
        "Nothing was linked",
        f"{name} was not linked, and we asked TikTok to forget the access it just gave. "
        "You can close this tab.",
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


def confirm_page(
    *,
    kind: str,
    slack_user: str,
    workspace: str,
    tiktok_name: str,
    open_id: str,
    team_account: str,
    state: str,
    token: str,
) -> str:
    """Nothing is linked yet: say exactly what would be, and link only on the POST."""
    if kind == "team":
        title = "Link this TikTok account as a team account?"
        lead = (
            f"<p>Link the TikTok account <b>{_e(tiktok_name)}</b> as the team account "
            f"<b>{_e(team_account)}</b> in the Slack workspace <b>{_e(workspace)}</b>?</p>"
            f"<p>The admin <b>{_e(slack_user)}</b> asked for this. Everyone the admins grant "
            "it to will be able to cancel this TikTok account's uploads from Slack.</p>"
        )
        rows = [
            ("TikTok account", f"{tiktok_name} ({open_id})"),
            ("Team account", team_account),
            ("Asked by (admin)", slack_user),
            ("Slack workspace", workspace),
        ]
    else:
        title = "Link this TikTok account to this Slack account?"
        lead = (
            f"<p>Link the TikTok account <b>{_e(tiktok_name)}</b> to the Slack account "
            f"<b>{_e(slack_user)}</b> in the workspace <b>{_e(workspace)}</b>?</p>"
            f"<p>Then {_e(slack_user)} can cancel this TikTok account's uploads from Slack.</p>"
        )
        rows = [
            ("TikTok account", f"{tiktok_name} ({open_id})"),
            ("Slack account", slack_user),
            ("Slack workspace", workspace),
        ]
    details = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    warning = (
        "<p class=warn>If that isn't you, or you didn't ask for this in Slack yourself, choose "
        "<b>Don't link</b>: someone may have sent you their own link.</p>"
    )
    form = (
        f'<form method=post action="{_e(CONFIRM_PATH)}">'
        f'<input type=hidden name=state value="{_e(state)}">'
        f'<input type=hidden name=confirm value="{_e(token)}">'
        "<button class=link type=submit name=choice value=link>Link it</button>"
        "<button type=submit name=choice value=decline>Don't link</button></form>"
        "<p><small>This page works once, for 10 minutes. Nothing is linked until you choose."
        "</small></p>"
    )
    return page(title, f"{lead}<dl>{details}</dl>{warning}{form}")
