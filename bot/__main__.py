"""`python -m bot` (console script `tiktok-cancel-bot`): run the bot, or one of its tools.

python -m bot                       run the bot (same as `run`)
python -m bot keygen                print a new TOKEN_ENCRYPTION_KEY
python -m bot audit export [--since DATE] [--format csv|json]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from bot.logs import setup_logging
from bot.settings import DEFAULT_DATABASE_PATH, SettingsError, load_settings, read_environment
from storage.timefmt import to_iso

EXIT_SETTINGS = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("keygen", help="print a new Fernet key for TOKEN_ENCRYPTION_KEY")
    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_sub.add_parser("export", help="write the audit trail to stdout")
    export.add_argument("--since", help="only attempts from this date (YYYY-MM-DD or ISO time)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    return parser


def _since(value: str | None) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SystemExit(f"--since: {value!r} is not a date like 2026-11-26") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_iso(moment)


def audit_export(since: str | None, fmt: str, out=None) -> int:
    from storage import audit
    from storage.db import open_database

    out = out or sys.stdout
    path = read_environment().get("DATABASE_PATH") or DEFAULT_DATABASE_PATH
    if not Path(path).is_file():
        print(f"tiktok-cancel: no database at {path} (set DATABASE_PATH)", file=sys.stderr)
        return 1
    db = open_database(path)
    try:
        rows = audit.rows_since(db, _since(since))
    finally:
        db.close()
    if fmt == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
    else:
        writer = csv.DictWriter(out, fieldnames=list(audit.EXPORT_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return 0


async def serve(settings) -> None:
    from bot.app import Bot

    bot = Bot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await bot.start()
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode (Slack posts to /slack/events)"
    print(f"tiktok-cancel is running in {mode} on http://{settings.host}:{bot.port}", flush=True)
    await stop.wait()
    await bot.stop()


def run() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        for problem in error.problems:
            print(f"tiktok-cancel: {problem}", file=sys.stderr)
        print("tiktok-cancel: see .env.example for every setting.", file=sys.stderr)
        return EXIT_SETTINGS
    setup_logging(settings.log_level, settings.secrets())
    asyncio.run(serve(settings))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "keygen":
        print(Fernet.generate_key().decode())
        return 0
    if args.command == "audit":
        return audit_export(args.since, args.format)
    return run()


if __name__ == "__main__":
    sys.exit(main())
