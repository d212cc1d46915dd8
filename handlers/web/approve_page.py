"""`GET /approve/<token>`: the web post page of one approver; `POST /approve/<token>`: its form.

The person is the one the link was made for (`bot.uploads.approval_links`), never a name sent
with the form. A link that is unknown, used or expired gets a plain page (404/410); a form
older than the newest render, or one that didn't arrive whole, is refused (403/400) and
nothing is approved; a refusal (not an approver, expired, approved already…) is shown in its
own words (403); problems with the choices come back next to their fields (400).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from aiohttp import web

from bot.uploads.approval_links import ApprovalLinks, WebPage
from handlers.web import approve_pages

MAX_FORM_BYTES = 32 * 1024  # a 2,200-character caption of 3-byte characters, percent-encoded
MAX_FIELDS = 30  # the form has at most a dozen


def _answer(page: WebPage) -> web.Response:
    if page.kind == "form":
        return approve_pages.form_response(page)
    if page.kind in ("refused", "done") and page.message is not None:
        if page.kind == "refused":
            return approve_pages.message_response(page.message, 403, approve_pages.REFUSED_TITLE)
        return approve_pages.message_response(page.message, 200)
    return approve_pages.problem_response(page.problem if page.kind == "link" else page.kind)


def register(web_app: web.Application, *, links: ApprovalLinks) -> None:
    async def approve_page(request: web.Request) -> web.Response:
        return _answer(await links.open(request.match_info["token"]))

    async def approve_form(request: web.Request) -> web.Response:
        raw = await request.read()  # handlers.web.http_guard already refused anything larger
        if len(raw) > MAX_FORM_BYTES:
            return approve_pages.problem_response("malformed")
        try:
            fields = parse_qs(
                raw.decode("utf-8", errors="replace"),
                keep_blank_values=True,
                max_num_fields=MAX_FIELDS,
            )
        except ValueError:  # more fields than the page's form has
            return approve_pages.problem_response("malformed")
        form_token, form = approve_pages.read_form(fields)
        return _answer(await links.submit(request.match_info["token"], form_token, form))

    # Any path under /approve/ (empty, or with a slash) is a link we didn't make: our page says so.
    web_app.router.add_get(r"/approve/{token:[\s\S]*}", approve_page)
    web_app.router.add_post(r"/approve/{token:[\s\S]*}", approve_form)
