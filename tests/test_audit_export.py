"""`python -m bot audit export`: CSV cells that a spreadsheet would run as a formula get a
leading `'` (OWASP CSV injection); JSON keeps every value exactly as recorded."""

from __future__ import annotations

import csv
import io
import json

from tests.cli_env import env_for, run_bot_cli
from tests.conftest import text_of

REASONS = {
    "v_pub_url~v2.8800001": '=HYPERLINK("https://evil.example","click")',
    "v_pub_url~v2.8800002": "+1+cmd|' /C calc'!A0",
    "v_pub_url~v2.8800003": "-2+3",
    "v_pub_url~v2.8800004": "@SUM(A1:A9)",
    "v_pub_url~v2.8800005": "wrong=video, resend",
}
EXPECTED_CSV = {
    "v_pub_url~v2.8800001": '\'=HYPERLINK("https://evil.example","click")',
    "v_pub_url~v2.8800002": "'+1+cmd|' /C calc'!A0",
    "v_pub_url~v2.8800003": "'-2+3",
    "v_pub_url~v2.8800004": "'@SUM(A1:A9)",
    "v_pub_url~v2.8800005": "wrong=video, resend",  # not at the start: left alone
}


async def cancel_with_hostile_reasons(h) -> None:
    await h.link()
    for publish_id, reason in REASONS.items():
        h.tiktok.add_upload(publish_id, open_id="open-1")
        assert "TikTok is stopping" in text_of(await h.command(f"{publish_id} {reason}"))


async def export(h, tmp_path, fmt: str) -> str:
    code, out, err = await run_bot_cli(
        "audit", "export", "--format", fmt, env=env_for(h.settings), cwd=tmp_path
    )
    assert code == 0, err
    return out


async def test_csv_export_neutralises_formulas_and_json_keeps_values(h, tmp_path):
    await cancel_with_hostile_reasons(h)
    rows = list(csv.DictReader(io.StringIO(await export(h, tmp_path, "csv"))))
    cancels = {r["publish_id"]: r for r in rows if r["action"] == "cancel"}
    assert {p: r["reason"] for p, r in cancels.items()} == EXPECTED_CSV
    for row in rows:  # no cell of any column starts a formula
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value

    records = json.loads(await export(h, tmp_path, "json"))
    kept = {r["publish_id"]: r["reason"] for r in records if r["action"] == "cancel"}
    assert kept == REASONS
