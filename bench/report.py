"""The benchmark's report: a table per database (the baseline and the bot at each level,
their ratio), the ratios of every run in one table, and the targets with PASS or MISS; and
the cProfile of a bot process when one was asked for."""

from __future__ import annotations

import math
import os
import platform
import pstats

import aiohttp

from bench.results import percentile
from bench.runs import Bench, DatabaseRun
from bot import event_loop

CONCURRENCY_FOR_TARGETS = 50
ACK_P99_MAX_RATIO = 1.10
REPLY_P50_MAX_RATIO = 1.15
PEAK_RSS_MAX_MB = 120.0


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.1f}"


def ratio(bot: float, base: float) -> float:
    return bot / base if base and not math.isnan(base) and not math.isnan(bot) else math.nan


def times(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}x"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def num(value: float, spec: str) -> str:
    return "-" if math.isnan(value) else format(value, spec)


def replicas_caveat() -> str:
    cores = os.cpu_count() or 0
    return (
        f"Two replicas on this {cores}-core machine share its cores with the baseline, the "
        "fakes, the load generator and PostgreSQL:\nthis run measures what coordinating "
        "through the database costs, not scale-out (that needs more cores or machines)."
    )


def database_table(bench: Bench, run: DatabaseRun) -> None:
    o = bench.o
    head = (
        f"{'conc':>5} {'target':<10} {'cmd/s':>7} {'ack p50':>8} {'ack p99':>8} {'ack max':>8} "
        f"{'reply p50':>10} {'reply p99':>10} {'failures':>9} {'cpu/cmd':>8} {'db/cmd':>7} "
        f"{'busy':>5} {'gen':>5} {'drain':>6}"
    )
    print(head)
    print("-" * len(head))
    for level in o.concurrency:
        base, bot = run.runs.get((level, "baseline")), run.runs.get((level, "bot"))
        if base is None or bot is None:
            continue
        fb, ft = base.figures(), bot.figures()
        for name, figs, res in (("baseline", fb, base), ("bot", ft, bot)):
            print(
                f"{level:>5} {name:<10} {figs['rate']:>7.0f} {ms(figs['ack_p50']):>8} "
                f"{ms(figs['ack_p99']):>8} {ms(figs['ack_max']):>8} {ms(figs['reply_p50']):>10} "
                f"{ms(figs['reply_p99']):>10} {res.failed:>9} {figs['cpu_ms']:>8.2f} "
                f"{num(figs['db_cpu_ms'], '.2f'):>7} {figs['server_busy']:>5.0%} "
                f"{figs['parent_busy']:>5.0%} {res.drain:>5.1f}s"
            )
        r = {k: ratio(ft[k], fb[k]) for k in fb}
        print(
            f"{level:>5} {'bot/base':<10} {times(r['rate']):>7} {times(r['ack_p50']):>8} "
            f"{times(r['ack_p99']):>8} {times(r['ack_max']):>8} {times(r['reply_p50']):>10} "
            f"{times(r['reply_p99']):>10} {'':>9} {times(r['cpu_ms']):>8}"
        )
    for (level, name), res in run.runs.items():
        if res.failures:
            print(f"  failures, {name} at {level}: {dict(res.failures)}")
            if res.sample:
                print(f"    first unexpected reply: {res.sample!r}")
    if run.button is not None:
        b = run.button.figures()
        print(
            f"Cancel button (block_actions cancel_upload -> chat.update at Slack), "
            f"{run.button.sent} clicks at concurrency {o.click_concurrency}: "
            f"p50 {ms(b['reply_p50'])} ms, p99 {ms(b['reply_p99'])} ms, "
            f"ack p99 {ms(b['ack_p99'])} ms, failures {run.button.failed}"
            + (f" {dict(run.button.failures)}" if run.button.failures else "")
        )
    if run.notify is not None:
        n = run.notify
        print(
            f"POST /notifications, {n.sent} requests at concurrency {o.notify_concurrency}: "
            f"{len(n.ack) / n.elapsed:.0f} requests/s (201s only), "
            f"p50 {ms(percentile(n.ack, 0.5))} ms, p99 {ms(percentile(n.ack, 0.99))} ms, "
            f"failures {n.failed}" + (f" {dict(n.failures)}" if n.failures else "")
        )
    peaks = ", ".join(f"{peak_mb(m):.1f} MB" for m in run.bot_memory)
    print(
        f"bot peak RSS (VmHWM of each bot process): {peaks or '-'} "
        f"(baseline process: {peak_mb(run.baseline_memory):.1f} MB)"
    )


def peak_mb(memory: dict[str, int]) -> float:
    return memory.get("VmHWM", 0) * 1024 / 1e6


def summary(bench: Bench) -> None:
    """One line per database and level: the ratios bot / baseline of the same run."""
    head = (
        f"{'database':<10} {'conc':>5} {'ack p50':>8} {'ack p99':>8} {'reply p50':>10} "
        f"{'reply p99':>10} {'failures':>9} {'cpu/cmd':>8} {'bot reply p50':>14}"
    )
    print(head)
    print("-" * len(head))
    for run in bench.results:
        for level in bench.o.concurrency:
            base, bot = run.runs.get((level, "baseline")), run.runs.get((level, "bot"))
            if base is None or bot is None:
                continue
            fb, ft = base.figures(), bot.figures()
            r = {k: ratio(ft[k], fb[k]) for k in fb}
            print(
                f"{run.database:<10} {level:>5} {times(r['ack_p50']):>8} {times(r['ack_p99']):>8} "
                f"{times(r['reply_p50']):>10} {times(r['reply_p99']):>10} {bot.failed:>9} "
                f"{times(r['cpu_ms']):>8} {ms(ft['reply_p50']):>11} ms"
            )
    print(
        "cpu/cmd: the bot processes' CPU per command / the baseline's; PostgreSQL's own CPU is "
        "not in it (db/cmd above)"
    )


def targets(bench: Bench, run: DatabaseRun) -> bool:
    """Print the targets for one database; True when those that count are met.

    The latency targets count for SQLite, the default; on PostgreSQL and with replicas they
    are printed for information."""
    counts = run.database == "sqlite"
    label = "" if counts else " (information, not a target)"
    passed = True
    level = CONCURRENCY_FOR_TARGETS
    if (level, "bot") in run.runs:
        fb = run.runs[level, "baseline"].figures()
        ft = run.runs[level, "bot"].figures()
        ack = ratio(ft["ack_p99"], fb["ack_p99"])
        reply = ratio(ft["reply_p50"], fb["reply_p50"])
        ack_ok = ack <= ACK_P99_MAX_RATIO
        reply_ok = reply <= REPLY_P50_MAX_RATIO
        print(
            f"  ack p99 at {level} <= {ACK_P99_MAX_RATIO:.2f}x baseline: {times(ack)} "
            f"({ms(ft['ack_p99'])} vs {ms(fb['ack_p99'])} ms)  {verdict(ack_ok)}{label}"
        )
        print(
            f"  reply p50 at {level} <= {REPLY_P50_MAX_RATIO:.2f}x baseline: {times(reply)} "
            f"({ms(ft['reply_p50'])} vs {ms(fb['reply_p50'])} ms)  {verdict(reply_ok)}{label}"
        )
        if counts:
            passed = ack_ok and reply_ok
    elif counts:
        print(f"  ack p99 / reply p50 at {level}: not run (add {level} to --concurrency)  MISS")
        passed = False
    failures = sum(res.failed for (_, name), res in run.runs.items() if name == "bot")
    failures += sum(r.failed for r in (run.button, run.notify) if r is not None)
    print(f"  0 bot failures (commands, clicks, POSTs): {failures}  {verdict(failures == 0)}")
    peaks = [peak_mb(m) for m in run.bot_memory]
    rss_ok = bool(peaks) and all(0 < p < PEAK_RSS_MAX_MB for p in peaks)
    shown = ", ".join(f"{p:.1f}" for p in peaks) or "-"
    print(f"  bot peak RSS < {PEAK_RSS_MAX_MB:.0f} MB, each process: {shown} MB  {verdict(rss_ok)}")
    base_failures = sum(res.failed for (_, name), res in run.runs.items() if name == "baseline")
    if base_failures:
        print(f"  note: the baseline failed {base_failures} commands; ratios are suspect")
    return passed and failures == 0 and rss_ok


def report(bench: Bench) -> bool:
    """Print the figures and the targets; True when every target is met."""
    o = bench.o
    print()
    print(
        f"tiktok-cancel load benchmark - Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, aiohttp {aiohttp.__version__}"
    )
    print(
        f"/tiktok-cancel <publish_id>: {o.commands} commands per run, fake TikTok cancel "
        f"latency {o.latency_ms:g} ms, {o.users} linked users, jitter 0-{o.jitter_ms:g} ms; "
        "baseline then bot at each level, for each database"
    )
    print(
        f"event loops: the bot on {event_loop.loop_name()} (bot.event_loop), "
        f"the baseline on {o.baseline_loop}"
    )
    print(bench.placement.describe())
    postgres_note = bench.placement.postgres_note()
    if postgres_note and any(run.database != "sqlite" for run in bench.results):
        print(f"note: {postgres_note}")
    for note in bench.notes:
        print(f"note: {note}")
    print(
        "latencies in ms. cpu/cmd: CPU ms the bot processes used per command, background work "
        "included;\ndb/cmd: the same for the PostgreSQL server processes serving the bot "
        "(its background writers not counted);\nbusy: the bot's CPU time / wall time of the "
        "run; gen: the same for this process (fakes + load generator);\ndrain: how long the "
        "server stayed busy after the last reply"
    )
    for run in bench.results:
        print()
        print(f"== {run.title}")
        if run.database == "replicas":
            print(replicas_caveat())
        database_table(bench, run)

    print()
    print(f"Ratios bot / baseline of the same run ({bench.placement.describe()})")
    summary(bench)
    if any(run.database == "replicas" for run in bench.results):
        print(replicas_caveat())

    print()
    print("Targets")
    passed = bool(bench.results)
    for run in bench.results:
        print(f" {run.title}")
        passed = targets(bench, run) and passed
    ran = {run.database for run in bench.results}
    missing = [d for d in bench.databases if d not in ran]
    if missing:
        print(f"  not run: {', '.join(missing)}  MISS")
        passed = False
    return passed


def print_profile(path: str, top: int = 30) -> None:
    print()
    print(f"cProfile of the bot process (event loop thread), {path}")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
