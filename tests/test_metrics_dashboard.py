"""The sample Grafana dashboard (docs/grafana-dashboard.json): a Grafana JSON model with a
`${DS_PROMETHEUS}` input, a row for each of the operator guide's questions, and every query
naming only metrics a running bot exports on /metrics."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.metrics_helpers import METRICS_TOKEN, parse, scrape_text

DASHBOARD = Path(__file__).resolve().parent.parent / "docs" / "grafana-dashboard.json"
QUESTIONS = ("Are cancels reaching TikTok?", "Is TikTok refusing us?", "Is anything stuck?")
PROMQL_WORDS = {
    # functions
    *[
        "rate",
        "irate",
        "increase",
        "delta",
        "idelta",
        "deriv",
        "histogram_quantile",
        "abs",
        "ceil",
        "floor",
        "round",
        "clamp_min",
        "clamp_max",
        "label_replace",
        "label_join",
        "vector",
        "scalar",
        "time",
        "timestamp",
        "absent",
        "absent_over_time",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "sum_over_time",
        "count_over_time",
        "quantile_over_time",
        "last_over_time",
        "changes",
        "resets",
        "sort",
        "sort_desc",
    ],
    # aggregations and keywords
    *[
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "group",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
    ],
}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created", ""),
    "gauge": ("",),
    "info": ("_info",),
    "unknown": ("",),
}


@pytest.fixture
def settings(settings):
    return replace(settings, metrics_token=METRICS_TOKEN)


def expressions(dashboard: dict) -> list[str]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard)
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers followed by `{`, `[`, `)` or
    whitespace (or the end), less PromQL's functions and keywords, label names and strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "{}", text)  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)  # ranges
    names = set(re.findall(r"([A-Za-z_:][A-Za-z0-9_:]*)(?=[\{\[\)\s]|$)", text))
    return {n for n in names if n not in PROMQL_WORDS}


def exported(text: str) -> set[str]:
    """Every sample name the page's families may carry (with their type's suffixes)."""
    samples, _ = parse(text)
    names = {name for name, _ in samples}
    for family in text_string_to_metric_families(text):
        names.update(family.name + s for s in SUFFIXES.get(family.type, ("",)))
    return names


def test_the_name_extraction_reads_promql_as_expected():
    expr = (
        'histogram_quantile(0.99, sum by (le, kind) (rate(a_seconds_bucket{kind="x y"}[5m]))) '
        "/ ignoring (kind) b_total + max(c)"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "c"}


def test_the_dashboard_is_a_grafana_model_with_a_prometheus_input_and_the_three_questions():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] and dashboard["schemaVersion"] >= 30
    (source,) = dashboard["__inputs"]
    assert (source["name"], source["type"], source["pluginId"]) == (
        "DS_PROMETHEUS",
        "datasource",
        "prometheus",
    )
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    for question in QUESTIONS:
        assert question in rows
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"


async def test_every_query_names_a_metric_the_bot_exports(h):
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = expressions(dashboard)
    assert len(exprs) >= 10
    names = exported(await scrape_text(h))
    for expr in exprs:
        wanted = metric_names(expr)
        assert wanted, expr  # every query reads at least one metric
        assert wanted <= names, (expr, wanted - names)
