"""The baseline for bench/load.py: the least a Bolt app must do for `/tiktok-cancel <id>`.

A bare slack-bolt AsyncApp in HTTP mode, served the way the bot serves Slack (aiohttp,
`POST /slack/events` through Bolt's aiohttp adapter), with Bolt's own request signature
check and single-team authorization (one `auth.test`, cached). On the command: ack, one
POST to TikTok's cancel endpoint with a fixed token, one one-line answer to the
response_url. No database, no token store, no audit, no Block Kit. Outgoing HTTP shares one
aiohttp session, as the bot's does.

Run by bench/load.py as a subprocess: it reads one JSON line of settings from stdin, prints
`READY <port>` and serves on 127.0.0.1 until stdin closes (or --max-seconds pass). It runs
on asyncio's default event loop, as a bare Bolt app does; `--loop uvloop` (the bench's
`--baseline-loop uvloop`) gives it the bot's loop instead, to compare on equal loops.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.child import Stdin, ready

CANCEL_PATH = "/v2/post/publish/cancel/"


def build_app(config: dict, session: aiohttp.ClientSession) -> AsyncApp:
    client = AsyncWebClient(
        token=config["slack_bot_token"], base_url=config["slack_api_url"], session=session
    )
    app = AsyncApp(
        client=client,
        signing_secret=config["slack_signing_secret"],
        logger=logging.getLogger("baseline"),
    )
    cancel_url = config["tiktok_api_url"].rstrip("/") + CANCEL_PATH
    headers = {"Authorization": f"Bearer {config['tiktok_token']}"}

    @app.command("/tiktok-cancel")
    async def cancel(ack: AsyncAck, body: dict) -> None:
        await ack()
        words = str(body.get("text", "")).split()
        publish_id = words[0] if words else ""
        async with session.post(
            cancel_url, json={"publish_id": publish_id}, headers=headers
        ) as resp:
            answer = await resp.json(content_type=None)
        code = (answer.get("error") or {}).get("code", "unknown")
        text = f"Cancelled {publish_id}." if code == "ok" else f"Not cancelled {publish_id}: {code}"
        async with session.post(
            body["response_url"], json={"response_type": "ephemeral", "text": text}
        ) as resp:
            await resp.read()

    return app


async def serve(max_seconds: float) -> None:
    stdin = Stdin()
    config = await stdin.config()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
    app = build_app(config, session)

    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    ready(runner.addresses[0][1])
    try:
        await stdin.wait_closed(max_seconds)
    finally:
        await runner.cleanup()
        await session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.loop == "uvloop":  # only when asked (--baseline-loop uvloop): a bare app doesn't
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve(args.max_seconds))
        return
    asyncio.run(serve(args.max_seconds))


if __name__ == "__main__":
    main()
