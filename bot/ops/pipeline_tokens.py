"""`python -m bot pipeline-token --team T… [--revoke ID | --list]`: an operator makes (or
revokes, or lists) a pipeline credential of one installed workspace, as an admin would with
`/tiktok-cancel settings pipeline-token` in Slack.

Many workspaces only: with SLACK_BOT_TOKEN the pipelines use NOTIFY_TOKEN and UPLOAD_TOKEN
(exit 2). A workspace that has not installed the app gets none (exit 1). A new token's secret
is printed once, on stdout, as JSON with its id; it is stored only as a hash. Every change is
audited like one made in Slack (source "cli", no Slack user).
"""

from __future__ import annotations

import json
from typing import TextIO

from cryptography.fernet import Fernet

from bot.accounts.workspace_settings import CLI_MAKER, MAX_LIVE_TOKENS, make_token, revoke_token
from bot.accounts.workspaces import Defaults, Workspaces
from bot.commands.parser import TOKEN_ID
from bot.settings import Settings
from storage import pipeline_tokens
from storage.audit import AuditStart
from storage.db import Store
from storage.installations import Installations
from storage.timefmt import epoch_to_iso

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

ONE_WORKSPACE = (
    "pipeline-token: this deployment serves one workspace (SLACK_BOT_TOKEN is set), so its "
    "pipelines use NOTIFY_TOKEN and UPLOAD_TOKEN from its environment; pipeline tokens are "
    "for many workspaces (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)"
)


def _entry(action: str, team_id: str) -> AuditStart:
    return AuditStart(action=action, team_id=team_id, user_id="", source="cli")


async def pipeline_token(
    settings: Settings,
    team_id: str,
    out: TextIO,
    err: TextIO,
    *,
    revoke: str | None = None,
    list_them: bool = False,
) -> int:
    """Make a token for `team_id` (or revoke `revoke`, or list the live ones); the exit status.
    Lines for the operator go to `err` as `tiktok-cancel: …`, results to `out` as JSON."""

    def say(line: str) -> None:
        err.write(f"tiktok-cancel: {line}\n")

    if not settings.many_workspaces:
        say(ONE_WORKSPACE)
        return EXIT_USAGE
    token_id = (revoke or "").strip().lower()
    if revoke is not None and not TOKEN_ID.fullmatch(token_id):
        say("pipeline-token: --revoke takes a token's id, like pt_3f9a1c2b (--list shows them)")
        return EXIT_USAGE
    store = Store(settings.store_url)
    await store.open()
    try:
        fernet = Fernet(settings.token_encryption_key.encode())
        workspaces = Workspaces(store, Installations(fernet), Defaults(bot_token=None))
        if await workspaces.installation(team_id) is None:
            say(f"pipeline-token: workspace {team_id} has not installed the app")
            return EXIT_FAILED
        if list_them:
            rows = await store.run(pipeline_tokens.for_team, team_id)
            shown = [
                {
                    "token_id": r["token_id"],
                    "made_by": r["made_by"],
                    "made_at": epoch_to_iso(float(r["made_at"] or 0)),
                }
                for r in rows
            ]
            out.write(json.dumps({"team_id": team_id, "tokens": shown}) + "\n")
            return EXIT_OK
        if revoke is not None:
            entry = _entry("pipeline_token_revoked", team_id)
            if not await store.run(revoke_token, team_id, token_id, entry):
                say(f"pipeline-token: workspace {team_id} has no working pipeline token {token_id}")
                return EXIT_FAILED
            out.write(
                json.dumps({"team_id": team_id, "token_id": token_id, "status": "revoked"}) + "\n"
            )
            return EXIT_OK
        entry = _entry("pipeline_token_made", team_id)
        made = await store.run(make_token, team_id, CLI_MAKER, entry)
        if made is None:
            say(
                f"pipeline-token: workspace {team_id} already has {MAX_LIVE_TOKENS} working "
                "pipeline tokens; revoke one with --revoke ID (--list shows them)"
            )
            return EXIT_FAILED
        token_id, token = made
        out.write(json.dumps({"team_id": team_id, "token_id": token_id, "token": token}) + "\n")
        say(
            f"pipeline-token: {token_id} is shown this once; the pipeline sends it as "
            "`Authorization: Bearer <token>` with POST /notifications, POST /uploads and "
            "GET /uploads/<upload_key>. Revoke it with --revoke " + token_id
        )
        return EXIT_OK
    finally:
        store.close()
