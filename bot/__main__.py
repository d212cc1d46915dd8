"""`python -m bot` (console script `tiktok-cancel-bot`): run the bot, or one of its tools.

python -m bot                       run the bot (same as `run`)
python -m bot keygen                print a new TOKEN_ENCRYPTION_KEY
python -m bot audit export [--since DATE] [--team T…] [--format csv|json]
python -m bot announce --channel C… <publish_id> [--title …] [--account …] [--source-url …]
python -m bot upload --channel C… --account brand --privacy LEVEL [--title …] [--hold S]
                    [--key K] [--approvers U…,S…] [--needed N] <source_url>
                                    hold an upload (or have it approved), as POST /uploads does
python -m bot accounts              list linked TikTok accounts and grants (never tokens)
python -m bot workspaces            list the workspaces that installed the app (many workspaces)
python -m bot check                 validate settings, call Slack and TikTok once
python -m bot rotate-key            re-encrypt stored tokens (OLD_TOKEN_ENCRYPTION_KEY → new)
python -m bot copy-db --to postgresql://…   copy the SQLite database (DATABASE_PATH) into an
                                    empty PostgreSQL one, then set DATABASE_URL to it
python -m bot copy-db --to-env NAME the same, the target's URL read from the variable NAME
python -m bot pipeline-token --team T… [--revoke ID | --list]
                                    make (print once), revoke or list a workspace's pipeline
                                    tokens (many workspaces)

Every tool reads the database the bot uses: PostgreSQL at DATABASE_URL when it is set, else
the SQLite file at DATABASE_PATH.
python -m bot sandbox [--port N] [--db PATH]   try the bot with stand-ins of Slack and TikTok
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from bot.logs import setup_logging
from bot.settings import DEFAULT_DATABASE_PATH, SettingsError, load_settings, read_environment
from storage.timefmt import to_iso

EXIT_SETTINGS = 2
EXIT_FAILED = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("keygen", help="print a new Fernet key for TOKEN_ENCRYPTION_KEY")
    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_sub.add_parser("export", help="write the audit trail to stdout")
    export.add_argument("--since", help="only attempts from this date (YYYY-MM-DD or ISO time)")
    export.add_argument("--team", help="only this Slack workspace's entries (team ID, T…)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    announce = sub.add_parser(
        "announce", help="post an upload announcement, as POST /notifications does"
    )
    announce.add_argument("publish_id")
    announce.add_argument("--channel", required=True, help="Slack channel ID, like C0123")
    announce.add_argument("--title", default="")
    announce.add_argument("--account", default="", help="team account that made the upload")
    announce.add_argument(
        "--team", default="", help="the Slack workspace (team ID, T…); needed with many workspaces"
    )
    announce.add_argument("--source-url", default="", help="the video's https URL")
    upload = sub.add_parser(
        "upload", help="hold an upload and start it when its window closes, as POST /uploads"
    )
    upload.add_argument("source_url", help="the video's https URL")
    upload.add_argument("--channel", required=True, help="Slack channel ID, like C0123")
    upload.add_argument("--account", required=True, help="the linked team account")
    upload.add_argument(
        "--team", default="", help="the Slack workspace (team ID, T…); needed with many workspaces"
    )
    upload.add_argument("--privacy", required=True, help="privacy_level, e.g. SELF_ONLY")
    upload.add_argument("--title", default=None)
    upload.add_argument("--hold", type=float, default=None, help="seconds (HOLD_SECONDS)")
    upload.add_argument("--key", default=None, help="upload_key (default: a new one)")
    upload.add_argument(
        "--approvers",
        default=None,
        help="comma-separated Slack user (U…) and user-group (S…) ids who must approve it",
    )
    upload.add_argument("--needed", type=int, default=None, help="approvals needed (default 1)")
    sub.add_parser("accounts", help="list linked TikTok accounts and grants (never tokens)")
    sub.add_parser(
        "workspaces",
        help="list the workspaces that installed the app with Add to Slack (never tokens)",
    )
    sub.add_parser("check", help="validate the settings and call Slack and TikTok once")
    sub.add_parser(
        "rotate-key",
        help="re-encrypt every stored token with TOKEN_ENCRYPTION_KEY, reading them with "
        "OLD_TOKEN_ENCRYPTION_KEY",
    )
    copy = sub.add_parser(
        "copy-db",
        help="copy the SQLite database at DATABASE_PATH into an empty PostgreSQL database "
        "(all or nothing; tokens stay encrypted); then set DATABASE_URL to it",
    )
    target = copy.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--to",
        metavar="postgresql://USER:PASSWORD@HOST:PORT/DB",
        help="the target, in DATABASE_URL's form; it must hold no data yet",
    )
    target.add_argument(
        "--to-env",
        metavar="NAME",
        help="read the target's URL from the environment variable NAME (or .env), so it "
        "sits in neither `ps` nor the shell's history",
    )
    token = sub.add_parser(
        "pipeline-token",
        help="make a pipeline token for one installed workspace (many workspaces), printed once",
    )
    token.add_argument("--team", required=True, help="the workspace's team ID, like T0123")
    token_what = token.add_mutually_exclusive_group()
    token_what.add_argument("--revoke", metavar="ID", help="revoke the token with this id")
    token_what.add_argument(
        "--list", action="store_true", help="list the workspace's working tokens (never secrets)"
    )
    sandbox = sub.add_parser(
        "sandbox", help="run the real bot against built-in stand-ins of Slack and TikTok"
    )
    sandbox.add_argument("--port", type=int, default=3000, help="the page's port (0: any)")
    sandbox.add_argument("--db", default=None, help="SQLite file (default: a temporary one)")
    return parser


def _database() -> str | None:
    """The database the CLI reads: DATABASE_URL, else DATABASE_PATH if that file exists (no
    other setting needed); else says so, None."""
    env = read_environment()
    from bot import database_url as db_url
    from storage.db import database_url

    url = (env.get("DATABASE_URL") or "").strip()
    if url:
        problem = db_url.problem(url)
        if problem:  # one line naming the variable, nothing of its value
            print(f"tiktok-cancel: {problem}", file=sys.stderr)
            return None
        return database_url(url)
    path = env.get("DATABASE_PATH") or DEFAULT_DATABASE_PATH
    if not Path(path).is_file():
        print(f"tiktok-cancel: no database at {path} (set DATABASE_PATH)", file=sys.stderr)
        return None
    return database_url(path=path)


def _read_database(read):
    """`read(db)` in one transaction; None if there is no database or it can't be reached
    (said in one line, without the password)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.ops.check import describe_database
    from bot.ops.copy_db import one_line
    from storage.db import Store

    url = _database()
    if url is None:
        return None
    store = Store(url)
    try:
        return store.call(read)
    except SQLAlchemyError as error:
        where = describe_database(url)
        print(
            f"tiktok-cancel: can't use the database ({where}): {one_line(error, url)}",
            file=sys.stderr,
        )
        return None
    finally:
        store.close()


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


