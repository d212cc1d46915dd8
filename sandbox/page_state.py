"""What the sandbox's page shows: the state `GET /api/state` answers, read from the stand-ins
(every message, answer and view the bot sent to Slack in one workspace, the modal each person
has open there, every upload at TikTok) and what TikTok is scripted to answer next.

Slack's side is one workspace's: what the bot posted with that workspace's token, the answers
to what its people did, their Home tabs and modals. TikTok's side (uploads, scripted answers)
is the same whichever workspace the page shows: there is one TikTok."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.tiktok.catalog import CATALOG
from sandbox.answers import UPLOAD_STATES, answer_choices, init_choices
from sandbox.scenario import ACCOUNTS, CHANNELS, PEOPLE, TEAM_ACCOUNT, USERGROUPS

if TYPE_CHECKING:
    from sandbox.server import Sandbox


def page_state(sandbox: Sandbox, team_id: str) -> dict[str, Any]:
    """Everything the page shows (`GET /api/state`) of workspace `team_id`: channels, DMs,
    ephemeral answers each person saw, App Home tabs, the modal each person has open
    (`modals`: the view as the bot opened it, and the errors shown in it), the workspaces and
    this one's pipeline token; uploads at TikTok and what TikTok is scripted to answer."""
    channels: dict[str, list[dict]] = {c: [] for c in CHANNELS}
    dms: dict[str, list[dict]] = {p.user_id: [] for p in PEOPLE}
    threads: dict[tuple[str, str], list[dict]] = {}
    teams = sandbox.slack.message_teams
    for seq, ((channel, ts), message) in enumerate(list(sandbox.slack.messages.items())):
        if teams.get((channel, ts)) != team_id:
            continue
        entry = {
            "ts": ts,
            "seq": 2 * seq,
            "text": message.get("text", ""),
            "blocks": message.get("blocks", []),
            "replies": [],
        }
        parent = message.get("thread_ts")
        if parent:
            threads.setdefault((channel, parent), []).append(entry)
        elif channel in dms:
            dms[channel].append(entry)
        else:
            channels.setdefault(channel, []).append(entry)
    for channel, messages in [*channels.items(), *dms.items()]:
        for entry in messages:
            entry["replies"] = threads.get((channel, entry["ts"]), [])
    ephemeral: dict[str, list[dict]] = {p.user_id: [] for p in PEOPLE}
    for url, bodies in list(sandbox.slack.responses.items()):
        owner, channel, team = sandbox.response_owner.get(url, ("", "", ""))
        if not owner or team != team_id:
            continue
        for index, body in enumerate(bodies):
            before = sandbox.response_seq.get((url, index), len(sandbox.slack.messages))
            ephemeral.setdefault(owner, []).append(
                {
                    "id": f"{url.rsplit('/', 1)[-1]}.{index}",
                    "seq": 2 * before - 1,
                    "channel": channel,
                    "text": body.get("text", ""),
                    "blocks": body.get("blocks", []),
                }
            )
    # Answers a command's ack carried, in their place among the others.
    acked: set[str] = set()
    for url, (body, before) in list(sandbox.ack_answers.items()):
        owner, channel, team = sandbox.response_owner.get(url, ("", "", ""))
        if owner and team == team_id:
            acked.add(owner)
            ephemeral.setdefault(owner, []).append(
                {
                    "id": f"{url.rsplit('/', 1)[-1]}.ack",
                    "seq": 2 * before - 1,
                    "channel": channel,
                    "text": body.get("text", ""),
                    "blocks": body.get("blocks", []),
                }
            )
    for owner in acked:
        ephemeral[owner].sort(key=lambda entry: entry["seq"])
    homes: dict[str, Any] = {}
    for call in sandbox.slack.calls_to("views.publish"):
        if call.token_team == team_id:
            homes[str(call.params.get("user_id"))] = call.params.get("view")
    names = dict(ACCOUNTS)
    uploads = [
        {
            "publish_id": u.publish_id,
            "status": u.status,
            "fail_reason": u.fail_reason or "",
            "account": names.get(u.open_id, u.open_id),
            "next_answer": _scripted_for(sandbox, u.publish_id),
            "stopping": u.cancel_requested and u.status == "PROCESSING_DOWNLOAD",
        }
        for u in sandbox.tiktok.uploads.values()
    ]
    installed = sandbox.workspaces.installed(team_id)
    token = sandbox.workspaces.pipeline_tokens.get(team_id, "")
    return {
        "team": team_id,
        "installed": installed,
        "workspaces": sandbox.workspaces.listed(),
        "people": [p.__dict__ for p in PEOPLE],
        "usergroups": [
            {"id": g.group_id, "handle": g.handle, "members": list(g.members)} for g in USERGROUPS
        ],
        "accounts": [{"open_id": o, "name": n} for o, n in ACCOUNTS],
        "channels": [
            {"id": c, "name": CHANNELS.get(c, c), "messages": m} for c, m in channels.items()
        ],
        "dms": dms,
        "ephemeral": ephemeral,
        "homes": homes,
        "modals": {p.user_id: sandbox.modals.shown(p.user_id, team_id) for p in PEOPLE},
        "uploads": uploads,
        "next_answer_any": _scripted_for(sandbox, ""),
        "armed": armed(sandbox),
        "init_answers": init_choices(),
        "next_init": sandbox.tiktok.scripted_init(),
        "inits": len(sandbox.tiktok.calls_to("init")),
        "team_account": TEAM_ACCOUNT,
        "answers": answer_choices(),
        "fail_reasons": sorted(c for c, e in CATALOG.items() if e.kind == "fail_reason"),
        "upload_states": list(UPLOAD_STATES),
        "bot_url": sandbox.bot_url if sandbox.bot else "",
        "pipeline_token": token,
    }


def armed(sandbox: Sandbox) -> list[dict[str, Any]]:
    """What the TikTok stand-in will answer its next calls, as the panel shows it: one
    entry per scripted answer still waiting (a cancel of one upload, of any upload, the
    next start). A cancel answer being used by a cancel under way says so (`in_use`); it
    is gone once the bot finished that cancel, and a start answer once an init took it."""
    labels = {c["value"]: c["label"] for c in answer_choices()}
    armed = [
        {
            "call": "cancel",
            "publish_id": key,
            "answer": scripted.answer,
            "label": labels.get(scripted.answer, scripted.answer),
            "in_use": scripted.used,
        }
        for key, scripted in sorted(sandbox.tiktok.next_answers.items(), key=lambda kv: kv[0])
    ]
    start = sandbox.tiktok.scripted_init()
    if start:
        starts = {c["value"]: c["label"] for c in init_choices()}
        armed.append(
            {
                "call": "start",
                "publish_id": "",
                "answer": start,
                "label": starts.get(start, start),
                "in_use": False,
            }
        )
    return armed


def _scripted_for(sandbox: Sandbox, key: str) -> str:
    scripted = sandbox.tiktok.next_answers.get(key)
    return scripted.answer if scripted else ""
