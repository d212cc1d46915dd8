"""The HTML pages a person's browser sees around TikTok's consent: the confirm page (nothing is
linked until its form is posted), linked, declined, and why a link was refused. With many
workspaces also the Sign in with Slack page that comes before the confirm page, the page for
someone signed in as another person, and why a sign-in didn't complete.

Everything shown is escaped with `html.escape`; the pages load nothing from elsewhere.
"""

from __future__ import annotations

import html

from aiohttp import web

from bot.interactions import COMMAND
from bot.messages import fill
from bot.slack.names import SlackPerson
from bot.tiktok.catalog import explain

CONFIRM_PATH = "confirm"  # relative to /tiktok/oauth/callback, so it works behind a path prefix
SIGNED_IN_CONFIRM_PATH = "../tiktok/oauth/confirm"  # the same, from /slack/signin

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
    "state_not_signed_in": (
        "Sign in with Slack first",
        "A link is confirmed only after signing in with Slack, on the link page, as the "
        "person it is for. Nothing was linked.",
    ),
}

# Sign in with Slack (many workspaces) that didn't complete: (title, what happened).
SIGN_IN_PROBLEMS = {
    "other_browser": (
        "Finish in the browser that opened the link",
        "Sign in with Slack has to finish in the browser that showed the link page, and this "
        "one didn't (or its cookies were cleared). Nothing was linked.",
    ),
    "access_denied": (
        "You didn't sign in with Slack",
        "Slack says the sign-in was cancelled, so nothing was linked.",
    ),
    "slack_refused": (
        "Slack didn't complete the sign-in",
        "Nothing was linked.",
    ),
    "slack_failed": (
        "Slack couldn't tell us who signed in",
        "Slack refused or failed the sign-in, so nothing was linked.",
    ),
    "slack_timeout": (
        "Slack didn't answer in time",
        "We couldn't learn from Slack who signed in, so nothing was linked.",
    ),
}

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;"
    "color:#1d1c1d}h1{font-size:1.4rem}dl{display:grid;grid-template-columns:auto 1fr;"
    "gap:.3rem 1rem}dt{font-weight:600}dd{margin:0}button{font:inherit;padding:.5rem 1rem;"
    "margin:.5rem .5rem 0 0;border-radius:6px;border:1px solid #888;cursor:pointer}"
    "button.link{background:#007a5a;color:#fff;border-color:#007a5a}.warn{color:#8a4b00}"
)
SIGN_IN_STYLE = STYLE + (
    "a.signin{display:inline-block;padding:.5rem 1rem;margin:.5rem 0;border-radius:6px;"
    "background:#4a154b;color:#fff;text-decoration:none;font-weight:600}"
)


HTML = "text/html"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def page_response(text: str, status: int = 200) -> web.Response:
    """An OAuth page: never cached, never framed (so its button can't be clickjacked)."""
    return web.Response(status=status, text=text, content_type=HTML, headers=PAGE_HEADERS)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def page(title: str, inner: str, style: str = STYLE) -> str:
    """A whole page; `inner` must already be escaped HTML."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<meta name=referrer content=no-referrer>"
        f"<title>{_e(title)} \u2014 tiktok-cancel</title>"
        f"<style>{style}</style></head><body>"
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


FRESH_LINK = f"Go back to Slack and type {COMMAND} connect to get a fresh link."


def link_failed_page(code_: str) -> str:
    again = FRESH_LINK
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


SELF_CHOSEN = "self-chosen: anyone can call themselves this"
UNIQUE = "no one else in this workspace has it"


def person_rows(who: SlackPerson, role: str) -> list[tuple[str, str, str]]:
    """(what, value, who chose it) for a Slack user: what they can't set alone first."""
    rows = [(f"{role}: user ID", who.user_id, "set by Slack; " + UNIQUE)]
    if who.handle:
        rows.append((f"{role}: handle", "@" + who.handle, UNIQUE))
    if who.email:
        rows.append((f"{role}: email", who.email, UNIQUE))
    if who.real_name:
        rows.append((f"{role}: real name", who.real_name, SELF_CHOSEN))
    if who.display_name:
        rows.append((f"{role}: display name", who.display_name, SELF_CHOSEN))
    return rows


