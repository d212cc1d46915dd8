"""A whole session that handles every kind of secret (link, refresh, cancel, unlink), every
secret it handled, and where one leaked."""

from __future__ import annotations

from tests.conftest import text_of

PID = "v_pub_url~v2.123456789"
PID2 = "v_pub_url~v2.987654321"


def every_secret(h) -> list[str]:
    secrets = h.tiktok.all_secrets() + h.settings.secrets() + [h.slack.bot_token]
    assert all(len(s) >= 6 for s in secrets)
    return sorted(set(secrets))


def leaks(haystack: str | bytes, secrets: list[str]) -> list[str]:
    if isinstance(haystack, bytes):
        return [s for s in secrets if s.encode() in haystack]
    return [s for s in secrets if s in haystack]


async def whole_session(h) -> None:
    await h.link()
    assert "Brand Social" in text_of(await h.command("whoami"))
    h.tiktok.add_upload(PID, open_id="open-1")
    h.tiktok.add_upload(PID2, open_id="open-1")
    assert "TikTok is stopping" in text_of(await h.command(f"{PID} first"))
    h.tiktok.expire_access_token(h.tiktok.grants[-1].access_token)
    assert "TikTok is stopping" in text_of(await h.command(f"{PID2} after refresh"))
    assert h.tiktok.refresh_count == 1
    assert "Unlinked" in text_of(await h.command("disconnect"))
    assert h.tiktok.revoked


# Every token shape the scrubber must take out, in text and JSON logs alike.
TOKEN_SHAPES = [
    "xoxb-1234-5678-abcdefABCDEF",
    "xoxp-1234-abcdef",
    "xapp-1-A1-123-abcdef",
    "act.1a2B3c4D5e6F.g~h-i_j",
    "rft.ZZ9yy8XX7ww6",
    "https://hooks.slack.com/commands/T1/123/abc",
    # many workspaces: rotated bot tokens, their refresh tokens, pipeline tokens
    "xoxe.xoxb-1-MTIzNDU2.Nzg5MDEy",
    "xoxe-1-My0xLTEyMzQ1Ng",
    "tcp_Zm9vYmFyYmF6cXV4-_12",
]
