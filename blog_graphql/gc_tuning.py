"""Garbage collector settings for a serving process.

A GraphQL response builds thousands of short-lived objects, so the cyclic collector runs
often, and each of its oldest-generation passes walked every module, class and schema
object loaded at start-up: about a third of a feed request's CPU. Freezing what start-up
built takes it out of every collection. (A larger young generation saved no more CPU
once that was done, and raised the peak RSS under load, so the thresholds stay.)
"""

from __future__ import annotations

import gc


def tune_for_serving() -> None:
    """Call once the app is built: everything alive now lives as long as the process."""
    gc.collect()
    gc.freeze()
