"""Helpers for the Pilot tests: an app wired to the local simulator and temporary dirs."""

from __future__ import annotations

import asyncio
import os
import threading
from contextlib import suppress
from pathlib import Path

from textual.worker import WorkerCancelled, WorkerFailed

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import DeepSeekClient, RetryPolicy, Timeouts
from deepseek_tui.config import AppConfig
from deepseek_tui.ui.app import DeepSeekApp

SIZE = (120, 40)


def fast_client(key: str, url: str) -> DeepSeekClient:
    return DeepSeekClient(
        key, url,
        timeouts=Timeouts(connect=2, idle=3, deadline=30),
        retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, jitter=False),
    )


def make_app(
    base_url: str,
    tmp_path: Path,
    *,
    api_key: str | None = "sk-test",
    chat: ChatSettings | None = None,
    demo: bool = False,
    **config_changes,
) -> DeepSeekApp:
    config = AppConfig(
        api_key=api_key,
        base_url=base_url,
        data_dir=str(tmp_path / "data"),
        chat=chat or ChatSettings(model="deepseek-v4-flash"),
        **config_changes,
    )
    return DeepSeekApp(
        config, config_path=tmp_path / "config.toml", client_factory=fast_client, demo=demo
    )


async def wait_reply(app: DeepSeekApp, pilot, timeout: float = 15.0) -> None:
    """Wait until the current reply worker ended (any way) and the screen settled."""
    worker = app.turn_worker
    if worker is not None:
        with suppress(WorkerCancelled, WorkerFailed):
            await asyncio.wait_for(worker.wait(), timeout)
    await pilot.pause()


async def send(app: DeepSeekApp, pilot, text: str, *, wait: bool = True) -> None:
    prompt = app.query_one("#prompt")
    prompt.focus()
    prompt.load_text(text)
    await pilot.press("enter")
    await pilot.pause()
    if wait:
        await wait_reply(app, pilot)


async def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


class FifoTrap:
    """A named pipe at `path` that lets go of any reader that opens it, so that code which
    blocks on it makes a test fail (`opened` is True) instead of hanging it."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.opened = False
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)  # fails while nobody reads
            except OSError:
                self._stop.wait(0.01)
                continue
            self.opened = True
            try:
                os.write(fd, b"not a session")
            finally:
                os.close(fd)

    def close(self) -> None:
        self._stop.set()
        self._watcher.join()

    def __enter__(self) -> "FifoTrap":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
