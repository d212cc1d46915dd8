"""Each pipeline credential does one job (issue 18, point 11): `POST /uploads`, which may post a
video publicly, takes `UPLOAD_TOKEN` and never `NOTIFY_TOKEN` (which only announces), and the
reverse; `UPLOAD_ACCOUNTS` limits the team accounts it posts as, `UPLOAD_URL_PREFIXES` the
`source_url`s it hands TikTok; a `source_url` carrying user:password is always refused. Over
HTTP against the Slack and TikTok stand-ins, and through the real CLI."""

from __future__ import annotations

import json

import pytest

from bot.settings import SettingsError, load_settings
from tests.cli_env import env_for, run_bot_cli
from tests.conftest import NOTIFY, UPLOAD, db_rows, notify
from tests.held_helpers import SOURCE, body, held_harness, inits, submit
from tests.upload_helpers import top_posts


@pytest.fixture
async def hb(h):
    return await held_harness(h)


def nothing_held(h) -> None:
    assert top_posts(h) == []
    assert db_rows(h, "SELECT * FROM held_uploads") == []
    assert inits(h) == []


async def test_the_notify_token_is_refused_on_uploads(hb):
    status, answer = await submit(hb, body(hold_s=600), token=NOTIFY)

    assert status == 401, answer
    assert answer == {"error": "missing or wrong bearer token"}
    nothing_held(hb)
    status, _ = await submit(hb, body(hold_s=600))  # the upload token: the route is on
    assert status == 202


async def test_the_upload_token_is_refused_on_notifications(hb):
    status, answer = await notify(hb, {"publish_id": "v_pub_url~v2.7001", "channel": "C1"}, UPLOAD)

    assert status == 401, answer
    assert db_rows(hb, "SELECT * FROM announcements") == []
    status, _ = await notify(hb, {"publish_id": "v_pub_url~v2.7001", "channel": "C1"})
    assert status == 201


async def test_uploads_answer_404_while_upload_token_is_unset_even_with_notify_token(hb):
    await hb.restart(upload_token=None)

    for token in (NOTIFY, UPLOAD, ""):
        status, answer = await submit(hb, body(hold_s=600), token=token)
        assert (status, answer) == (404, {"error": "not found"})
    nothing_held(hb)


async def test_an_account_outside_upload_accounts_is_a_400_naming_it(hb):
    await hb.restart(upload_accounts=frozenset({"launches", "promo"}))

    status, answer = await submit(hb, body(hold_s=600))

    assert status == 400
    assert answer == {
        "error": "account brand is not one this pipeline may post as (UPLOAD_ACCOUNTS lists them)"
    }
    nothing_held(hb)
    await hb.restart(upload_accounts=frozenset({"promo", "brand"}))
    status, answer = await submit(hb, body(hold_s=600))
    assert status == 202, answer


@pytest.mark.parametrize(
    ("source_url", "status"),
    [
        ("https://cdn.example.com/videos/teaser.mp4", 202),
        ("https://cdn.example.com/teaser.mp4", 400),  # same host, outside the prefix
        ("https://cdn.example.com/videos/../private/teaser.mp4", 400),
        ("https://cdn.example.com/videos/%2e%2e/private/teaser.mp4", 400),
        ("https://cdn.example.com.evil.example/videos/teaser.mp4", 400),
        ("https://other.example/videos/teaser.mp4", 400),
    ],
)
async def test_upload_url_prefixes_limit_the_source_url(hb, source_url, status):
    await hb.restart(upload_url_prefixes=("https://cdn.example.com/videos/",))

    got, answer = await submit(hb, {**body(hold_s=600), "source_url": source_url})

    assert got == status, answer
    if status == 400:
        assert answer["error"].startswith("source_url ")
        nothing_held(hb)


