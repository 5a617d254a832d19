"""The one wall clock. Everything that needs the date or the time of day asks `clock.now()`.

Durations ("thought for 3 s", tokens per second, save throttling) use `time.monotonic` and are
not wall-clock readings. Prices depend on the weekday and the hour, timestamps and titles on the
date: tests pin this clock (`use(FixedClock(...))`) so that nothing they check depends on when
they run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests: it shows a set moment and moves only by `step` at each reading.

    A step of a microsecond keeps events in the order they happened (the most recent session is
    still the most recent) without ever moving the clock across an hour that matters.
    """

    def __init__(self, moment: datetime, step: timedelta = timedelta(0)) -> None:
        self.step = step
        self.set(moment)

    def now(self) -> datetime:
        moment = self._moment
        self._moment += self.step
        return moment

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware moment")
        self._moment = moment.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self._moment += timedelta(**delta)


_current: Clock = SystemClock()


def now() -> datetime:
    """The current moment by the clock in use (the system's unless one was installed)."""
    return _current.now()


def use(clock: Clock) -> Clock:
    """Install `clock` for everything that reads the time; returns the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous
