"""No part of a database password is ever printed (issue 18, point 6): `check`, the reading
tools, `copy-db` (`--to` and `--to-env`), start-up errors and the log, run as the real CLI with
passwords holding `@ : / # %` — percent-encoded as libpq requires, in the user part or as
`?password=`, and left raw by mistake, where libpq and SQLAlchemy would each read a piece of it
as the host, port or database name (such a URL is refused naming only the variable)."""

from __future__ import annotations

import io
import logging
import socket
from urllib.parse import quote, urlsplit

import pytest

from bot.logs import ScrubbingFormatter
from bot.settings import load_settings
from tests.cli_env import env_for, run_bot_cli

PASSWORD = "Kf8vQz@Lp3Mw:Rt6Yn/Hb2Jx#Gd5Sc%Wm4Pk"
PIECES = ["Kf8vQz", "Lp3Mw", "Rt6Yn", "Hb2Jx", "Gd5Sc", "Wm4Pk"]  # between the specials
ENCODED = quote(PASSWORD, safe="")  # Kf8vQz%40Lp3Mw%3ARt6Yn%2FHb2Jx%23Gd5Sc%25Wm4Pk
UNREACHABLE = "127.0.0.1:9"  # nothing listens: connection refused at once
IN_USER_PART = f"postgresql://bot:{ENCODED}@{UNREACHABLE}/tiktok"
IN_QUERY = f"postgresql://bot@{UNREACHABLE}/tiktok?password={ENCODED}"
RAW = f"postgresql://bot:{PASSWORD}@{UNREACHABLE}/tiktok"  # not encoded: ambiguous
UNREADABLE = (
    "DATABASE_URL can't be read as one libpq URL: percent-encode @ : / # % ? in the user name "
    "and password (for example @ as %40)"
)


def assert_no_piece(*outputs: str) -> None:
    text = "".join(outputs)
    for piece in [*PIECES, ENCODED]:
        assert piece not in text, (piece, text)


def test_the_pieces_cover_the_password():
    assert "".join(PIECES) == "".join(c for c in PASSWORD if c.isalnum())
    assert all(c in PASSWORD for c in "@:/#%")


@pytest.mark.parametrize("url", [IN_USER_PART, IN_QUERY], ids=["user-part", "query"])
async def test_check_and_the_reading_tools_show_the_database_without_its_password(h, tmp_path, url):
    code, out, err = await run_bot_cli(
        "check", env=env_for(h.settings, DATABASE_URL=url), cwd=tmp_path
    )

    assert code == 1, out + err
    (line,) = [line for line in out.splitlines() if "database:" in line]
    assert line.startswith("PROBLEM  database: PostgreSQL tiktok on 127.0.0.1:9: can't be used: ")
    assert_no_piece(out, err)
    for args in (("audit", "export"), ("accounts",)):
        code, out, err = await run_bot_cli(
            *args, env=env_for(h.settings, DATABASE_URL=url), cwd=tmp_path
        )
        assert (code, out) == (1, "")
        assert err.startswith("tiktok-cancel: can't use the database (PostgreSQL tiktok on ")
        assert_no_piece(out, err)


@pytest.mark.parametrize("how", ["--to", "--to-env"])
@pytest.mark.parametrize("url", [IN_USER_PART, IN_QUERY], ids=["user-part", "query"])
async def test_copy_db_names_the_target_without_its_password(h, tmp_path, url, how):
    await h.restart(database_url="")  # a SQLite file to copy
    await h.stop()
    env = env_for(h.settings, TARGET_DB=url)
    env.pop("DATABASE_URL", None)
    args = ("--to", url) if how == "--to" else ("--to-env", "TARGET_DB")

    code, out, err = await run_bot_cli("copy-db", *args, env=env, cwd=tmp_path)

    assert (code, out) == (1, "")
    assert err.startswith("tiktok-cancel: copy-db: can't use postgresql://bot")
    assert "***" in err and len(err.splitlines()) == 1, err
    assert_no_piece(out, err)


