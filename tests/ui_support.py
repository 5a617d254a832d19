"""Helpers for the Pilot tests: an app wired to the local simulator and temporary dirs."""

from __future__ import annotations

import asyncio
import os
import threading
from contextlib import suppress
from pathlib import Path

from textual.css.query import NoMatches
from textual.notifications import Notification
from textual.screen import Screen
from textual.worker import WorkerCancelled, WorkerFailed

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import DeepSeekClient, RetryPolicy, Timeouts
from deepseek_tui.config import AppConfig
from deepseek_tui.ui.app import DeepSeekApp

SIZE = (120, 40)


def fast_client(key: str, url: str) -> DeepSeekClient:
    return DeepSeekClient(
        key,
        url,
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
        chat=chat or ChatSettings(model="deepseek-flash"),
        **config_changes,
    )
    app = DeepSeekApp(config, config_path=tmp_path / "config.toml", client_factory=fast_client, demo=demo)
    app.notified = keep_notifications(app)
    return app


def keep_notifications(app: DeepSeekApp) -> list[Notification]:
    """Every notification the app shows, in order, kept after its toast has gone.

    Textual forgets a notification once its timeout has passed by the wall clock, so checking
    `app._notifications` after a slow reply depends on the machine's speed.
    """
    kept: list[Notification] = []
    store = app._notifications
    add = store.add

    def add_and_keep(notification: Notification):
        kept.append(notification)
        return add(notification)

    store.add = add_and_keep
    return kept


async def wait_reply(app: DeepSeekApp, pilot, timeout: float = 30.0) -> None:
    """Wait until the current reply worker ended (any way) and the screen settled."""
    worker = app.turn_worker
    if worker is not None:
        with suppress(WorkerCancelled, WorkerFailed):
            await asyncio.wait_for(worker.wait(), timeout)
    await pilot.pause()


async def reply(app: DeepSeekApp, pilot, *keys: str, wait: bool = True) -> None:
    """Press `keys`, which start a reply; return once it has started (and ended, unless wait=False).

    A key reaches its action through several message queues; `pilot.press` can return before
    that on a loaded machine, so wait for the new reply worker itself.
    """
    before = app.turn_worker
    await pilot.press(*keys)
    await wait_until(lambda: app.turn_worker is not before)
    if wait:
        await wait_reply(app, pilot)


async def send(app: DeepSeekApp, pilot, text: str, *, wait: bool = True) -> None:
    prompt = app.query_one("#prompt")
    prompt.focus()
    prompt.load_text(text)
    await reply(app, pilot, "enter", wait=wait)


async def wait_for_screen(app: DeepSeekApp, kind: type[Screen]) -> Screen:
    """Wait until a screen of `kind` is on top and mounted (pushing one is not showing it yet)."""
    await wait_until(lambda: isinstance(app.screen, kind) and app.screen.is_mounted)
    return app.screen


async def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Wait until `predicate()` is true; a widget it looks for that is not there yet counts as false."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        missing: NoMatches | None = None
        try:
            if predicate():
                return
        except NoMatches as exc:
            missing = exc
        if loop.time() > end:
            raise AssertionError("condition not reached in time" + (f" ({missing})" if missing else ""))
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


class PtyApp:
    """A real `deepseek-tui` process on a pty of 120×40 (for what only a terminal shows: the bytes
    it receives, the exit status). `args` follow `python`; everything written is kept in `output`."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        import fcntl
        import pty
        import struct
        import subprocess
        import sys
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8", **env},
            start_new_session=True,
        )
        os.close(slave)
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO once the process has closed the terminal
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def type(self, keys: str | bytes) -> None:
        os.write(self.master, keys.encode() if isinstance(keys, str) else keys)

    def wait(self, timeout: float = 20.0) -> int:
        """The exit status; the process is killed if it has not ended by then."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        try:
            os.close(self.master)
        except OSError:
            pass


def wait_blocking(predicate, timeout: float = 30.0) -> None:
    """`wait_until` for tests without an event loop (real processes)."""
    import time

    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)
