"""Helpers for the tests of the web post page (`GET /approve/<token>` and its form): an upload
waiting for approval, the link each approver's direct message carries, the page read the way
a browser reads it (its form's fields, its visible text), and the form posted back."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

from tests.held_helpers import BOB, body, msg, submit, until

ALICE = "UALICE"  # an approver
BEN = "UBEN"  # another approver
CAROL = "UCAROL"  # a member of the approvers' group, later removed from it
BROWSER_BUTTON = "Open the post page in a browser"


def approval_body(key="run-1", approvers=(ALICE, BEN), needed=1, approve_by=None, **post):
    """A held upload waiting for `needed` approvals from `approvers`, sent by BOB."""
    payload = body(key, **post)
    approval: dict = {"approvers": list(approvers), "needed": needed}
    if approve_by is not None:
        approval["approve_by"] = datetime.fromtimestamp(approve_by, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    return {**payload, "approval": approval, "submitted_by": BOB}


async def wait_for_upload(h, payload) -> None:
    status, answer = await submit(h, payload)
    assert status == 202, answer


def dms_to(h, user_id: str) -> list[dict]:
    return [
        msg(c) for c in h.slack.calls_to("chat.postMessage") if c.params.get("channel") == user_id
    ]


def browser_links(message: dict) -> list[str]:
    """The URLs of the message's "Open the post page in a browser" buttons."""
    found = []
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("text", {}).get("text") == BROWSER_BUTTON:
                found.append(element["url"])
    return found


async def dm_link(h, user_id: str, nth: int = 0) -> str:
    """The path (/approve/<token>) of the web post page link in `user_id`'s `nth` DM."""
    await until(lambda: len(dms_to(h, user_id)) > nth)
    (url,) = browser_links(dms_to(h, user_id)[nth])
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "https://bot.example.com", url
    return parts.path


@dataclass
class Page:
    """A page as a browser reads it: status, headers, its form's fields, its visible text."""

    status: int
    headers: dict[str, str]
    html: str
    fields: list[dict] = field(default_factory=list)  # input/select/option/textarea/video/img
    text: str = ""

    def all(self, tag: str, **attrs: str) -> list[dict]:
        return [
            f
            for f in self.fields
            if f["tag"] == tag and all(f.get(k) == v for k, v in attrs.items())
        ]

    def one(self, tag: str, **attrs: str) -> dict:
        (found,) = self.all(tag, **attrs)
        return found

    @property
    def form_token(self) -> str:
        return self.one("input", name="form_token")["value"]

    def checkbox(self, name: str, value: str) -> dict:
        return self.one("input", type="checkbox", name=name, value=value)


class _Reader(HTMLParser):
    VISIBLE_SKIP = {"style", "title", "script"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[dict] = []
        self.text: list[str] = []
        self._skip = 0
        self._in: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self.VISIBLE_SKIP:
            self._skip += 1
        if tag in ("input", "select", "option", "textarea", "video", "img", "a", "form"):
            entry = {"tag": tag, **{k: ("" if v is None else v) for k, v in attrs}}
            entry["content"] = ""
            self.fields.append(entry)
            if tag in ("option", "textarea", "a"):
                self._in = entry

    def handle_endtag(self, tag):
        if tag in self.VISIBLE_SKIP:
            self._skip -= 1
        if tag in ("option", "textarea", "a"):
            self._in = None
        if tag in ("p", "label", "legend", "h1", "small", "option", "div", "button"):
            self.text.append("\n")

    def handle_data(self, data):
        if self._in is not None:
            self._in["content"] += data
        if not self._skip:
            self.text.append(data)


def read_page(status: int, headers, html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    return Page(status, dict(headers), html, reader.fields, "".join(reader.text))


async def get_page(h, path: str) -> Page:
    async with h.session.get(h.url + path, allow_redirects=False) as resp:
        return read_page(resp.status, resp.headers, await resp.text())


async def post_form(h, path: str, fields) -> Page:
    """The form posted as a browser posts it (application/x-www-form-urlencoded); `fields` is
    a list of (name, value) pairs (a name may repeat, as checkboxes do)."""
    async with h.session.post(h.url + path, data=list(fields), allow_redirects=False) as resp:
        return read_page(resp.status, resp.headers, await resp.text())


def choices(form_token: str, privacy="PUBLIC_TO_EVERYONE", caption=None, **more) -> list:
    """A filled-in form: `interactions` and `commercial_kind` are lists, `commercial` a bool."""
    fields = [("form_token", form_token)]
    if caption is not None:
        fields.append(("caption", caption))
    if privacy:
        fields.append(("privacy", privacy))
    fields += [("interactions", i) for i in more.pop("interactions", ())]
    if more.pop("commercial", False):
        fields.append(("commercial", "on"))
    fields += [("commercial_kind", k) for k in more.pop("kinds", ())]
    fields += list(more.items())
    return fields


def in_seconds(seconds: float) -> float:
    return time.time() + seconds