def audit_export(since: str | None, fmt: str, out=None, team: str | None = None) -> int:
    from bot.ops.csv_safe import safe_row
    from storage import audit

    out = out or sys.stdout
    since_iso = _since(since)
    rows = _read_database(lambda db: audit.rows_since(db, since_iso, team))
    if rows is None:
        return 1
    if fmt == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
    else:
        writer = csv.DictWriter(out, fieldnames=list(audit.EXPORT_COLUMNS))
        writer.writeheader()
        writer.writerows(safe_row(row) for row in rows)  # JSON keeps values as they are
    return 0


def list_accounts(out=None) -> int:
    from storage import grants
    from storage.links import Links
    from storage.timefmt import epoch_to_iso

    out = out or sys.stdout
    rows = _read_database(lambda db: (Links.rows_without_tokens(db), grants.all_rows(db)))
    if rows is None:
        return 1
    links, granted = rows
    out.write("Linked TikTok accounts:\n")
    if not links:
        out.write("  none\n")
    for row in links:
        who = f"team account {row['owner']}" if row["kind"] == "team" else f"user {row['owner']}"
        out.write(
            f"  {row['team_id']}  {who}: {row['display_name']} (open_id {row['open_id']}, "
            f"scopes {row['scope']}, link lasts until "
            f"{epoch_to_iso(row['refresh_expires_at'] or 0)}, linked by {row['linked_by']})\n"
        )
    out.write("Grants:\n")
    if not granted:
        out.write("  none\n")
    for row in granted:
        out.write(
            f"  {row['team_id']}  {row['account']}: {row['user_id']} "
            f"(granted by {row['granted_by']} at {row['granted_at']})\n"
        )
    return 0