def unique_words(who: SlackPerson) -> str:
    """The things shown that no one else in the workspace has, as a phrase."""
    shown = ["user ID", *(["handle"] if who.handle else []), *(["email"] if who.email else [])]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def strong_name(who: SlackPerson) -> str:
    """How the page's question names the Slack user: by what no one else has."""
    if who.handle:
        return f"@{who.handle} (user ID {who.user_id})"
    return f"user ID {who.user_id}"


def _what_would_link(
    kind: str,
    slack_user: SlackPerson,
    workspace: str,
    tiktok_name: str,
    open_id: str,
    team_account: str,
) -> tuple[str, str, str]:
    """(the confirm page's title, its question, the details) of what would be linked."""
    who = strong_name(slack_user)
    if kind == "team":
        title = "Link this TikTok account as a team account?"
        lead = (
            f"<p>Link the TikTok account <b>{_e(tiktok_name)}</b> as the team account "
            f"<b>{_e(team_account)}</b> in the Slack workspace <b>{_e(workspace)}</b>?</p>"
            f"<p>The admin <b>{_e(who)}</b> asked for this. Everyone the admins grant "
            "it to will be able to cancel this TikTok account's uploads from Slack.</p>"
        )
        rows = [
            ("TikTok account", f"{tiktok_name} ({open_id})", ""),
            ("Team account", team_account, ""),
            *person_rows(slack_user, "Asked by (admin)"),
            ("Slack workspace", workspace, "its ID is set by Slack"),
        ]
    else:
        title = "Link this TikTok account to this Slack account?"
        lead = (
            f"<p>Link the TikTok account <b>{_e(tiktok_name)}</b> to the Slack account "
            f"<b>{_e(who)}</b> in the workspace <b>{_e(workspace)}</b>?</p>"
            f"<p>Then that Slack account can cancel this TikTok account's uploads from Slack.</p>"
        )
        rows = [
            ("TikTok account", f"{tiktok_name} ({open_id})", ""),
            *person_rows(slack_user, "Slack account"),
            ("Slack workspace", workspace, "its ID is set by Slack"),
        ]
    details = "".join(
        f"<dt>{_e(k)}</dt><dd>{_e(v)}" + (f" <small>({_e(note)})</small>" if note else "") + "</dd>"
        for k, v, note in rows
    )
    return title, lead, f"<dl>{details}</dl>"


def _hidden(state: str, token: str) -> str:
    return (
        f'<input type=hidden name=state value="{_e(state)}">'
        f'<input type=hidden name=confirm value="{_e(token)}">'
    )


WARNING = (
    "<p class=warn>If that isn't you, or you didn't ask for this in Slack yourself, choose "
    "<b>Don't link</b>: someone may have sent you their own link.</p>"
)
ONE_PAGE = "This page works once, for 10 minutes."


def confirm_page(
    *,
    kind: str,
    slack_user: SlackPerson,
    workspace: str,
    tiktok_name: str,
    open_id: str,
    team_account: str,
    state: str,
    token: str,
    action: str = CONFIRM_PATH,
    lifetime: str = ONE_PAGE,
) -> str:
    """Nothing is linked yet: say exactly what would be, and link only on the POST.

    The Slack user is named by their user ID, handle and email (no one else in the workspace
    has them) before their real and display names, which anyone can copy; the page says which
    is which. `action` is where the form posts (relative to the page); `lifetime` how long the
    page works."""
    title, lead, details = _what_would_link(
        kind, slack_user, workspace, tiktok_name, open_id, team_account
    )
    check = (
        f"<p>Check the {_e(unique_words(slack_user))}: no one else in the workspace can have "
        "them. A real name or display name proves nothing: anyone can choose someone "
        "else's.</p>"
    )
    form = (
        f'<form method=post action="{_e(action)}">'
        + _hidden(state, token)
        + "<button class=link type=submit name=choice value=link>Link it</button>"
        "<button type=submit name=choice value=decline>Don't link</button></form>"
        f"<p><small>{_e(lifetime)} Nothing is linked until you choose."
        "</small></p>"
    )
    return page(title, f"{lead}{details}{check}{WARNING}{form}")


