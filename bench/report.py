"""Turn a run's :class:`~bench.results.Results` into the Markdown tables, and file them.

Every cell is a median over rounds with its min and max, of a figure paired within a
round (see :mod:`bench.results`). ``docs/BENCHMARKS.md`` keeps the latest tables between
:data:`START` and :data:`END`; everything outside the markers is written by hand and left
alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.paths import PATHS
from bench.paths import Path as BenchPath
from bench.results import Measurement, Results, SideBySide, Spread
from bench.targets import ACCESS_LOGS, Target
from bench.targets import DASHBOARD_KEY as DASHBOARD
from bench.targets import DASHBOARD_SPREAD_KEY as DASHBOARD_SPREAD
from bench.targets import DIRECT_KEY as DIRECT
from bench.targets import GATEWAY_KEY as GATEWAY
from bench.targets import LITELLM_KEY as LITELLM
from bench.targets import NGINX_KEY as NGINX

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
STREAMS_START = "<!-- bench:streams:start -->"
STREAMS_END = "<!-- bench:streams:end -->"

OPENAI_PASS = BenchPath("openai", "openai").key

# The targets for one worker on one core.
MIN_TIMES_LITELLM = 40.0
MAX_ADDED_P50_MS = 0.35
MAX_ADDED_P99_MS = 1.0
MAX_DASHBOARD_COST = 0.05
MAX_ACCESS_LOG_COST = 0.05
"""Of requests/s at 32 connections, the default configuration against ``--log-level warning``."""
MAX_ACCESS_LOG_P99_MS = 0.1
"""Added to the p99 at 1 connection by the access log."""
MAX_TIMES_NGINX_P50 = 2.0
MIN_OF_NGINX_RPS = 1 / 3

PASS_THROUGH_ONLY = {DIRECT, NGINX}
"""Targets that cannot translate: their translated rows use the upstream's own path."""

DASHBOARDS = {
    DASHBOARD: "whole gateway on one CPU",
    DASHBOARD_SPREAD: "supervisor off the serving CPU",
}
"""Each dashboard target, compared with the gateway without it, and how it is pinned."""


@dataclass(frozen=True)
class RunInfo:
    date: str
    command: str
    cpu: str
    pinning: str
    versions: dict[str, str]
    settings: str


def render(results: Results, targets: Sequence[Target], info: RunInfo) -> str:
    """The whole generated section, without the markers."""
    keys = {target.key for target in targets}
    labels = {target.key: target.label for target in targets}
    compared = [target for target in targets if target.key != DIRECT]
    parts = [
        _header(info),
        _added_table(
            results,
            compared,
            "Added latency at 1 connection (ms)",
            (("p50", _p50), ("p99", _p99)),
        ),
        _throughput(results, keys, labels),
        _load_p99(results, keys, labels),
        _added_table(
            results,
            compared,
            "Streaming, added at the client (ms)",
            (("first byte", _first_byte), ("total", _stream_total)),
        ),
        _errors_and_memory(results, targets),
        _side_by_side(results, labels),
        _targets(results, keys),
        _failures(results, labels),
    ]
    return "\n".join(part for part in parts if part)


def update_document(document: Path, section: str, start: str = START, end: str = END) -> None:
    """Replace what lies between the markers (or append the markers) in ``document``."""
    block = f"{start}\n{section.rstrip()}\n{end}"
    if not document.exists():
        document.write_text(block + "\n", encoding="utf-8")
        return
    text = document.read_text(encoding="utf-8")
    head, opened, rest = text.partition(start)
    _, closed, tail = rest.partition(end)
    if opened and closed:
        document.write_text(head + block + tail, encoding="utf-8")
    else:
        document.write_text(text.rstrip() + "\n\n" + block + "\n", encoding="utf-8")


