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
    viewer: str  # "anonymous" or "signed-in"
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
    viewer: str
    concurrency: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    sql: SqlCount | None
    cpu_ms_per_request: float
    peak_rss_mb: float | None
    # Over PostGraphile's with as many processes, same query, viewer and concurrency:
    ratio: float | None  # requests per second (above 1: blog_graphql answers more)
    cpu_ratio: float | None  # CPU ms per request (above 1: blog_graphql spends more)

    @property
    def pairing(self) -> tuple[int, str, str, int]:
        """What a row is compared on: process count, query, viewer and concurrency."""
        return (self.workers, self.query, self.viewer, self.concurrency)


GroupKey = tuple[str, int, str, str, int]  # system, workers, query, viewer, concurrency


def summarise(
    samples: Sequence[Sample],
    sql: dict[tuple[str, str, str], SqlCount],
    peak_rss_mb: dict[tuple[str, int], float],
) -> list[Row]:
    """Medians per system, process count, query, viewer and concurrency, with ratios."""
    groups: dict[GroupKey, list[Sample]] = defaultdict(list)
    for s in samples:
        groups[(s.system, s.workers, s.query, s.viewer, s.concurrency)].append(s)
    medians = [_median_row(key, group, sql, peak_rss_mb) for key, group in groups.items()]
    return sorted(
        with_ratios(medians),
        key=lambda r: (r.query, r.viewer != "anonymous", r.concurrency, r.workers,
                       r.system != BASELINE),
    )  # fmt: skip


def with_ratios(rows: Sequence[Row]) -> list[Row]:
    """Each row's ratios to PostGraphile's row with the same process count, query, viewer
    and concurrency; none where that run is missing."""
    baselines = {row.pairing: row for row in rows if row.system == BASELINE}
    paired = []
    for row in rows:
        base = baselines.get(row.pairing)
        if base is None:
            paired.append(replace(row, ratio=None, cpu_ratio=None))
            continue
        paired.append(
            replace(
                row,
                ratio=_ratio(row.requests_per_second, base.requests_per_second),
                cpu_ratio=_ratio(row.cpu_ms_per_request, base.cpu_ms_per_request),
            )
        )
    return paired


def _ratio(value: float, base: float) -> float | None:
    if math.isnan(value) or math.isnan(base) or base <= 0:
        return None
    return value / base


def _median_row(
    key: GroupKey,
    group: list[Sample],
    sql: dict[tuple[str, str, str], SqlCount],
    peak_rss_mb: dict[tuple[str, int], float],
) -> Row:
    system, workers, query, viewer, concurrency = key
    # A run where no request finished in time has no latency or CPU per request.
    answered = [sample for sample in group if sample.requests]
    return Row(
        system=system,
        workers=workers,
        query=query,
        viewer=viewer,
        concurrency=concurrency,
        requests_per_second=statistics.median(s.requests_per_second for s in group),
        p50_ms=_median([s.p50_ms for s in answered]),
        p99_ms=_median([s.p99_ms for s in answered]),
        sql=sql.get((system, query, viewer)),
        cpu_ms_per_request=_median([s.cpu_ms_per_request for s in answered]),
        peak_rss_mb=peak_rss_mb.get((system, workers)),
        ratio=None,
        cpu_ratio=None,
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


HEADERS = (
    "system", "procs", "query", "viewer", "conc", "req/s", "p50 ms", "p99 ms",
    "sql/req", "tx/req", "cpu ms/req", "peak RSS MB", "req/s vs PG", "cpu vs PG",
)  # fmt: skip


def format_table(rows: Sequence[Row]) -> str:
    """A fixed-width table, one line per system, process count, query, viewer and
    concurrency; "vs PG" is over PostGraphile with as many processes."""
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
        row.viewer,
        str(row.concurrency),
        f"{row.requests_per_second:.0f}",
        _fixed(row.p50_ms, 1),
        _fixed(row.p99_ms, 1),
        _number(row.sql.statements if row.sql else None),
        _number(row.sql.transaction_control if row.sql else None),
        _fixed(row.cpu_ms_per_request, 2),
        "-" if row.peak_rss_mb is None else f"{row.peak_rss_mb:.0f}",
        "-" if row.ratio is None else f"{row.ratio:.2f}",
        "-" if row.cpu_ratio is None else f"{row.cpu_ratio:.2f}",
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
