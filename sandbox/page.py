"""The sandbox's page: the HTTP app on the page's port, serving `index.html` and the JSON
endpoints it talks to (listed in `sandbox.server`), each parsing its body and calling one
method of the `Sandbox` (in the workspace the body's `team` names), plus TikTok's consent page
(`sandbox.consent`). Only requests from the page itself get through (`sandbox.guards`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from sandbox.consent import consent_routes
from sandbox.guards import BadRequest, body_of, json_errors, only_own_pages, text_field
from sandbox.page_state import page_state
from sandbox.scenario import CHANNEL, PEOPLE

if TYPE_CHECKING:
    from sandbox.server import Sandbox

STATIC = Path(__file__).parent / "static"


def page_app(sandbox: Sandbox) -> web.Application:
    """The page and its JSON endpoints, acting through `sandbox`."""
    app = web.Application(
        client_max_size=256 * 1024, middlewares=[only_own_pages(sandbox.own_hosts), json_errors]
    )
    routes = web.RouteTableDef()

    @routes.get("/")
    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @routes.get("/api/state")
    async def state(request: web.Request) -> web.Response:
        team = sandbox.team(request.query.get("team", ""))
        return web.json_response(page_state(sandbox, team), headers={"Cache-Control": "no-store"})

    @routes.post("/api/install")
    async def install(request: web.Request) -> web.Response:
        return web.json_response(await sandbox.install(_team(await body_of(request))))

    @routes.post("/api/uninstall")
    async def uninstall(request: web.Request) -> web.Response:
        data = await body_of(request)
        return web.json_response(await sandbox.uninstall(text_field(data, "team")))

    @routes.post("/api/command")
    async def command(request: web.Request) -> web.Response:
        data = await body_of(request)
        text = text_field(data, "text", required=False)
        if text.startswith("/tiktok-cancel"):
            text = text[len("/tiktok-cancel") :].strip()
        result = await sandbox.command(
            text_field(data, "user"),
            text,
            text_field(data, "channel", required=False) or CHANNEL,
            team=_team(data),
        )
        return web.json_response(result)

    @routes.post("/api/click")
    async def click(request: web.Request) -> web.Response:
        data = await body_of(request)
        where = text_field(data, "where", required=False) or "message"
        if where not in ("message", "home"):
            raise BadRequest("where must be message or home")
        result = await sandbox.click(
            text_field(data, "user"),
            text_field(data, "action_id"),
            text_field(data, "value", required=False),
            text_field(data, "channel", required=False) or CHANNEL,
            text_field(data, "message_ts", required=False),
            where,
            team=_team(data),
        )
        return web.json_response(result)

    @routes.post("/api/view")
    async def submit_view(request: web.Request) -> web.Response:
        data = await body_of(request)
        result = await sandbox.submit_view(
            text_field(data, "user"),
            text_field(data, "view_id"),
            data.get("values", {}),
            team=_team(data),
        )
        return web.json_response(result)

    @routes.post("/api/view/close")
    async def close_view(request: web.Request) -> web.Response:
        data = await body_of(request)
        result = await sandbox.close_view(
            text_field(data, "user"), text_field(data, "view_id"), team=_team(data)
        )
        return web.json_response(result)

    @routes.post("/api/home")
    async def home(request: web.Request) -> web.Response:
        data = await body_of(request)
        return web.json_response(
            await sandbox.open_home(text_field(data, "user"), team=_team(data))
        )

    @routes.post("/api/announce")
    async def announce(request: web.Request) -> web.Response:
        data = await body_of(request)
        user = str(data.get("user") or PEOPLE[0].user_id)
        status, body = await sandbox.announce(data, user, team=_team(data))
        return web.json_response({"status": status, "body": body})

    @routes.post("/api/tiktok/next")
    async def next_answer(request: web.Request) -> web.Response:
        data = await body_of(request)
        answer = text_field(data, "answer")
        publish_id = text_field(data, "publish_id", required=False)
        sandbox.script_next(answer, publish_id)
        return web.json_response({"ok": True, "answer": answer, "publish_id": publish_id})

    @routes.post("/api/tiktok/status")
    async def upload_status(request: web.Request) -> web.Response:
        data = await body_of(request)
        result = await sandbox.set_upload_status(
            text_field(data, "publish_id"),
            text_field(data, "status"),
            text_field(data, "fail_reason", required=False),
        )
        return web.json_response(result)

    @routes.post("/api/hold")
    async def hold(request: web.Request) -> web.Response:
        data = await body_of(request)
        return web.json_response(await sandbox.hold(data, team=_team(data)))

    @routes.post("/api/tiktok/init")
    async def next_init(request: web.Request) -> web.Response:
        answer = text_field(await body_of(request), "answer")
        sandbox.script_next_init(answer)
        return web.json_response({"ok": True, "answer": answer})

    @routes.get("/healthz")
    async def healthz(_: web.Request) -> web.Response:
        up, body = await sandbox.health()
        return web.json_response(
            body, status=200 if up else 503, headers={"Cache-Control": "no-store"}
        )

    app.add_routes(routes)
    app.add_routes(consent_routes(sandbox))
    app.router.add_static("/static/", STATIC)
    return app


def _team(data: dict) -> str:
    """The workspace a body names (`team`, a team id; "" for the first)."""
    return text_field(data, "team", required=False)
