"""Warm-up before timing, the same for every system in the benchmark (see src/report.ts)."""
import time

WARM_UP_SECONDS = 0.25


def warm_up(fn):
    """Runs fn for WARM_UP_SECONDS, and at least once."""
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < WARM_UP_SECONDS:
        fn()
