"""Logging: one line per event, `key=value` extras, and secrets scrubbed at every level.

The scrubber is the last line of defence: code never logs a token, but anything shaped like
a Slack or TikTok token, a response_url, or a configured secret is replaced before output.
slack_bolt and slack_sdk stay at INFO or above even under DEBUG, because at DEBUG they
print raw request bodies and headers.
"""

from __future__ import annotations

import logging
import re
import sys

TOKEN_SHAPES = re.compile(
    r"(xox[abposr]-[\w-]+|xapp-[\w-]+|act\.[\w.~-]+|rft\.[\w.~-]+"
    r"|https://hooks\.slack\.com/\S+|Bearer\s+\S+)"
)
STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
LIBRARY_LOGGERS = ("slack_bolt", "slack_sdk", "bolt", "aiohttp.access")


class ScrubbingFormatter(logging.Formatter):
    def __init__(self, secrets: list[str]):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.secrets = [s for s in secrets if len(s) >= 6]

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return TOKEN_SHAPES.sub("[redacted]", text)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in STANDARD_ATTRS}
        if extras:
            line += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extras.items()))
        return self.scrub(line)


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
