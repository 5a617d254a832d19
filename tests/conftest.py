"""Shared fixtures: every test runs with its own config/data dirs and no real API key."""

from __future__ import annotations

import time

import pytest


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Point platformdirs at temporary dirs and drop any real DeepSeek settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL", "DEEPSEEK_TUI_CONFIG"):
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
