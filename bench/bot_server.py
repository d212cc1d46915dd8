"""The real bot for bench/load.py, in its own process (HTTP mode, on 127.0.0.1).

Reads one JSON line from stdin: `{"settings": {<Settings fields>}, "profile": <path or
null>}`, starts `bot.app.Bot`, prints `READY <port>` and serves until stdin closes (or
--max-seconds pass), then stops the bot (draining in-flight work). With "profile", cProfile
runs on the event loop thread from READY to stop and its stats are written to that path.
"""

from __future__ import annotations

import argparse
import cProfile

from bench.child import Stdin, ready
from bot import event_loop
from bot.app import Bot
from bot.logs import setup_logging
from bot.settings import Settings


async def serve(max_seconds: float) -> None:
    stdin = Stdin()
    config = await stdin.config()
    settings = Settings(**config["settings"])
    setup_logging(settings.log_level, settings.secrets())
    bot = Bot(settings)
    await bot.start()
    event_loop.freeze_heap()  # as `python -m bot` does
    assert bot.port is not None
    profiler = cProfile.Profile() if config.get("profile") else None
    ready(bot.port)
    if profiler is not None:
        profiler.enable()
    try:
        await stdin.wait_closed(max_seconds)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(config["profile"])
        await bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=1800)
    args = parser.parse_args()
    event_loop.run(serve(args.max_seconds))


if __name__ == "__main__":
    main()