@pytest.mark.parametrize(
    "source_url",
    [
        "https://pipeline:hunter2-secret-0815@cdn.example.com/teaser.mp4",
        "https://pipeline@cdn.example.com/teaser.mp4",
        "https://:hunter2-secret-0815@cdn.example.com/teaser.mp4",
        "https://cdn.example.com\\@evil.example/teaser.mp4",
    ],
)
async def test_a_source_url_with_user_password_is_always_refused(hb, source_url):
    """No UPLOAD_URL_PREFIXES set: still refused, and the password is not echoed."""
    status, answer = await submit(hb, {**body(hold_s=0), "source_url": source_url})

    assert status == 400
    assert answer == {"error": "source_url must not carry a user name or password (user:password@)"}
    nothing_held(hb)


async def test_the_cli_upload_keeps_to_upload_accounts_and_refuses_user_password(hb, tmp_path):
    """`python -m bot upload` goes straight to the database (no HTTP, so no token), but holds
    to the same limits as POST /uploads."""
    args = ("--channel", "C1", "--account", "brand", "--privacy", "SELF_ONLY", "--hold", "600")
    env = env_for(hb.settings, UPLOAD_ACCOUNTS="promo")

    code, out, err = await run_bot_cli("upload", *args, SOURCE, env=env, cwd=tmp_path)

    assert (code, out) == (1, "")
    assert err == (
        "tiktok-cancel: account brand is not one this pipeline may post as "
        "(UPLOAD_ACCOUNTS lists them)\n"
    )
    source = "https://u:hunter2-secret-0815@cdn.example.com/v.mp4"
    code, out, err = await run_bot_cli(
        "upload", *args, source, env=env_for(hb.settings), cwd=tmp_path
    )
    assert (code, out) == (1, "")
    assert "user:password" in err and "hunter2-secret-0815" not in err
    nothing_held(hb)
    code, out, _ = await run_bot_cli(
        "upload", *args, SOURCE, env=env_for(hb.settings, UPLOAD_ACCOUNTS="brand"), cwd=tmp_path
    )
    assert code == 0 and json.loads(out)["status"] == "held"


# --- the settings --------------------------------------------------------------------------


def env(**values: str) -> dict[str, str]:
    base = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "TIKTOK_CLIENT_KEY": "ck",
        "TIKTOK_CLIENT_SECRET": "cs",
        "TOKEN_ENCRYPTION_KEY": "6kzrHvmy6FeYUrtcSw0t9vhsCmVFkUDRpGTxsHNqNEE=",
    }
    return {**base, **values}


def test_upload_settings_are_read():
    settings = load_settings(
        env(
            UPLOAD_TOKEN="upload-0001",
            UPLOAD_ACCOUNTS=" brand, promo ,,",
            UPLOAD_URL_PREFIXES="https://cdn.example.com/videos/, https://media.example.org",
        )
    )

    assert settings.upload_token == "upload-0001"
    assert settings.upload_accounts == frozenset({"brand", "promo"})
    # a bare origin gets its "/": https://media.example.org.evil.example/ is not under it
    assert settings.upload_url_prefixes == (
        "https://cdn.example.com/videos/",
        "https://media.example.org/",
    )
    assert "upload-0001" in settings.secrets()


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {"UPLOAD_TOKEN": "same-0002", "NOTIFY_TOKEN": "same-0002"},
            "UPLOAD_TOKEN must differ from NOTIFY_TOKEN: one may post videos, the other only "
            "announces them",
        ),
        (
            {"UPLOAD_URL_PREFIXES": "https://cdn.example.com/, http://cdn.example.com/"},
            "UPLOAD_URL_PREFIXES must be https:// URL prefixes (the ones verified at TikTok), "
            "without a user:password part, separated by commas",
        ),
        (
            {"UPLOAD_URL_PREFIXES": "https://user:pw-0003@cdn.example.com/"},
            "UPLOAD_URL_PREFIXES must be https:// URL prefixes (the ones verified at TikTok), "
            "without a user:password part, separated by commas",
        ),
        (
            {"UPLOAD_ACCOUNTS": "brand, not a name"},
            "UPLOAD_ACCOUNTS must be team account names (letters, digits, _ and -), "
            "separated by commas",
        ),
    ],
)
def test_bad_upload_settings_are_named_without_their_values(values, problem):
    with pytest.raises(SettingsError) as refused:
        load_settings(env(**values))

    assert refused.value.problems == [problem]