def list_workspaces(out=None) -> int:
    """The workspaces installed with Add to Slack: who installed each and when, and whether
    its token rotates (and runs out when); never a token. With one workspace, says so."""
    from storage import installations
    from storage.timefmt import epoch_to_iso

    out = out or sys.stdout
    env = read_environment()
    one_token = (env.get("SLACK_BOT_TOKEN") or "").strip()
    if one_token and not (env.get("SLACK_CLIENT_ID") or "").strip():
        out.write(
            "This deployment serves one workspace, the one SLACK_BOT_TOKEN belongs to: nothing "
            "is installed with Add to Slack (that takes SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "instead of SLACK_BOT_TOKEN).\n"
        )
        return 0
    rows = _read_database(installations.rows_without_tokens)
    if rows is None:
        return 1
    out.write("Installed workspaces:\n")
    if not rows:
        out.write("  none yet (Add to Slack: open /slack/install on the bot's public address)\n")
    for row in rows:
        name = row["team_name"] or "(no name)"
        installer = row["installer_user_id"] or "unknown"
        if not row["rotates"]:
            token = "token does not expire"
        elif row["bot_token_expires_at"]:
            until = epoch_to_iso(row["bot_token_expires_at"])
            token = f"token rotates, current one expires {until}"
        else:
            token = "token rotates"
        out.write(
            f"  {row['team_id']}  {name}: installed {epoch_to_iso(row['installed_at'])} by "
            f"{installer}; {token}\n"
        )
    return 0


def _settings_or_exit():
    try:
        return load_settings()
    except SettingsError as error:
        for problem in error.problems:
            print(f"tiktok-cancel: {problem}", file=sys.stderr)
        print("tiktok-cancel: see .env.example for every setting.", file=sys.stderr)
        raise SystemExit(EXIT_SETTINGS) from None


async def _cli_team(parts, team: str) -> str:
    """The workspace a CLI command acts in: `--team` (with many workspaces it must be
    installed), else the one workspace's (its bot token's `auth.test`)."""
    from bot.uploads.announcing import AnnounceError, slack_refusals

    if parts.workspaces.many:
        if not team:
            raise AnnounceError(2, "--team T… is needed: this deployment serves many workspaces")
        if await parts.workspaces.installation(team) is None:
            raise AnnounceError(2, f"workspace {team} has not installed the app")
        return team
    with slack_refusals(""):
        home = str((await parts.slack.identity("")).get("team_id") or "")
    if team and team != home:
        raise AnnounceError(2, f"this deployment serves one workspace, {home}, not {team}")
    return home


async def _announce(settings, args) -> int:
    from bot.app import build_parts, close
    from bot.uploads.announcing import AnnounceError
    from handlers.web.pipeline_request import parse_notification

    parts = await build_parts(settings)
    try:
        body = {
            "publish_id": args.publish_id,
            "channel": args.channel,
            "title": args.title or None,
            "account": args.account or None,
            "source_url": args.source_url or None,
        }
        try:
            team_id = await _cli_team(parts, args.team)
            result = await parts.announcements.announce(team_id, parse_notification(body))
        except AnnounceError as error:
            print(f"tiktok-cancel: {error.message}", file=sys.stderr)
            return 1
        state = "posted" if result.created else "already announced"
        print(json.dumps({"channel": result.channel, "ts": result.ts, "status": state}))
        return 0
    finally:
        await close(parts)


async def _upload(settings, args) -> int:
    import secrets

    from bot.app import build_parts, close
    from bot.uploads import policy as upload_policy
    from bot.uploads.announcing import AnnounceError
    from handlers.web.pipeline_request import parse_upload

    parts = await build_parts(settings)
    try:
        body: dict = {
            "upload_key": args.key or "cli-" + secrets.token_hex(8),
            "channel": args.channel,
            "account": args.account,
            "source_url": args.source_url,
            "post": {"privacy_level": args.privacy},
        }
        if args.title is not None:
            body["post"]["title"] = args.title
        if args.hold is not None:
            body["hold_s"] = args.hold
        if args.approvers is not None or args.needed is not None:
            approvers = [a.strip() for a in (args.approvers or "").split(",") if a.strip()]
            body["approval"] = {"approvers": approvers}
            if args.needed is not None:
                body["approval"]["needed"] = args.needed
        try:
            request = parse_upload(body, settings.hold_seconds, settings.approval_hours)
            upload_policy.check(request, settings)  # UPLOAD_ACCOUNTS, UPLOAD_URL_PREFIXES too
            team_id = await _cli_team(parts, args.team)
            result = await parts.held.submit(team_id, request)
        except AnnounceError as error:
            print(f"tiktok-cancel: {error.message}", file=sys.stderr)
            return 1
        state = "held" if result.created else "already held"
        if "approve_by" in result.answer:
            state = "awaiting approval" if result.created else "already awaiting approval"
        print(json.dumps({**result.answer, "status": state}))
        return 0
    finally:
        await close(parts)


