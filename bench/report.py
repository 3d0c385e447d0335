"""Medians over the rounds, one table, and the JSON record of a run."""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

BASELINE = "postgraphile"


@dataclass(frozen=True)
class Sample:
    """One timed wrk run of one system on one query."""

    system: str
    workers: int
    query: str
    concurrency: int
    round: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    requests: int
    socket_errors: int


@dataclass(frozen=True)
class SqlCount:
    """Statements per request from the counting phase; transaction control apart."""

    statements: float
    transaction_control: float


@dataclass(frozen=True)
class Row:
    system: str
    workers: int
    query: str
    concurrency: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    sql: SqlCount | None
    cpu_ms_per_request: float
    peak_rss_mb: float | None
    ratio: float | None  # requests per second over PostGraphile's, same query and concurrency


def summarise(
    samples: Sequence[Sample],
    sql: dict[tuple[str, str], SqlCount],
    peak_rss_mb: dict[tuple[str, int], float],
) -> list[Row]:
    groups: dict[tuple[str, int, str, int], list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[(sample.system, sample.workers, sample.query, sample.concurrency)].append(sample)
    medians = {key: _median_row(key, group, sql, peak_rss_mb) for key, group in groups.items()}
    rows = []
    baselines = {(q, c): row for (s, _w, q, c), row in medians.items() if s == BASELINE}
    for (_system, _workers, query, concurrency), row in medians.items():
        base = baselines.get((query, concurrency))
        ratio = None
        if base is not None and base.requests_per_second > 0:
            ratio = row.requests_per_second / base.requests_per_second
        rows.append(replace(row, ratio=ratio))
    return sorted(rows, key=lambda r: (r.query, r.concurrency, r.system != BASELINE, r.workers))


def _median_row(
    key: tuple[str, int, str, int],
    group: list[Sample],
    sql: dict[tuple[str, str], SqlCount],
    peak_rss_mb: dict[tuple[str, int], float],
) -> Row:
    system, workers, query, concurrency = key
    # A run where no request finished in time has no latency or CPU per request.
    answered = [sample for sample in group if sample.requests]
    return Row(
        system=system,
        workers=workers,
        query=query,
        concurrency=concurrency,
        requests_per_second=statistics.median(s.requests_per_second for s in group),
        p50_ms=_median([s.p50_ms for s in answered]),
        p99_ms=_median([s.p99_ms for s in answered]),
        sql=sql.get((system, query)),
        cpu_ms_per_request=_median([s.cpu_ms_per_request for s in answered]),
        peak_rss_mb=peak_rss_mb.get((system, workers)),
        ratio=None,
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


HEADERS = (
    "system", "workers", "query", "conc", "req/s", "p50 ms", "p99 ms",
    "sql/req", "tx/req", "cpu ms/req", "peak RSS MB", "vs PG",
)  # fmt: skip


def format_table(rows: Sequence[Row]) -> str:
    """A fixed-width table, one line per system, query and concurrency."""
    cells = [HEADERS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
             for line in cells]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.system,
        str(row.workers),
        row.query,
        str(row.concurrency),
        f"{row.requests_per_second:.0f}",
        _fixed(row.p50_ms, 1),
        _fixed(row.p99_ms, 1),
        _number(row.sql.statements if row.sql else None),
        _number(row.sql.transaction_control if row.sql else None),
        _fixed(row.cpu_ms_per_request, 2),
        "-" if row.peak_rss_mb is None else f"{row.peak_rss_mb:.0f}",
        "-" if row.ratio is None else f"{row.ratio:.2f}",
    )


def _fixed(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return str(int(value)) if value == int(value) else f"{value:.2f}"


def write_json(path: Path, rows: Sequence[Row], samples: Sequence[Sample], **extra: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        **extra,
        "rows": [asdict(row) for row in rows],
        "samples": [asdict(sample) for sample in samples],
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
