"""What the servers bench/load.py starts as subprocesses share: their stdin protocol.

The parent writes one JSON line of settings to the child's stdin and keeps the pipe open;
the child prints `READY <port>` once it serves. Closing stdin (or the parent dying) tells the
child to stop; `max_seconds` is a backstop so a child always stops by itself.
"""

from __future__ import annotations

import asyncio
import json
import sys


class Stdin:
    def __init__(self) -> None:
        self._reader: asyncio.StreamReader | None = None

    async def _open(self) -> asyncio.StreamReader:
        if self._reader is None:
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader()
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
            self._reader = reader
        return self._reader

    async def config(self) -> dict:
        line = await (await self._open()).readline()
        return json.loads(line)

    async def wait_closed(self, max_seconds: float) -> None:
        """Return at EOF on stdin, or after `max_seconds`."""
        reader = await self._open()

        async def drain() -> None:
            while await reader.read(4096):
                pass

        try:
            await asyncio.wait_for(drain(), max_seconds)
        except TimeoutError:
            print("bench child: max seconds reached, stopping", file=sys.stderr, flush=True)


def ready(port: int) -> None:
    print(f"READY {port}", flush=True)
