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
"""

from __future__ import annotations

import logging
import re
import sys

from aiohttp.http_exceptions import HttpProcessingError

TOKEN_SHAPES = re.compile(
    r"(xox[abeposr]-[\w.-]+|xapp-[\w-]+|act\.[\w.~-]+|rft\.[\w.~-]+|tcp_[\w-]+"
    r"|(?<=with code: )\S+"
    r"|https?(?::|%3A)(?:/|%2F){2}hooks\.slack\.com\S*|Bearer\s+\S+)",
    re.IGNORECASE,
)
# `token=…`, `"token": "…"`, `'token': '…'` (Slack's legacy verification token, any *_token
# field) and `response_url=…` in any encoding: the value goes.
FIELD_SHAPES = re.compile(
    r"(?i)\b((?:\w*token|response_url)(?:=|%3D|[\"']?\s*:\s*[\"']?))[^\s&\"',}]*"
)
# Library messages that would carry a request body: only the part before it is kept.
BODY_CARRIERS = ("Invalid request signature detected",)
NEW_LINES = str.maketrans({"\r": "\\r", "\n": "\\n"})
STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
LIBRARY_LOGGERS = ("slack_bolt", "slack_sdk", "bolt", "aiohttp.access")


class ScrubbingFormatter(logging.Formatter):
    def __init__(self, secrets: list[str]):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.secrets = [s for s in secrets if len(s) >= 6]

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        text = TOKEN_SHAPES.sub("[redacted]", text)
        return FIELD_SHAPES.sub(r"\1[redacted]", text)

    def format(self, record: logging.LogRecord) -> str:
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
        line = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in STANDARD_ATTRS}
        if extras:
            line += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extras.items()))
        return self.scrub(line).translate(NEW_LINES)


def setup_logging(level: str, secrets: list[str], stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(ScrubbingFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    library_level = max(logging.getLevelName(level), logging.INFO)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
