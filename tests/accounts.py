"""Reading links, grants and TikTok's token calls, and a team account granted to Bob: helpers
shared by the tests of linking, team accounts and token refresh."""

from __future__ import annotations

from cryptography.fernet import Fernet

from tests.conftest import buttons, db_rows, text_of

ADMIN = "UADMIN"


def stored_tokens(h, user_id: str = "U1") -> tuple[str, str]:
    """The (access, refresh) pair stored for `user_id`, decrypted with the bot's key."""
    (row,) = db_rows(h, "SELECT * FROM links WHERE kind = 'user' AND owner = ?", user_id)
    fernet = Fernet(h.settings.token_encryption_key.encode())
    return (
        fernet.decrypt(row["access_token"].encode()).decode(),
        fernet.decrypt(row["refresh_token"].encode()).decode(),
    )


def token_calls(h, grant_type: str | None = None) -> list:
    return [
        c
        for c in h.tiktok.calls_to("token")
        if grant_type is None or c.body.get("grant_type") == grant_type
    ]


def current_grant(h):
    return h.tiktok.grants[-1]


def assert_connect_button(h, message: dict) -> str:
    """The message offers exactly one Connect TikTok URL button; returns its URL."""
    connect = [b for b in buttons(message) if b.get("action_id") == "connect_tiktok"]
    assert len(connect) == 1, message
    url = connect[0]["url"]
    assert url.startswith(h.settings.tiktok_authorize_url + "?")
    return url


BOB = "UBOB"  # granted the team account in most tests


CAROL = "UCAROL"  # not granted; has her own link in some tests


def team_links(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM links WHERE kind = 'team' ORDER BY owner")


def decrypt(h, value: str) -> str:
    return Fernet(h.settings.token_encryption_key.encode()).decrypt(value.encode()).decode()


def grant_of(h, open_id: str):
    """The newest tokens the fake TikTok issued for `open_id`."""
    return [g for g in h.tiktok.grants if g.open_id == open_id][-1]


def cancel_calls(h) -> list:
    return h.tiktok.calls_to("cancel")


def cancel_rows(h) -> list[dict]:
    return [r for r in h.audit_rows() if r["action"] == "cancel"]


async def team_with_bob(h) -> None:
    """brand linked by UADMIN and granted to UBOB (escaped mention, as Slack sends it)."""
    await h.link_team()
    answer = await h.command(f"team grant brand <@{BOB}|bob>", user_id=ADMIN)
    assert f"<@{BOB}> may now act with" in text_of(answer)


def assert_no_secrets(h, text: str) -> None:
    for secret in h.tiktok.all_secrets() + h.settings.secrets():
        assert secret not in text
    for row in db_rows(h, "SELECT access_token, refresh_token FROM links"):
        assert row["access_token"] not in text
        assert row["refresh_token"] not in text