def _header(info: RunInfo) -> str:
    versions = ", ".join(f"{name} {version}" for name, version in info.versions.items())
    return (
        f"## Latest run\n\n"
        f"- Date: {info.date}\n"
        f"- Command: `{info.command}`\n"
        f"- CPU: {info.cpu}; {info.pinning}\n"
        f"- Versions: {versions}\n"
        f"- Settings: {info.settings}\n\n"
        "Each cell: median over rounds [min, max]. Added figures subtract the direct-to-mock "
        "figure of the same round; a translated path is compared with the direct run of its "
        "upstream's API.\n"
    )


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [
        f"### {title}\n",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _added(field: Callable[[Measurement], float]) -> Callable[[Measurement, Measurement], float]:
    return lambda measured, direct: field(measured) - field(direct)


def _ratio(field: Callable[[Measurement], float]) -> Callable[[Measurement, Measurement], float]:
    return lambda a, b: field(a) / field(b) if field(b) else math.nan


def _rps(m: Measurement) -> float:
    return m.requests_per_s


Field = Callable[[Measurement], float]


def _added_table(
    results: Results,
    compared: Sequence[Target],
    title: str,
    columns: tuple[tuple[str, Field], tuple[str, Field]],
) -> str:
    """Per path and target, two figures each minus the direct run of the path's baseline."""
    (first_label, _), (second_label, _) = columns
    header = ["Path"]
    for target in compared:
        header += [f"{target.label} {first_label}", second_label]
    rows = []
    for path in PATHS:
        row = [path.label]
        for target in compared:
            for _, field in columns:
                spread = results.paired(
                    (target.key, path.key), (DIRECT, path.baseline.key), _added(field)
                )
                row.append(_ms(spread))
        rows.append(row)
    return _table(title, header, rows)


def _p50(m: Measurement) -> float:
    return m.latency_p50_ms


def _p99(m: Measurement) -> float:
    return m.latency_p99_ms


def _load_p99_field(m: Measurement) -> float:
    return m.load_p99_ms


def _throughput(results: Results, keys: set[str], labels: dict[str, str]) -> str:
    present = list(labels)  # in the targets' order
    header = ["Path", *(f"{labels[key]} (req/s)" for key in present)]
    ratios = _ratio_columns(keys, labels)
    header += [title for title, _, _ in ratios]
    rows = []
    for path in PATHS:
        row = [path.label]
        for key in present:
            row.append(_count(results.single((key, _measured_path(key, path)), _rps)))
        for _, a, b in ratios:
            a_key, b_key = (a, _measured_path(a, path)), (b, _measured_path(b, path))
            row.append(_times(results.paired(a_key, b_key, _ratio(_rps))))
        rows.append(row)
    return _table("Throughput at 32 connections", header, rows)


def _ratio_columns(keys: set[str], labels: dict[str, str]) -> list[tuple[str, str, str]]:
    """(column title, numerator target, denominator target) for each pair in this run."""
    pairs = [
        (GATEWAY, DIRECT),
        (GATEWAY, LITELLM),
        (GATEWAY, NGINX),
        *ACCESS_LOGS.items(),
        *((key, GATEWAY) for key in DASHBOARDS),
    ]
    return [(f"{labels[a]} ÷ {labels[b]}", a, b) for a, b in pairs if a in keys and b in keys]


def _load_p99(results: Results, keys: set[str], labels: dict[str, str]) -> str:
    present = list(labels)  # in the targets' order
    header = ["Path", *(labels[key] for key in present)]
    dashboards = [key for key in DASHBOARDS if GATEWAY in keys and key in keys]
    header += [f"{labels[key]} ÷ {labels[GATEWAY]}" for key in dashboards]
    rows = []
    for path in PATHS:
        row = [path.label]
        for key in present:
            row.append(_ms(results.single((key, _measured_path(key, path)), _load_p99_field)))
        for key in dashboards:
            on, off = (key, path.key), (GATEWAY, path.key)
            row.append(_times(results.paired(on, off, _ratio(_load_p99_field))))
        rows.append(row)
    return _table("p99 latency at 32 connections (ms)", header, rows)


def _measured_path(target: str, path: BenchPath) -> str:
    """The mock and nginx only have pass-through runs: use the path's baseline for them."""
    return path.baseline.key if target in PASS_THROUGH_ONLY else path.key


def _first_byte(m: Measurement) -> float:
    return m.first_byte_ms


def _stream_total(m: Measurement) -> float:
    return m.stream_total_ms


def _errors_and_memory(results: Results, targets: Sequence[Target]) -> str:
    rows = [
        [target.label, str(results.errors(target.key)), _mib(results.rss(target.key))]
        for target in targets
    ]
    return _table("Errors and memory", ["Target", "Errors", "Peak RSS (MiB)"], rows)


def _targets(results: Results, keys: set[str]) -> str:
    checks: list[tuple[str, Spread | None, bool]] = []
    if {GATEWAY, LITELLM} <= keys:
        for path in PATHS:
            spread = results.paired((GATEWAY, path.key), (LITELLM, path.key), _ratio(_rps))
            ok = spread is not None and spread.median >= MIN_TIMES_LITELLM
            checks.append(
                (f"{path.label}: throughput ≥ {MIN_TIMES_LITELLM:.0f}x LiteLLM", spread, ok)
            )
    if {GATEWAY, DIRECT} <= keys:
        for field, limit, name in (
            (_p50, MAX_ADDED_P50_MS, "p50"),
            (_p99, MAX_ADDED_P99_MS, "p99"),
        ):
            spread = results.paired((GATEWAY, OPENAI_PASS), (DIRECT, OPENAI_PASS), _added(field))
            ok = spread is not None and spread.median <= limit
            checks.append((f"OpenAI pass-through: added {name} ≤ {limit} ms", spread, ok))
    checks += _access_log_checks(results)
    checks += _nginx_checks(results, keys)
    for dashboard, pinning in DASHBOARDS.items():
        if {dashboard, DIRECT} <= keys:
            on_top = (dashboard, OPENAI_PASS), (DIRECT, OPENAI_PASS)
            spread = results.paired(*on_top, _added(_p99))
            ok = spread is not None and spread.median <= MAX_ADDED_P99_MS
            name = f"OpenAI pass-through: added p99 ≤ {MAX_ADDED_P99_MS} ms with the dashboard"
            checks.append((f"{name}, {pinning}", spread, ok))
        if not {GATEWAY, dashboard} <= keys:
            continue
        # Pooled over every path and round: between two rounds of the same target the
        # 32-connection p99 moves by more than the 5% asked of the dashboard, so a median
        # of three per path would mostly measure that noise.
        pairs = [
            pair
            for path in PATHS
            for pair in results.pairs((dashboard, path.key), (GATEWAY, path.key))
        ]
        rps = Spread.of([_ratio(_rps)(on, off) for on, off in pairs])
        p99 = Spread.of([_ratio(_load_p99_field)(on, off) for on, off in pairs])
        ok = (
            rps is not None
            and p99 is not None
            and rps.median >= 1 - MAX_DASHBOARD_COST
            and p99.median <= 1 + MAX_DASHBOARD_COST
        )
        detail = f"{_times(rps)} req/s, {_times(p99)} p99 at 32 connections"
        within = f"dashboard within {MAX_DASHBOARD_COST:.0%}, {pinning}"
        checks.append((f"Every path and round: {within} ({detail})", None, ok))
    errors = sum(results.errors(key) for key in keys)
    errors += sum(figures.errors for figures in results.side_by_side.values())
    checks.append(("No errors", Spread(errors, errors, errors), errors == 0))
    lines = ["### Targets\n"]
    for name, spread, ok in checks:
        shown = f": {_plain(spread)}" if spread is not None else ""
        lines.append(f"- {'✅' if ok else '❌'} {name}{shown}")
    return "\n".join(lines) + "\n"


def _side_by_side(results: Results, labels: dict[str, str]) -> str:
    """The access log's cost per path, from the runs side by side (see :mod:`bench.side_by_side`)."""
    if not results.side_by_side:
        return ""
    header = [
        "Path",
        "Target",
        "req/s ÷ --log-level warning, both at once",
        "p99 at 1 connection (ms)",
        "--log-level warning p99 (ms)",
        "difference (ms)",
        "errors",
    ]
    names = {path.key: path.label for path in PATHS}
    rows = [
        [
            names[path],
            labels[on],
            _times(Spread.of(list(figures.requests_per_s_ratios))),
            f"{figures.p99_on_ms:.2f}",
            f"{figures.p99_off_ms:.2f}",
            f"{_p99_added(figures):+.2f}",
            str(figures.errors),
        ]
        for (on, path), figures in results.side_by_side.items()
    ]
    return _table("The access log side by side", header, rows) + (
        "\nBoth configurations run at once on the server CPU (see bench/side_by_side.py). "
        "req/s: both loaded at the same time, median [min, max] over legs. p99: one request at "
        "a time, to each in turn, timed by one Python client; its own time is in both.\n"
    )


def _p99_added(figures: SideBySide) -> float:
    return figures.p99_on_ms - figures.p99_off_ms


def _access_log_checks(results: Results) -> list[tuple[str, Spread | None, bool]]:
    """The access log's cost, from the runs side by side, over every path."""
    checks: list[tuple[str, Spread | None, bool]] = []
    for on in ACCESS_LOGS:
        measured = [f for (target, _), f in results.side_by_side.items() if target == on]
        if not measured:
            continue
        rps = Spread.of([ratio for f in measured for ratio in f.requests_per_s_ratios])
        p99 = Spread.of([_p99_added(f) for f in measured])
        ok = (
            rps is not None
            and p99 is not None
            and rps.median >= 1 - MAX_ACCESS_LOG_COST
            and p99.median <= MAX_ACCESS_LOG_P99_MS
        )
        name = "llm-gateway" + (" --dashboard" if on == DASHBOARD else "")
        detail = f"{_times(rps)} req/s at 32 connections, {_ms(p99)} ms p99 at 1 connection"
        within = f"within {MAX_ACCESS_LOG_COST:.0%} and +{MAX_ACCESS_LOG_P99_MS} ms of"
        checks.append(
            (f"Side by side, every path: {name} {within} --log-level warning ({detail})", None, ok)
        )
    return checks


def _nginx_checks(results: Results, keys: set[str]) -> list[tuple[str, Spread | None, bool]]:
    if not {GATEWAY, NGINX, DIRECT} <= keys:
        return []
    added_p50 = _added(_p50)

    def p50_times(gateway: Measurement, nginx: Measurement, direct: Measurement) -> float:
        floor = added_p50(nginx, direct)
        return added_p50(gateway, direct) / floor if floor > 0 else math.nan

    triples = results.together((GATEWAY, OPENAI_PASS), (NGINX, OPENAI_PASS), (DIRECT, OPENAI_PASS))
    p50 = Spread.of([p50_times(*triple) for triple in triples])
    rps = results.paired((GATEWAY, OPENAI_PASS), (NGINX, OPENAI_PASS), _ratio(_rps))
    return [
        (
            f"OpenAI pass-through: added p50 ≤ {MAX_TIMES_NGINX_P50:g}x nginx's",
            p50,
            p50 is not None and p50.median <= MAX_TIMES_NGINX_P50,
        ),
        (
            "OpenAI pass-through: throughput ≥ 1/3 of nginx's",
            rps,
            rps is not None and rps.median >= MIN_OF_NGINX_RPS,
        ),
    ]


def _failures(results: Results, labels: dict[str, str]) -> str:
    if not results.failures:
        return ""
    lines = ["### Not measured\n"]
    names = {path.key: path.label for path in PATHS}
    for (target, path), reason in sorted(results.failures.items()):
        lines.append(f"- {labels.get(target, target)}, {names.get(path, path)}: {reason}")
    return "\n".join(lines) + "\n"


def _format(spread: Spread | None, number: Callable[[float], str]) -> str:
    if spread is None:
        return "—"
    if spread.low == spread.high:
        return number(spread.median)
    return f"{number(spread.median)} [{number(spread.low)}, {number(spread.high)}]"


def _ms(spread: Spread | None) -> str:
    return _format(spread, lambda v: f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}")


def _count(spread: Spread | None) -> str:
    return _format(spread, lambda v: f"{v:,.0f}")


def _times(spread: Spread | None) -> str:
    return _format(spread, lambda v: f"{v:.3g}x" if v < 10 else f"{v:.0f}x")


def _mib(spread: Spread | None) -> str:
    return _format(spread, lambda v: f"{v:.0f}")


def _plain(spread: Spread) -> str:
    return _format(spread, lambda v: f"{v:.3g}")
