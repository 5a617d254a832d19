"""Session picker with 1,000 stored conversations: time to open it, and to search them.

    .venv/bin/python bench/picker.py [--sessions 1000] [--messages 20] [--runs 3]

Prints figures only (targets: picker on screen ≤ 300 ms, full-text search ≤ 1 s). The app runs
headless at 120×40 against the bundled simulator; sessions are generated in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from deepseek_tui.chat_settings import ChatSettings  # noqa: E402
from deepseek_tui.conversation.model import Conversation  # noqa: E402
from deepseek_tui.conversation.store import SessionStore  # noqa: E402
from deepseek_tui.simulator import Simulator  # noqa: E402

WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod", "tempor", "incididunt"]


def make_sessions(directory: Path, count: int, messages: int) -> None:
    store = SessionStore(directory)
    for number in range(count):
        conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
        for turn in range(messages // 2):
            words = " ".join(WORDS[(number + turn + k) % len(WORDS)] for k in range(60))
            conversation.add_user(f"Question {turn} of session {number}: {words}")
            reply = conversation.start_assistant("deepseek-flash", False)
            reply.content = f"Answer {turn}: {words} needle{number}" * 3
            conversation.finish_assistant(reply.id, finish_reason="stop")
        store.save(conversation)


async def measure(data_dir: Path, simulator: Simulator, query: str) -> tuple[float, float, float]:
    from textual.widgets import OptionList
    from ui_support import make_app, wait_until

    from deepseek_tui.ui.screens.sessions import SessionsScreen

    app = make_app(simulator.url, data_dir.parent, on_start="new")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("ctrl+o")
        await wait_until(lambda: isinstance(app.screen, SessionsScreen)
                         and app.screen.query_one("#sessions-list", OptionList).option_count > 0, 30)
        await pilot.pause()
        opened = time.perf_counter() - start
        screen = app.screen
        start = time.perf_counter()
        hits = app.store.search(query)
        search = time.perf_counter() - start
        start = time.perf_counter()
        screen.query_one("#sessions-filter").value = query
        await wait_until(lambda: bool(screen.hits), 30)
        await pilot.pause()
        shown = time.perf_counter() - start
        assert hits
    return opened, search, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Simulator(api_key="sk-test") as simulator:
        tmp_path = Path(tmp)
        os.environ["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        data_dir = tmp_path / "data"
        started = time.perf_counter()
        make_sessions(data_dir / "sessions", args.sessions, args.messages)
        print(f"made {args.sessions} sessions × {args.messages} messages in {time.perf_counter() - started:.1f} s")
        results = [asyncio.run(measure(data_dir, simulator, "needle777")) for _ in range(args.runs)]
    for label, index, target in (("open the picker (list on screen)", 0, 0.3),
                                 ("store.search over all sessions", 1, 1.0),
                                 ("type the query → hits on screen", 2, 1.0 + 0.25)):
        values = [r[index] for r in results]
        median = statistics.median(values)
        verdict = "pass" if median <= target else "FAIL"
        print(f"{label:40} median {median * 1000:7.0f} ms  [{min(values) * 1000:.0f}–{max(values) * 1000:.0f}]"
              f"  target ≤ {target * 1000:.0f} ms  {verdict}")
    print("(the first run also builds the listing index; later runs use it)")


if __name__ == "__main__":
    main()