def upload(args) -> int:
    settings = _settings_or_exit()
    setup_logging("WARNING", settings.secrets(), log_format=settings.log_format)
    return asyncio.run(_upload(settings, args))


def announce(args) -> int:
    settings = _settings_or_exit()
    setup_logging("WARNING", settings.secrets(), log_format=settings.log_format)
    return asyncio.run(_announce(settings, args))


def run_pipeline_token(args) -> int:
    from bot.ops.pipeline_tokens import pipeline_token

    settings = _settings_or_exit()
    setup_logging("WARNING", settings.secrets(), log_format=settings.log_format)
    return asyncio.run(
        pipeline_token(
            settings,
            args.team.strip(),
            sys.stdout,
            sys.stderr,
            revoke=args.revoke,
            list_them=args.list,
        )
    )


def run_check() -> int:
    from bot.ops.check import check

    settings = _settings_or_exit()
    problems = asyncio.run(check(settings))
    print("all good" if not problems else f"{problems} problem(s): see the lines above")
    return 1 if problems else 0


def run_rotate_key() -> int:
    from bot.ops.keys import rotate_key

    env = read_environment()
    keys = {}
    for name in ("TOKEN_ENCRYPTION_KEY", "OLD_TOKEN_ENCRYPTION_KEY"):
        value = (env.get(name) or "").strip()
        try:
            Fernet(value.encode())
        except (ValueError, TypeError):
            print(
                f"tiktok-cancel: {name} must be set to a Fernet key "
                "(the new key, and the old one it replaces)",
                file=sys.stderr,
            )
            return EXIT_SETTINGS
        keys[name] = value
    path = _database()
    if path is None:
        return 1
    unreadable = rotate_key(path, keys["TOKEN_ENCRYPTION_KEY"], keys["OLD_TOKEN_ENCRYPTION_KEY"])
    return 1 if unreadable else 0


def run_copy_db(to: str | None, to_env: str | None) -> int:
    from bot.ops.copy_db import EXIT_USAGE, copy_db

    env = read_environment()
    path = env.get("DATABASE_PATH") or DEFAULT_DATABASE_PATH
    name = "--to"
    if to_env is not None:  # the name exactly as given: environment names are case-sensitive
        name = to_env
        to = (env.get(to_env) or "").strip()
        if not to:
            print(
                f"tiktok-cancel: copy-db: --to-env {to_env}: that variable is not set "
                "(export it, or put it in .env)",
                file=sys.stderr,
            )
            return EXIT_USAGE
    return copy_db(path, to or "", complain=lambda line: print(line, file=sys.stderr), name=name)


async def serve(settings) -> None:
    from bot.app import Bot
    from bot.event_loop import freeze_heap

    bot = Bot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await bot.start()
    freeze_heap()  # what start built lives on: out of the cycle collector's walks
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode (Slack posts to /slack/events)"
    print(f"tiktok-cancel is running in {mode} on http://{settings.host}:{bot.port}", flush=True)
    await stop.wait()
    await bot.stop()


def run() -> int:
    from bot import event_loop

    settings = _settings_or_exit()
    setup_logging(settings.log_level, settings.secrets(), log_format=settings.log_format)
    try:
        event_loop.run(serve(settings))  # uvloop where installed; HTTP and Socket Mode alike
    except Exception as exc:
        # Through the log's scrubber like every other line (never Python's raw traceback,
        # which could quote a database URL or a token): one line, the traceback escaped.
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        logging.getLogger("bot").critical(
            "bot.stopped_on_error",
            extra={"error": type(exc).__name__, "detail": first},
            exc_info=True,
        )
        return EXIT_FAILED
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "keygen":
        print(Fernet.generate_key().decode())
        return 0
    if args.command == "audit":
        return audit_export(args.since, args.format, team=args.team)
    if args.command == "announce":
        return announce(args)
    if args.command == "upload":
        return upload(args)
    if args.command == "accounts":
        return list_accounts()
    if args.command == "workspaces":
        return list_workspaces()
    if args.command == "check":
        return run_check()
    if args.command == "rotate-key":
        return run_rotate_key()
    if args.command == "copy-db":
        return run_copy_db(args.to, args.to_env)
    if args.command == "pipeline-token":
        return run_pipeline_token(args)
    if args.command == "sandbox":
        from sandbox.server import serve_sandbox

        asyncio.run(serve_sandbox(args.port, args.db))
        return 0
    return run()


if __name__ == "__main__":
    sys.exit(main())
