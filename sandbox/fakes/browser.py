"""A person's browser over loopback HTTP: follows redirects and keeps cookies by hand.

aiohttp's cookie jar keeps no cookies from an IP address (127.0.0.1) and sends no `Secure`
cookie over http, but the bot's OAuth flows set exactly such cookies (Bolt's
`slack-app-oauth-state` is `Secure; HttpOnly`) and read them back on the redirect. `Browser`
carries them itself: every `Set-Cookie` it sees is kept (by name; all loopback servers share
one jar, as they share one host), and sent on every later request; a cookie set to expire is
dropped. `follow()` walks redirects as a browser does and returns the last page.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urljoin

import aiohttp

MAX_HOPS = 10


@dataclass
class Page:
    """The answer a browser ends on: status, text, where it is, and every URL it passed."""

    status: int
    text: str
    url: str
    trail: list[str] = field(default_factory=list)
    location: str = ""  # the Location of a redirect not followed


class Browser:
    """One browser: its cookies, kept across visits."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.cookies: dict[str, str] = {}

    def _keep(self, response: aiohttp.ClientResponse) -> None:
        for header in response.headers.getall("Set-Cookie", []):
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header)
            except CookieError:
                continue
            for name, morsel in jar.items():
                gone = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if gone:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def _headers(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    async def get(self, url: str) -> Page:
        """One GET, redirects not followed (a redirect's target is `location`)."""
        async with self.session.get(url, headers=self._headers(), allow_redirects=False) as resp:
            self._keep(resp)
            location = resp.headers.get("Location", "")
            text = await resp.text()
            return Page(resp.status, text, url, [url], urljoin(url, location) if location else "")

    async def post(self, url: str, data: dict[str, str]) -> Page:
        """One form POST, redirects not followed."""
        async with self.session.post(
            url, data=data, headers=self._headers(), allow_redirects=False
        ) as resp:
            self._keep(resp)
            location = resp.headers.get("Location", "")
            text = await resp.text()
            return Page(resp.status, text, url, [url], urljoin(url, location) if location else "")

    async def follow(self, url: str, max_hops: int = MAX_HOPS) -> Page:
        """GET `url` and every redirect after it; the page it ends on."""
        trail: list[str] = []
        page = await self.get(url)
        trail.append(url)
        while page.status in (301, 302, 303, 307, 308) and page.location:
            if len(trail) > max_hops:
                raise AssertionError(f"more than {max_hops} redirects: {trail}")
            page = await self.get(page.location)
            trail.append(page.url)
        page.trail = trail
        return page


def links_to(page: str, prefix: str) -> list[str]:
    """The links (`href`) on a page that start with `prefix`, unescaped."""
    hrefs = (html.unescape(h) for h in re.findall(r"""href\s*=\s*["']([^"']+)["']""", page))
    return [h for h in hrefs if h.startswith(prefix)]
