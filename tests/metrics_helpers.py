"""Reading the bot's `GET /metrics` the way Prometheus does: over HTTP, parsed with
prometheus_client's own parser, into samples keyed by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

METRICS_TOKEN = "metrics-secret-token"  # METRICS_TOKEN in the metrics tests

Samples = dict[tuple[str, frozenset], float]


def parse(text: str) -> tuple[Samples, set[str]]:
    """Every sample by (sample name, labels), and every family name exported."""
    samples: Samples = {}
    families: set[str] = set()
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, families


async def scrape_text(h, token: str = METRICS_TOKEN, port: int | None = None) -> str:
    """The page, from the bot's port with `token`, or from `port` (METRICS_PORT) without."""
    if port is not None:
        url, headers = f"http://127.0.0.1:{port}/metrics", {}
    else:
        url, headers = h.url + "/metrics", {"Authorization": f"Bearer {token}"}
    async with h.session.get(url, headers=headers) as resp:
        assert resp.status == 200, resp.status
        assert resp.headers["Content-Type"].startswith("text/plain"), resp.headers
        return await resp.text()


async def scrape(h, **kwargs) -> Samples:
    return parse(await scrape_text(h, **kwargs))[0]


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is not there yet (a counter not yet moved)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def settled(h) -> None:
    """Until the listeners' work is done (a command's answer posted and counted) and webhook
    and cancel work in the background has finished."""
    await h.bot.parts.work.settle(10)
    await h.bot.parts.cancels.drain()
    await h.bot.parts.webhooks.drain()
