"""`GET /tiktok/oauth/callback`: TikTok sends the browser back after consent. Nothing is linked
yet: the page names who is being linked to which TikTok account and asks to confirm."""

from __future__ import annotations

from aiohttp import web

from bot.accounts.linking import LinkingService
from bot.slack import names as slack_names
from bot.slack.output import SlackOut
from handlers.web import oauth_pages
from handlers.web.oauth_pages import page_response


def register(web_app: web.Application, *, linking: LinkingService, slack: SlackOut) -> None:
    async def oauth_callback(request: web.Request) -> web.Response:
        query = request.query
        result = await linking.complete(
            query.get("state", ""), query.get("code", ""), query.get("error", "")
        )
        if result.code != "confirm" or result.pending is None:
            return page_response(oauth_pages.link_failed_page(result.code), 400)
        pending = result.pending
        page = oauth_pages.confirm_page(
            kind=pending.kind,
            slack_user=await slack_names.person(slack, pending.team_id, pending.user_id),
            workspace=await slack_names.workspace_label(slack, pending.team_id),
            tiktok_name=result.display_name,
            open_id=result.open_id,
            team_account=pending.owner if pending.kind == "team" else "",
            state=query.get("state", ""),
            token=result.confirm_token,
        )
        return page_response(page)

    web_app.router.add_get("/tiktok/oauth/callback", oauth_callback)
