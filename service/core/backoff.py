"""Exponential backoff with jitter, for everything Margins retries later."""

from __future__ import annotations

import random
from datetime import timedelta


def delay(attempts: int, base: float, cap: float, jitter: tuple[float, float]) -> timedelta:
    """base·2^(attempts−1), at most `cap` seconds, times a random factor within `jitter`.

    Full jitter (0.5, 1.0) spreads retries of many rows that failed together; a narrower band
    (0.8, 1.2) keeps a single endpoint's retries near their schedule.
    """
    seconds = min(base * 2 ** max(0, attempts - 1), cap)
    return timedelta(seconds=seconds * random.uniform(*jitter))
