"""Session picker with many stored conversations: time to open it, and to search them.

    .venv/bin/python bench/picker.py [--sessions 1000] [--messages 20] [--runs 3] [--corpus DIR]

Prints figures only. Targets: the picker on screen ≤ 300 ms once its index exists; full-text
search ≤ 300 ms (`store.search`, and hits on screen ≤ 300 ms after the 250 ms typing pause). The
app runs headless at 120×40 against the bundled simulator. Sessions are generated in a temporary
folder, or in `--corpus DIR` (kept, and reused by later runs with the same counts: making 10,000
takes minutes). Each invocation starts by deleting the index files, so the first run's open
builds the index (then the bench waits for the picker's background indexing of the text);
later runs (a new app and store each time, like a new window) use it. Before opening the picker
the bench waits for the app's own listing in the background (2 s after start) to end: the user
opens it later than that.

`store.search` is called as the picker calls it (now with a limit of 500 hits: those it shows).
Queries: a rare word ("needle" and the number of one session near the end: one session), a word
in every message ("lorem"), a two-character CJK word in one session in 50 ("中文"), and a word
that is nowhere ("absent").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this tree's code, also when run from a copy

from deepseek_tui.chat_settings import ChatSettings  # noqa: E402
from deepseek_tui.conversation.model import Conversation  # noqa: E402
from deepseek_tui.conversation.store import SessionStore  # noqa: E402
from deepseek_tui.simulator import Simulator  # noqa: E402

WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
]
CJK = ["中文", "搜索", "会话", "模型", "回答", "问题", "代码", "解释", "列表", "文件"]
INDEX_FILES = (".index.json", ".index.sqlite3", ".index.sqlite3-wal", ".index.sqlite3-shm")
QUERIES = {"rare": "needle{rare}", "common": "lorem", "CJK 2 chars": "中文", "absent": "absent"}


def make_sessions(directory: Path, count: int, messages: int) -> None:
    store = SessionStore(directory)
    for number in range(count):
        conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
        for turn in range(messages // 2):
            words = " ".join(WORDS[(number + turn + k) % len(WORDS)] for k in range(60))
            cjk = "".join(CJK[(number // 10 + turn + k) % len(CJK)] for k in range(2)) if turn == 0 else ""
            conversation.add_user(f"Question {turn} of session {number}: {words} {cjk}")
            reply = conversation.start_assistant("deepseek-flash", False)
            reply.content = f"Answer {turn}: {words} needle{number}" * 3
            conversation.finish_assistant(reply.id, finish_reason="stop")
        store.save(conversation)


async def drawn(pilot) -> None:
    """Wait until the screen has handled what is queued, then draw it (`pilot.pause()` would also
    wait for the process to be idle, which it is not while the picker indexes in the background)."""
    await pilot._wait_for_screen()
    pilot.app.screen._on_timer_update()


async def open_picker(app, pilot) -> float:
    from textual.widgets import OptionList
    from ui_support import wait_until

    from deepseek_tui.ui.screens.sessions import SessionsScreen

    start = time.perf_counter()
    await pilot.press("ctrl+o")
    await wait_until(
        lambda: (
            isinstance(app.screen, SessionsScreen)
            and app.screen.query_one("#sessions-list", OptionList).option_count > 0
        ),
        600,
    )
    await drawn(pilot)
    return time.perf_counter() - start


async def measure_floor(data_dir: Path, simulator: Simulator) -> float:
    """The picker over one conversation: what opening it costs without the store's work."""
    from ui_support import make_app

    app = make_app(simulator.url, data_dir.parent, on_start="new")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        return await open_picker(app, pilot)


async def measure(data_dir: Path, simulator: Simulator) -> dict[str, float]:
    from ui_support import make_app, wait_until

    from deepseek_tui.ui.screens import sessions as picker

    figures: dict[str, float] = {}
    app = make_app(simulator.url, data_dir.parent, on_start="new")
    listed: list[bool] = []
    real_listing = app.store.list_sessions

    def listing():
        sessions = real_listing()
        listed.append(True)
        return sessions

    app.store.list_sessions = listing
    async with app.run_test(size=(120, 40)) as pilot:
        start = time.perf_counter()
        if hasattr(app, "_warm_listing"):  # the app lists the conversations 2 s after start, in the background
            await wait_until(
                lambda: listed and not any(w.group == "listing" and not w.is_finished for w in app.workers), 900
            )
        figures["warm"] = time.perf_counter() - start
        figures["open"] = await open_picker(app, pilot)
        screen = app.screen
        start = time.perf_counter()  # the search index, built in the background while the picker is open
        index = getattr(app.store, "_index", None)
        if hasattr(index, "pending"):
            await wait_until(lambda: not index.pending(0, 1), 900, interval=0.1)
        figures["index"] = time.perf_counter() - start
        limit = getattr(picker, "HITS_SHOWN", None)
        for label, query in QUERIES.items():
            start = time.perf_counter()
            hits = app.store.search(query, limit=limit) if limit else app.store.search(query)
            figures[f"search {label}"] = time.perf_counter() - start
            figures[f"hits {label}"] = len(hits)
        for label in ("rare", "common"):
            screen.query_one("#sessions-filter").value = ""
            await pilot.pause()
            start = time.perf_counter()
            screen.query_one("#sessions-filter").value = QUERIES[label]
            await wait_until(lambda query=QUERIES[label]: screen._hits_query == query and bool(screen.hits), 60)
            await drawn(pilot)
            figures[f"shown {label}"] = time.perf_counter() - start
        await pilot.press("escape")
        await pilot.pause()
        figures["reopen"] = await open_picker(app, pilot)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", type=Path, help="keep the generated sessions here and reuse them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Simulator(api_key="sk-test") as simulator:
        tmp_path = Path(tmp)
        os.environ["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        data_dir = tmp_path / "data"
        sessions = data_dir / "sessions"
        corpus = args.corpus / f"{args.sessions}x{args.messages}" if args.corpus else sessions
        if not (corpus / "complete").exists():
            shutil.rmtree(corpus, ignore_errors=True)
            started = time.perf_counter()
            make_sessions(corpus, args.sessions, args.messages)
            (corpus / "complete").touch()
            print(f"made {args.sessions} sessions × {args.messages} messages in {time.perf_counter() - started:.1f} s")
        for name in INDEX_FILES:
            (corpus / name).unlink(missing_ok=True)
        if corpus != sessions:
            data_dir.mkdir(parents=True)
            sessions.symlink_to(corpus.resolve(), target_is_directory=True)
        size = sum(p.stat().st_size for p in corpus.iterdir() if p.suffix == ".json")
        print(f"{args.sessions} sessions, {size / 1e6:.0f} MB; load average {os.getloadavg()[0]:.2f}")
        QUERIES["rare"] = QUERIES["rare"].format(rare=args.sessions - 3)
        floor_dir = tmp_path / "floor" / "data"
        make_sessions(floor_dir / "sessions", 1, args.messages)
        results = []
        for _ in range(args.runs):
            results.append(asyncio.run(measure(data_dir, simulator)))
            results[-1]["floor"] = asyncio.run(measure_floor(floor_dir, simulator))
        index = sum(p.stat().st_size for p in corpus.iterdir() if p.name in INDEX_FILES)
        print(f"index files after the runs: {index / 1e6:.0f} MB; load average {os.getloadavg()[0]:.2f}")
    first, later = results[0], results[1:] or results
    print(
        f"{'start → listed in the background, first time':44} {first['warm'] * 1000:7.0f} ms"
        f"  (later runs {statistics.median(r['warm'] for r in later) * 1000:.0f} ms, with the 2 s wait)"
    )
    print(f"{'open the picker, first time (no index)':44} {first['open'] * 1000:7.0f} ms")
    print(f"{'then the search index, in the background':44} {first['index'] * 1000:7.0f} ms")
    rows = [
        ("open the picker (list on screen)", "open", 0.3),
        ("open it again in the same app", "reopen", 0.3),
        ("open it with 1 conversation (the floor)", "floor", 0.3),
    ]
    rows += [(f"store.search {label} ({first[f'hits {label}']:.0f} hits)", f"search {label}", 0.3) for label in QUERIES]
    rows += [(f"type {label} → hits on screen", f"shown {label}", 0.25 + 0.3) for label in ("rare", "common")]
    for label, key, target in rows:
        values = [r[key] for r in later]
        median = statistics.median(values)
        verdict = "pass" if median <= target else "FAIL"
        print(
            f"{label:44} {median * 1000:7.0f} ms  [{min(values) * 1000:.0f}–{max(values) * 1000:.0f}]"
            f"  target ≤ {target * 1000:.0f} ms  {verdict}   (first run {first[key] * 1000:.0f} ms)"
        )
    print(
        f"(medians of runs 2–{len(results)}; the first run builds the index: the listing while opening the"
        " picker, then the text in the background, and searches once that is done)"
    )


if __name__ == "__main__":
    main()
