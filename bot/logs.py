"""Logging: one line per event, `key=value` extras, and secrets scrubbed at every level.

The scrubber is the last line of defence: code never logs a token, but anything shaped like
a Slack, TikTok or pipeline (tcp_…) token, a response_url (plain or encoded), a `token` field, a
configured secret is replaced before output. Every record is one line: a carriage return or
line feed inside a message, an extra or a traceback is written as `\r` / `\n`, so no value
can start a forged line. A library message known to carry a request body (Bolt's "Invalid
request signature detected (… body: …)") is cut before its body, and aiohttp's traceback for
a request it cannot parse (which quotes the request line) becomes one `http.bad_request`
line. slack_bolt and slack_sdk stay at INFO or above even under DEBUG, because at DEBUG they
print raw request bodies.

`LOG_FORMAT=json` (JsonFormatter) writes the same record as one JSON object a line: `time`
(ISO 8601, UTC), `level`, `logger`, `event` (the message), each extra as its own key (one named
like a fixed field is written `extra_<name>`), `exc` for a traceback. Every string in it goes
through the same scrubber, after the same body cut and bad-request replacement; JSON's
escaping (ASCII only) keeps every value on its line.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from datetime import UTC, datetime

from aiohttp.http_exceptions import HttpProcessingError

TOKEN_SHAPES = re.compile(
    r"(xox[abeposr]-[\w.-]+|xapp-[\w-]+|act\.[\w.~-]+|rft\.[\w.~-]+|tcp_[\w-]+"
    r"|(?<=with code: )\S+"
    r"|https?(?::|%3A)(?:/|%2F){2}hooks\.slack\.com\S*|Bearer\s+\S+)",
    re.IGNORECASE,
)
# `token=…`, `token='…'` (an extra, a repr), `"token": "…"`, `'token': '…'` (Slack's legacy
# verification token, any *_token field) and `response_url=…` in any encoding: the value goes.
FIELD_SHAPES = re.compile(
    r"(?i)\b((?:\w*token|response_url)(?:=[\"']?|%3D|[\"']?\s*:\s*[\"']?))[^\s&\"',}]*"
)
# Library messages that would carry a request body: only the part before it is kept.
BODY_CARRIERS = ("Invalid request signature detected",)
NEW_LINES = str.maketrans({"\r": "\\r", "\n": "\\n"})
STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
LIBRARY_LOGGERS = ("slack_bolt", "slack_sdk", "bolt", "aiohttp.access")
JSON_FIELDS = ("time", "level", "logger", "event", "exc")


class ScrubbingFormatter(logging.Formatter):
    def __init__(self, secrets: list[str]):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.secrets = [s for s in secrets if len(s) >= 6]

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        text = TOKEN_SHAPES.sub("[redacted]", text)
        return FIELD_SHAPES.sub(r"\1[redacted]", text)

    def tidied(self, record: logging.LogRecord) -> logging.LogRecord:
        """The record as it may be written: a request aiohttp could not parse becomes one
        `http.bad_request` event, a library message carrying a request body loses the body."""
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):  # aiohttp quotes the bad request line
            record = logging.makeLogRecord(
                {
                    **record.__dict__,
                    "msg": "http.bad_request (the request is not logged)",
                    "args": (),
                    "exc_info": None,
                    "exc_text": None,
                    "levelno": logging.INFO,
                    "levelname": "INFO",
                    "status": error.code,
                }
            )
        message = record.getMessage()
        for carrier in BODY_CARRIERS:
            if message.startswith(carrier):
                record = logging.makeLogRecord(
                    {**record.__dict__, "msg": f"{carrier} (request body not logged)", "args": ()}
                )
        return record

    def format(self, record: logging.LogRecord) -> str:
        record = self.tidied(record)
        line = super().format(record)
        extras = extras_of(record)
        if extras:
            line += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extras.items()))
        return self.scrub(line).translate(NEW_LINES)


class JsonFormatter(ScrubbingFormatter):
    """One JSON object a line, every string in it scrubbed as the text line is."""

    def format(self, record: logging.LogRecord) -> str:
        record = self.tidied(record)
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in sorted(extras_of(record).items()):
            name = key
            while name in JSON_FIELDS or name in entry:
                name = f"extra_{name}"
            # as the text line's `token='…'` would be: a token-named extra's value goes
            entry[name] = "[redacted]" if FIELD_SHAPES.fullmatch(f"{key}=") else value
        trace = (
            [record.exc_text or self.formatException(record.exc_info)] if record.exc_info else []
        )
        if record.stack_info:
            trace.append(self.formatStack(record.stack_info))
        if trace:
            entry["exc"] = "\n".join(trace)
        scrubbed = {self.scrub(k): self.scrubbed(v) for k, v in entry.items()}
        return json.dumps(scrubbed, ensure_ascii=True)

    def scrubbed(self, value):
        """A string scrubbed; None, a bool, a number as itself unless the scrubber would
        change it; anything else as the text line shows it (its repr), scrubbed."""
        if _plain(value):
            shown = repr(value)
            return value if self.scrub(shown) == shown else self.scrub(shown)
        return self.scrub(value if isinstance(value, str) else repr(value))


def extras_of(record: logging.LogRecord) -> dict:
    """What the code passed as `extra=` (and the bad-request status): every non-standard
    attribute of the record."""
    return {k: v for k, v in record.__dict__.items() if k not in STANDARD_ATTRS}


def _plain(value) -> bool:
    """A value JSON writes as itself: None, a bool, an int, a finite float."""
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, bool | int)


def setup_logging(level: str, secrets: list[str], stream=None, log_format: str = "text") -> None:
    """Root logging to `stream` (stderr) in `log_format` (text or json) at `level`, the
    request-printing libraries held at INFO or above."""
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter if log_format == "json" else ScrubbingFormatter
    handler.setFormatter(formatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    library_level = max(logging.getLevelName(level), logging.INFO)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
