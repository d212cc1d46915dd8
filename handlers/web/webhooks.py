"""`POST /tiktok/webhook`: TikTok's signed events, handed to the receiver as they came."""

from __future__ import annotations

from aiohttp import web

from bot.uploads.webhooks import WebhookReceiver


def register(web_app: web.Application, *, webhooks: WebhookReceiver) -> None:
    async def tiktok_webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        signature = request.headers.get("TikTok-Signature", "")
        if not signature.isascii():
            signature = ""  # not TikTok's: refused as unsigned
        status = await webhooks.receive(raw, signature)
        return web.json_response({"ok": status == 200}, status=status)

    web_app.router.add_post("/tiktok/webhook", tiktok_webhook)
