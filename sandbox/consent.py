"""TikTok's consent page, played by the sandbox: the bot's Connect button leads here, the
person picks the sandbox account that allows access (or doesn't allow it), and the browser
goes back to the bot's OAuth callback with a code from the TikTok stand-in, as TikTok would.
A request TikTok would refuse (another client_key, a redirect_uri not registered for the
app) gets TikTok's error page instead.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from sandbox.scenario import ACCOUNTS

if TYPE_CHECKING:
    from sandbox.server import Sandbox


def consent_routes(sandbox: Sandbox) -> list[web.RouteDef]:
    """`GET /tiktok/consent` (the page) and `GET /tiktok/consent/answer` (a choice made)."""

    async def consent(request: web.Request) -> web.Response:
        problem = consent_problem(sandbox, request.query)
        return web.Response(
            status=400 if problem else 200,
            text=consent_page(request.query, problem),
            content_type="text/html",
        )

    async def consent_answer(request: web.Request) -> web.Response:
        query = request.query
        problem = consent_problem(sandbox, query)
        if problem:
            return web.Response(
                status=400, text=consent_page(query, problem), content_type="text/html"
            )
        open_id = query.get("open_id", "")
        if open_id in sandbox.tiktok.users:
            params = {
                "code": sandbox.tiktok.issue_code(open_id, redirect_uri=query["redirect_uri"]),
                "scopes": query.get("scope", ""),
                "state": query.get("state", ""),
            }
        else:
            params = {
                "error": "access_denied",
                "error_description": "The user did not allow access.",
                "state": query.get("state", ""),
            }
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(params)}")

    return [
        web.get("/tiktok/consent", consent),
        web.get("/tiktok/consent/answer", consent_answer),
    ]


def consent_problem(sandbox: Sandbox, query) -> str:
    """Why TikTok would refuse to show the consent page; "" if it is fine."""
    if query.get("client_key") != sandbox.tiktok.client_key:
        return "Unknown client_key: this app isn't registered with TikTok."
    if sandbox.bot is None or query.get("redirect_uri") != sandbox.bot.settings.tiktok_redirect_uri:
        return "The redirect_uri isn't one registered for this app."
    if query.get("response_type", "code") != "code":
        return "response_type must be code."
    return ""


def consent_page(query, problem: str = "") -> str:
    """TikTok's consent page, played by the sandbox: pick the account that allows access."""
    head = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<title>TikTok (sandbox): authorize tiktok-cancel</title>"
        "<link rel=icon href='data:,'><link rel=stylesheet href=/static/sandbox.css>"
        "<main class=consent><h1>TikTok <small>sandbox</small></h1>"
    )
    if problem:
        return f"{head}<p class=problem>{html.escape(problem)}</p></main></html>"
    base = {k: query.get(k, "") for k in ("client_key", "state", "redirect_uri", "scope")}
    links = "".join(
        f'<li><a class="allow" href="/tiktok/consent/answer?'
        f'{html.escape(urlencode({**base, "open_id": open_id}))}">'
        f"Allow as {html.escape(name)}</a></li>"
        for open_id, name in ACCOUNTS
    )
    deny = html.escape(urlencode({**base, "open_id": ""}))
    scopes = "".join(
        f"<li><code>{html.escape(s)}</code></li>" for s in query.get("scope", "").split(",") if s
    )
    return (
        f"{head}<p><b>tiktok-cancel</b> would like to use your TikTok account:</p>"
        f"<ul class=scopes>{scopes}</ul>"
        "<p>Sign in as one of these sandbox accounts to allow it:</p>"
        f"<ul class=accounts>{links}</ul>"
        f'<p><a class="deny" href="/tiktok/consent/answer?{deny}">Don\'t allow</a></p>'
        "<p class=hint>This page stands in for TikTok's own. Allowing sends you back to the "
        "bot, which links the account and tells you in Slack.</p></main></html>"
    )
