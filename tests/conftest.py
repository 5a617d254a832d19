"""Shared fixtures: every test runs with its own config/data dirs and no real API key."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings

from deepseek_tui import clock

# Property tests check results, never how long an example took: Hypothesis's default 200 ms
# deadline and its too-slow health check fail on a loaded machine.
settings.register_profile("deepseek-tui", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("deepseek-tui")

WEEKDAY_OFF_PEAK = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
"""A Wednesday at noon UTC: off-peak prices (peak is 01:00-04:00 and 06:00-10:00 UTC, Mon-Fri)."""
WEEKDAY_PEAK = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)
SATURDAY_PEAK_HOURS = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
"""A Saturday inside the weekday peak hours: off-peak, weekends have no peak."""
MOMENTS = {"weekday-off-peak": WEEKDAY_OFF_PEAK, "weekday-peak": WEEKDAY_PEAK, "saturday": SATURDAY_PEAK_HOURS}


@pytest.fixture(autouse=True)
def pinned_clock():
    """Every test runs at a fixed moment: nothing it checks depends on when the suite runs."""
    fixed = clock.FixedClock(WEEKDAY_OFF_PEAK, step=timedelta(microseconds=1))
    previous = clock.use(fixed)
    try:
        yield fixed
    finally:
        clock.use(previous)


@pytest.fixture(params=list(MOMENTS), ids=list(MOMENTS))
def any_moment(request, pinned_clock):
    """Run a test at a weekday peak hour, a weekday off-peak hour and on a Saturday."""
    pinned_clock.set(MOMENTS[request.param])
    return request.param


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Point platformdirs at temporary dirs and drop any real DeepSeek settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL", "DEEPSEEK_TUI_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX"):  # copying must not reach this machine's clipboard
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")  # local times on screen (session picker) are the same everywhere
    time.tzset()
    return tmp_path


@pytest.fixture
def simulator():
    """A running local DeepSeek simulator (api key "sk-test"), stopped after the test."""
    from deepseek_tui.simulator import Simulator

    sim = Simulator(api_key="sk-test").start()
    try:
        yield sim
    finally:
        sim.stop()


def pytest_addoption(parser):
    parser.addoption(
        "--starved-pilot",
        action="store_true",
        help="Cut Textual's pilot waits to one event-loop turn, as on a starved machine: a UI test "
        "that checks state right after pilot.press/pause instead of waiting for it fails.",
    )


def pytest_configure(config):
    if config.getoption("--starved-pilot"):
        # textual._wait.wait_for_idle ends when the process used little CPU during a 20 ms
        # sleep; a loaded machine makes that happen while messages are still queued.
        import textual._wait as wait

        wait.SLEEP_GRANULARITY, wait.SLEEP_IDLE, wait.process_time = 0.0, 1.0, lambda: 0.0