def minutes_left(minutes: int) -> str:
    """How long a page still works, for its small print."""
    unit = "minute" if minutes == 1 else "minutes"
    return f"This page works once, for {minutes} more {unit}."


def signed_in_confirm_page(*, minutes: int, **what) -> str:
    """The confirm page after Sign in with Slack said it is the link's own person."""
    return confirm_page(**what, action=SIGNED_IN_CONFIRM_PATH, lifetime=minutes_left(minutes))


def _sign_in_button(url: str, label: str) -> str:
    return f'<p><a class=signin href="{_e(url)}">{_e(label)}</a></p>'


def sign_in_page(
    *,
    kind: str,
    slack_user: SlackPerson,
    workspace: str,
    tiktok_name: str,
    open_id: str,
    team_account: str,
    sign_in_url: str,
    state: str,
    token: str,
    minutes: int,
) -> str:
    """Many workspaces: before the confirm form, Sign in with Slack as the link's person. Only
    Don't link works without it."""
    _, _, details = _what_would_link(
        kind, slack_user, workspace, tiktok_name, open_id, team_account
    )
    who = strong_name(slack_user)
    if kind == "team":
        lead = (
            f"<p>The TikTok account <b>{_e(tiktok_name)}</b> would be linked as the team "
            f"account <b>{_e(team_account)}</b> in the Slack workspace <b>{_e(workspace)}</b>, "
            f"as the admin <b>{_e(who)}</b> asked.</p>"
        )
    else:
        lead = (
            f"<p>The TikTok account <b>{_e(tiktok_name)}</b> would be linked to the Slack "
            f"account <b>{_e(who)}</b> in the workspace <b>{_e(workspace)}</b>.</p>"
        )
    ask = (
        f"<p>First sign in with Slack as <b>{_e(who)}</b>, so we know this browser is "
        "theirs. Then you choose whether to link it.</p>"
    )
    decline = (
        f'<form method=post action="{_e(CONFIRM_PATH)}">'
        + _hidden(state, token)
        + "<button type=submit name=choice value=decline>Don't link</button></form>"
        f"<p><small>{_e(minutes_left(minutes))} Nothing is linked until you sign in and "
        "choose.</small></p>"
    )
    title = "Sign in with Slack to link this TikTok account"
    inner = f"{lead}{details}{ask}{_sign_in_button(sign_in_url, 'Sign in with Slack')}"
    return page(title, f"{inner}{WARNING}{decline}", SIGN_IN_STYLE)


def someone_else_page(*, signed_in_as: str, link_for: str) -> str:
    """Slack says this browser is someone other than the person the link is for."""
    return oauth_page(
        "This link is for someone else",
        f"You're signed in to Slack as {signed_in_as}; this link is for {link_for}. "
        f"Nothing was linked. If someone sent you this link, ask in Slack for your own with "
        f"{COMMAND} connect. If you are {link_for}, sign in to Slack as them in this browser "
        "and get a fresh link. The access TikTok gave for this link is given back once it "
        "expires.",
    )


def sign_in_problem_page(code_: str, detail: str, again_url: str, minutes: int) -> str:
    """A Sign in with Slack that didn't complete: what happened and what to do now."""
    title, body = SIGN_IN_PROBLEMS.get(code_, SIGN_IN_PROBLEMS["slack_failed"])
    said = f" (Slack said: {detail[:60]})" if detail and code_ != "slack_timeout" else ""
    text = f"<p>{_e(body + said)}</p>"
    if again_url:
        text += (
            "<p>You can try again: nothing else is needed.</p>"
            + _sign_in_button(again_url, "Sign in with Slack again")
            + f"<p><small>{_e(minutes_left(minutes))}</small></p>"
        )
    else:
        text += f"<p>{_e(FRESH_LINK)}</p>"
    return page(title, text, SIGN_IN_STYLE)
