"""Timeout and retry settings of the client."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. `idle`: longest silence between received bytes (keep-alive comments count);
    `deadline`: longest whole request, streaming included.

    `read_pause`: after a stream read that had to wait for the network, wait this long before
    reading again, so the next tokens arrive together. A token at a time costs one socket wakeup
    and one pass through httpx/httpcore/h11 each (bench/client.py: 0.5 ms per event, 1.0 CPU-s
    for 2,000 tokens at 200 tok/s); pausing 50 ms brings that to 0.4 CPU-s. A fast stream (100
    items or more between reads that wait) is not paused, nor is the end of a stream. 0: off.
    """

    connect: float = 10.0
    idle: float = 120.0
    deadline: float = 1800.0
    read_pause: float = 0.05


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for retryable failures that happen before any output arrived.

    `max_attempts` counts the first try: 4 means up to 3 retries.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: bool = True

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        if self.jitter:
            delay = delay / 2 + random.uniform(0, delay / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay))
        return float(delay)
