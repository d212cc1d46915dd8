"""`GET /tiktok/oauth/callback`: TikTok sends the browser back after consent. Nothing is linked
yet: the page names who is being linked to which TikTok account and asks to confirm. With many
workspaces it asks first to Sign in with Slack as that person (`bot.accounts.slack_signin`),
binding the sign-in to this browser with a cookie; only Don't link works before that."""

from __future__ import annotations

from aiohttp import web

from bot.accounts.linking import LinkingService
from bot.accounts.slack_signin import SignInStart, SlackSignIn
from bot.slack import names as slack_names
from bot.slack.output import SlackOut
from handlers.web import oauth_pages
from handlers.web.oauth_pages import page_response


async def what_would_link(slack: SlackOut, pending, tiktok_name: str, open_id: str) -> dict:
    """What the pages say would be linked: the Slack user and workspace by the names Slack
    gives (`pending` is the link's `PendingLink`), the TikTok account."""
    return {
        "kind": pending.kind,
        "slack_user": await slack_names.person(slack, pending.team_id, pending.user_id),
        "workspace": await slack_names.workspace_label(slack, pending.team_id),
        "tiktok_name": tiktok_name,
        "open_id": open_id,
        "team_account": pending.owner if pending.kind == "team" else "",
    }


def with_sign_in_cookie(response: web.Response, start: SignInStart) -> web.Response:
    """The cookie that binds a sign-in to this browser."""
    response.set_cookie(
        start.cookie_name,
        start.cookie_value,
        max_age=start.max_age,
        path="/",
        secure=start.secure,
        httponly=True,
        samesite="Lax",
    )
    return response


def register(
    web_app: web.Application, *, linking: LinkingService, slack: SlackOut, signin: SlackSignIn
) -> None:
    async def oauth_callback(request: web.Request) -> web.Response:
        query = request.query
        state = query.get("state", "")
        result = await linking.complete(state, query.get("code", ""), query.get("error", ""))
        if result.code != "confirm" or result.pending is None:
            return page_response(oauth_pages.link_failed_page(result.code), 400)
        what = await what_would_link(slack, result.pending, result.display_name, result.open_id)
        if not signin.enabled:
            page = oauth_pages.confirm_page(**what, state=state, token=result.confirm_token)
            return page_response(page)
        start = await signin.begin(state, result.pending)
        if start is None:  # the page no longer waits (declined or expired meanwhile)
            return page_response(oauth_pages.link_failed_page("state_expired"), 400)
        page = oauth_pages.sign_in_page(
            **what,
            sign_in_url=start.url,
            state=state,
            token=result.confirm_token,
            minutes=start.minutes_left,
        )
        return with_sign_in_cookie(page_response(page), start)

    web_app.router.add_get("/tiktok/oauth/callback", oauth_callback)
