"""The HTML pages of Add to Slack (many workspaces): the install page, installed, and why an
install didn't happen. The same shell, style and headers as the TikTok consent pages
(`oauth_pages`); everything shown is escaped with `html.escape`; nothing loads from elsewhere.

Links back to the install page are relative (`install`, beside `oauth_redirect` under
`/slack/`), so they work behind a path prefix too.
"""

from __future__ import annotations

import html

from bot.interactions import COMMAND
from handlers.web.oauth_pages import STYLE, page

START_AGAIN = "install"  # /slack/install, relative to /slack/install and /slack/oauth_redirect
INSTALL_STYLE = STYLE + (
    "a.add{display:inline-block;font-weight:600;padding:.6rem 1.2rem;border-radius:6px;"
    "background:#4a154b;color:#fff;text-decoration:none}"
)

# Why an install didn't happen: (HTTP status, title, what happened and what to do). The keys
# are Bolt's failure reasons, Slack's `error` values, and ours (`org_install`, `not_saved`).
PROBLEMS = {
    "access_denied": (
        200,
        "tiktok-cancel wasn't added",
        "You chose not to add it on Slack's page, so nothing was installed.",
    ),
    "invalid_browser": (
        400,
        "This install didn't start in this browser",
        "For safety, an install has to finish in the browser that started it, within 10 "
        "minutes. Nothing was installed.",
    ),
    "invalid_state": (
        400,
        "This install link was already used or has expired",
        "Each install link works once, for 10 minutes. Nothing new was installed.",
    ),
    "missing_code": (
        400,
        "Slack didn't finish the install",
        "Slack sent the browser back without its go-ahead. Nothing was installed.",
    ),
    "invalid_code": (
        400,
        "Slack didn't finish the install",
        "Slack didn't accept this install's go-ahead (it works once, for a few minutes). "
        "Nothing was installed.",
    ),
    "org_install": (
        403,
        "Org-wide installs aren't supported yet",
        "tiktok-cancel is added to one workspace at a time, not to a whole Enterprise Grid "
        "organization. Nothing was installed, and the access Slack just granted was given "
        "back. Add it to each workspace instead: pick one workspace on Slack's page.",
    ),
    "not_saved": (
        503,
        "The install couldn't be saved",
        "Slack agreed, but tiktok-cancel couldn't record the install just now, so nothing "
        "was installed.",
    ),
}


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _again(words: str = "Start again") -> str:
    return f'<p><a class=add href="{_e(START_AGAIN)}">{_e(words)}</a></p>'


def install_page(authorize_url: str) -> str:
    """The Add to Slack page: one link, to Slack's consent page."""
    inner = (
        "<p>tiktok-cancel lets your team stop TikTok uploads from Slack, with every outcome "
        "explained. Adding it to a workspace takes you to Slack, which asks you to allow it "
        "and to pick the workspace.</p>"
        f'<p><a class=add href="{_e(authorize_url)}">Add to Slack</a></p>'
        "<p><small>This page's link works once, in this browser, for 10 minutes.</small></p>"
    )
    return page("Add tiktok-cancel to Slack", inner, INSTALL_STYLE)


def installed_page(team_name: str) -> str:
    where = f"the workspace {team_name}" if team_name else "your workspace"
    inner = (
        f"<p>tiktok-cancel is now in {_e(where)}.</p>"
        f"<p>Next, in Slack: type <code>{_e(COMMAND)} help</code> in any channel to see "
        f"what it does, and <code>{_e(COMMAND)} connect</code> to link your TikTok account. "
        f"Workspace admins choose the bot's admins and audit channel with "
        f"<code>{_e(COMMAND)} settings</code>.</p>"
        "<p>You can close this tab.</p>"
    )
    return page(f"Added to {team_name}" if team_name else "Added to Slack", inner, INSTALL_STYLE)


def problem(reason: str) -> tuple[int, str]:
    """(status, page) for why an install didn't happen; a reason we don't know is shown as
    Slack's words, shortened."""
    if reason in PROBLEMS:
        status, title, body = PROBLEMS[reason]
    else:
        status, title = 400, "Slack didn't finish the install"
        body = f"Nothing was installed. (Slack said: {reason[:60]})"
    return status, page(title, f"<p>{_e(body)}</p>{_again()}", INSTALL_STYLE)
