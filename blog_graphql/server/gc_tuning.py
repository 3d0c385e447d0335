"""Garbage-collector settings for a serving process.

A GraphQL response builds thousands of short-lived objects, so the cyclic collector runs
often, and each of its oldest-generation passes walked every module, class and schema
object loaded at start-up: about a third of a feed request's CPU. Freezing what start-up
built takes it out of every collection.

A process holding thousands of WebSockets tracks millions of objects more, and resolving
one comment for a thousand subscribers set off several full collections, which tripled
the time to deliver it (bench/live_bench.py). So the youngest generation is also
collected less often: 10,000 allocations rather than 700. Much larger thresholds saved no
more CPU on the feed and raised the peak RSS under load past 200 MB per worker.
Cycles are still collected.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 10_000  # CPython's default is 700 (2,000 from 3.13)


def tune_for_serving() -> None:
    """Call once the app is built: everything alive now lives as long as the process."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
