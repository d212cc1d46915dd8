"""`DATABASE_URL` (and `copy-db`'s target) as the bot reads it and as a person may see it.

A libpq URL is read two ways: by SQLAlchemy, which connects with its parts, and by libpq's own
rules (`psycopg.conninfo`), which is what the operator's `psql "$DATABASE_URL"` does. A password
with `@`, `:`, `/`, `#` or `%` must be percent-encoded; left raw, the two disagree on where the
password ends and a piece of it lands in the host, the port or the database name, where it
would be printed. Such a URL is refused with a line that quotes nothing of it.

`shown` is the URL with its password hidden (also a `?password=`/`?sslpassword=` one);
`secrets_of` is every form in which its password could appear, for the log scrubber.
"""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import make_url
from sqlalchemy.engine import URL

SCHEMES = ("postgresql://", "postgres://")
FORM = "postgresql://USER:PASSWORD@HOST:PORT/DB"
SECRET_PARAMETERS = ("password", "sslpassword")
HIDDEN = "***"


def problem(url: str, name: str = "DATABASE_URL") -> str | None:
    """Why `url` can't be used, in one line naming `name` and nothing of the URL; None if it
    can. Never raises."""
    if not url.startswith(SCHEMES):
        return f"{name} must look like {FORM} (libpq form)"
    unreadable = (
        f"{name} can't be read as one libpq URL: percent-encode @ : / # % ? in the user name "
        "and password (for example @ as %40)"
    )
    try:
        parsed = make_url("postgresql+psycopg://" + url.split("://", 1)[1])
        by_libpq = _libpq(url)
    except Exception:  # the parsers' messages quote the URL: never shown
        return unreadable
    if by_libpq is None:
        return unreadable
    host = parsed.host or ""
    ours = {
        "user": parsed.username or "",
        "password": parsed.password or "",
        "dbname": parsed.database or "",
        "port": str(parsed.port or ""),
    }
    theirs = {key: by_libpq.get(key, "") for key in ours}
    if "password" in parsed.query:  # ?password= : libpq reads it the same way
        ours["password"] = str(parsed.query["password"])
    if "@" in host or ours != theirs or (host and host != by_libpq.get("host", "")):
        return unreadable
    return None


def _libpq(url: str) -> dict[str, str] | None:
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    return {k: str(v) for k, v in conninfo_to_dict(url).items()}


def _parsed(url: str) -> URL | None:
    try:
        return make_url(url)
    except Exception:
        return None


def shown(url: str) -> str:
    """The URL as it may be printed: its password (in the user part or the query) hidden."""
    parsed = _parsed(url)
    if parsed is None:
        return "<unreadable URL>"
    hidden = {k: HIDDEN for k in SECRET_PARAMETERS if k in parsed.query}
    if hidden:
        parsed = parsed.update_query_dict(hidden)
    # the query's *** is written percent-encoded; shown as the user part's is
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", HIDDEN)


def secrets_of(url: str) -> list[str]:
    """Every form the URL's password takes: as typed (percent-encoded), decoded, and encoded
    the way SQLAlchemy writes it; also `?password=` and `?sslpassword=` ones."""
    if not url:
        return []
    found: list[str] = []
    parsed = _parsed(url)
    values = [] if parsed is None else [parsed.password]
    if parsed is not None:
        values += [parsed.query.get(k) for k in SECRET_PARAMETERS]
    rest = url.split("://", 1)[-1]
    userinfo = rest.split("@", 1)[0] if "@" in rest else ""
    values.append(userinfo.partition(":")[2])  # as typed, still percent-encoded
    for value in values:
        if isinstance(value, str) and value:
            found += [value, quote(value, safe=""), quote(value)]
    return sorted(set(found), key=len, reverse=True)  # the longest first, for replacing