@pytest.mark.needs_postgres
async def test_a_wrong_password_full_of_specials_is_never_printed(h, tmp_path, needs_postgres):
    """The real server refuses it: its answer, as each tool prints it, carries none of it."""
    await h.restart(database_url="")  # a SQLite file for copy-db to read
    await h.stop()
    server = urlsplit(needs_postgres)
    url = f"postgresql://{server.username}:{ENCODED}@{server.hostname}:{server.port}/tiktok"
    env = env_for(h.settings, DATABASE_URL=url, TARGET_DB=url)

    code, out, err = await run_bot_cli("check", env=env, cwd=tmp_path)
    assert code == 1 and "password authentication failed" in out
    assert_no_piece(out, err)
    code, out, err = await run_bot_cli("audit", "export", env=env, cwd=tmp_path)
    assert code == 1 and "password authentication failed" in err
    assert_no_piece(out, err)
    env.pop("DATABASE_URL")
    code, out, err = await run_bot_cli("copy-db", "--to-env", "TARGET_DB", env=env, cwd=tmp_path)
    assert code == 1 and "password authentication failed" in err
    assert_no_piece(out, err)


@pytest.mark.parametrize("url", [IN_USER_PART, IN_QUERY], ids=["user-part", "query"])
async def test_a_start_up_failure_is_one_scrubbed_log_line(h, tmp_path, url):
    """`python -m bot` with its database unreachable: the failure goes through the log's
    scrubber like every other line (one line, the traceback escaped), never Python's raw
    traceback on stderr."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = env_for(h.settings, DATABASE_URL=url, PORT=str(port), HOST="127.0.0.1")

    code, out, err = await run_bot_cli(env=env, cwd=tmp_path)

    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert " CRITICAL bot bot.stopped_on_error" in line
    assert "error='OperationalError'" in line and "Connection refused" in line
    assert "\\nTraceback" in line or "Traceback (most recent call last):\\n" in line
    assert_no_piece(out, err)


@pytest.mark.parametrize(
    "args",
    [("check",), ("audit", "export"), ("accounts",), ()],
    ids=["check", "audit", "accounts", "run"],
)
async def test_a_password_left_unencoded_is_refused_without_a_piece_of_it(h, tmp_path, args):
    """Regression: SQLAlchemy read `Rt6Yn` as the port and its ValueError's traceback printed
    it; libpq reads pieces as the host. Refused before any use, naming only the variable."""
    env = env_for(h.settings, DATABASE_URL=RAW)

    code, out, err = await run_bot_cli(*args, env=env, cwd=tmp_path)

    assert code in (1, 2) and "Traceback" not in err
    assert UNREADABLE in err
    assert_no_piece(out, err)


async def test_copy_db_refuses_an_unencoded_target_without_a_piece_of_it(h, tmp_path):
    await h.restart(database_url="")
    await h.stop()
    env = env_for(h.settings, TARGET_DB=RAW)
    env.pop("DATABASE_URL", None)

    for args in (("--to", RAW), ("--to-env", "TARGET_DB")):
        code, out, err = await run_bot_cli("copy-db", *args, env=env, cwd=tmp_path)
        name = args[1] if args[0] == "--to-env" else "--to"
        assert (code, out) == (2, "")
        assert err.startswith(f"tiktok-cancel: copy-db: {name} can't be read as one libpq URL")
        assert_no_piece(out, err)


async def test_copy_db_to_env_names_a_variable_that_is_not_set(h, tmp_path):
    env = env_for(h.settings)
    env.pop("DATABASE_URL", None)

    code, out, err = await run_bot_cli("copy-db", "--to-env", "NO_SUCH_URL", env=env, cwd=tmp_path)

    assert (code, out) == (2, "")
    assert err == (
        "tiktok-cancel: copy-db: --to-env NO_SUCH_URL: that variable is not set "
        "(export it, or put it in .env)\n"
    )


def test_the_log_scrubber_knows_the_database_password_in_every_form():
    """A driver or library line quoting the URL (encoded, as typed) or the password (decoded,
    as SQLAlchemy re-encodes it) is scrubbed like a token."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "signing-secret",
            "TIKTOK_CLIENT_KEY": "ck",
            "TIKTOK_CLIENT_SECRET": "cs-secret",
            "TOKEN_ENCRYPTION_KEY": "6kzrHvmy6FeYUrtcSw0t9vhsCmVFkUDRpGTxsHNqNEE=",
            "DATABASE_URL": IN_USER_PART,
        }
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbingFormatter(settings.secrets()))
    logger = logging.getLogger("tests.database_password")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("as typed %s", IN_USER_PART)
        logger.error("decoded %s", PASSWORD, extra={"dsn": f"password={PASSWORD} host=x"})
        logger.error("re-encoded %s", quote(PASSWORD))
    finally:
        logger.removeHandler(handler)

    text = stream.getvalue()
    assert text.count("[redacted]") >= 4, text
    assert_no_piece(text)
