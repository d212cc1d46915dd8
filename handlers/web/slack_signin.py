"""`GET /slack/signin` (many workspaces): Slack sends the browser back after Sign in with Slack,
with `code` and `state` (or `error`). The confirm form is shown only when Slack says this
browser is the Slack user the link is for (`bot.accounts.slack_signin`); anyone else is told who
they are signed in as and whom the link is for, and nothing is linked. Not mounted with one
workspace: the path then answers 404."""

from __future__ import annotations

from aiohttp import web

from bot.accounts.slack_signin import SIGNIN_PATH, SlackSignIn
from bot.slack import names as slack_names
from bot.slack.output import SlackOut
from handlers.web import oauth_pages
from handlers.web.oauth_callback import what_would_link, with_sign_in_cookie
from handlers.web.oauth_pages import page_response


async def _signed_in_as(slack: SlackOut, link_team: str, team_id: str, user_id: str) -> str:
    """Whom Slack signed in, named as the page names people: by users.info in the link's own
    workspace; in another workspace by the IDs Slack gave (no other workspace is asked)."""
    if team_id != link_team:
        return f"user ID {user_id} of another Slack workspace ({team_id})"
    return oauth_pages.strong_name(await slack_names.person(slack, team_id, user_id))


def register(web_app: web.Application, *, signin: SlackSignIn, slack: SlackOut) -> None:
    async def slack_signin(request: web.Request) -> web.Response:
        query = request.query
        result = await signin.finish(
            query.get("state", ""), query.get("code", ""), query.get("error", ""), request.cookies
        )
        wait = result.wait
        if result.code == "confirm" and wait is not None:
            what = await what_would_link(slack, wait.pending, wait.display_name, wait.open_id)
            page = oauth_pages.signed_in_confirm_page(
                **what,
                state=result.form_state,
                token=result.confirm_token,
                minutes=result.minutes_left,
            )
            return page_response(page)
        if result.code == "someone_else" and wait is not None and result.signed_in is not None:
            pending, who = wait.pending, result.signed_in
            link_for = await slack_names.person(slack, pending.team_id, pending.user_id)
            page = oauth_pages.someone_else_page(
                signed_in_as=await _signed_in_as(slack, pending.team_id, who.team_id, who.user_id),
                link_for=oauth_pages.strong_name(link_for),
            )
            return page_response(page, 403)
        if result.code.startswith("state_"):
            return page_response(oauth_pages.link_failed_page(result.code), 400)
        again = result.again
        page = oauth_pages.sign_in_problem_page(
            result.code,
            result.detail,
            again.url if again is not None else "",
            again.minutes_left if again is not None else 0,
        )
        response = page_response(page, 400)
        return with_sign_in_cookie(response, again) if again is not None else response

    web_app.router.add_get(SIGNIN_PATH, slack_signin, allow_head=False)
