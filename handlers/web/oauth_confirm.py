"""`POST /tiktok/oauth/confirm`: the confirm page's form. Link (then tell the person in Slack
which account is linked) or decline; a page says which happened."""

from __future__ import annotations

from urllib.parse import parse_qs

from aiohttp import web

from bot.accounts.link_notices import LinkNotices
from bot.accounts.linking import LinkingService
from handlers.web import oauth_pages
from handlers.web.oauth_pages import page_response

MAX_CONFIRM_BYTES = 4 * 1024  # the confirm page's form is a few hundred bytes


def _field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def register(web_app: web.Application, *, linking: LinkingService, notices: LinkNotices) -> None:
    async def oauth_confirm(request: web.Request) -> web.Response:
        raw = await request.read()  # handlers.web.http_guard already refused anything over 16 KiB
        if len(raw) > MAX_CONFIRM_BYTES:
            return page_response(oauth_pages.link_failed_page("state_unknown"), 413)
        try:
            form = parse_qs(raw.decode("utf-8", errors="replace"), max_num_fields=10)
        except ValueError:  # more fields than the page's form has
            return page_response(oauth_pages.link_failed_page("state_unknown"), 400)
        state, token = _field(form, "state"), _field(form, "confirm")
        if _field(form, "choice") == "decline":
            declined = await linking.decline(state, token)
            if declined.code != "declined":
                return page_response(oauth_pages.link_failed_page(declined.code), 400)
            return page_response(oauth_pages.declined_page(declined.display_name))
        result = await linking.confirm(state, token)
        if not result.ok or result.link is None:
            return page_response(oauth_pages.link_failed_page(result.code), 400)
        notices.linked(result)
        return page_response(oauth_pages.linked_page(result.link.display_name))

    web_app.router.add_post("/tiktok/oauth/confirm", oauth_confirm)
