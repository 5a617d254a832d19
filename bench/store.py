"""Session store timings. Run: .venv/bin/python bench/store.py

Targets: save a 1,000-message (~2 MB) conversation as JSON ≤ 50 ms, load ≤ 100 ms; TOML reported;
list 1,000 sessions ≤ 300 ms; full-text search over 1,000 sessions ≤ 1 s. Data goes to a temp dir.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation import Conversation, SessionStore
from deepseek_tui.usage import Usage

WORDS = [
    "the",
    "model",
    "answers",
    "with",
    "code",
    "and",
    "prose",
    "about",
    "sorting",
    "lists",
    "dicts",
    "and",
    "files",
]
CJK = "我们的模型回答问题并解释代码"


def text(rng: random.Random, chars: int) -> str:
    parts: list[str] = []
    size = 0
    while size < chars:
        piece = rng.choice(WORDS) if rng.random() < 0.9 else rng.choice(CJK) * 3
        parts.append(piece)
        size += len(piece) + 1
        if rng.random() < 0.05:
            parts.append("\n")
    return " ".join(parts)


def conversation(rng: random.Random, messages: int, chars: int) -> Conversation:
    conv = Conversation(settings=ChatSettings(model="deepseek-flash", system_prompt="Be brief."))
    for i in range(messages // 2):
        conv.add_user(text(rng, chars // 2))
        answer = conv.start_assistant("deepseek-flash", thinking=True, effort="high")
        answer.reasoning = text(rng, chars // 2)
        answer.content = text(rng, chars)
        answer.reasoning_seconds = 2.5
        conv.finish_assistant(answer.id, finish_reason="stop", usage=Usage(1000 + i, 500, 512, 488, 200))
        answer.cost, answer.currency = 0.0004, "USD"
    return conv


def timed(action: Callable[[], object], repeat: int = 5) -> float:
    """Median milliseconds of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def main() -> None:
    rng = random.Random(7)
    big = conversation(rng, 1000, 1340)
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        for fmt, save_target, load_target in (("json", 50, 100), ("toml", None, None)):
            store = SessionStore(root / fmt, fmt=fmt)  # type: ignore[arg-type]
            path = store.save(big)
            size = path.stat().st_size / 1e6
            save_ms = timed(lambda: store.save(big))
            load_ms = timed(lambda: store.load(big.id))
            print(
                f"{fmt:4}: 1,000 messages, {size:.2f} MB: save {save_ms:6.1f} ms"
                f"{f' (target ≤ {save_target})' if save_target else ''},"
                f" load {load_ms:6.1f} ms{f' (target ≤ {load_target})' if load_target else ''}"
            )

        many = root / "many"
        writer = SessionStore(many)
        for i in range(1000):
            conv = conversation(rng, 20, 600)
            if i % 100 == 0:
                conv.active_path()[1].content += " needle-in-a-haystack"
            writer.save(conv)
        total = sum(p.stat().st_size for p in many.iterdir()) / 1e6
        cold = timed(lambda: SessionStore(many).list_sessions(), repeat=1)
        warm_fresh = timed(lambda: SessionStore(many).list_sessions())
        reused = SessionStore(many)
        reused.list_sessions()
        warm_same = timed(lambda: reused.list_sessions())
        print(
            f"list 1,000 sessions ({total:.1f} MB, 20 messages each): first time (builds index)"
            f" {cold:.0f} ms; with index, new store {warm_fresh:.0f} ms; same store"
            f" {warm_same:.0f} ms (target ≤ 300)"
        )
        searcher = SessionStore(many)
        hits = searcher.search("needle-in-a-haystack")
        rare = timed(lambda: searcher.search("needle-in-a-haystack"), repeat=3)
        common = timed(lambda: searcher.search("sorting"), repeat=1)
        escaped = timed(lambda: searcher.search('"quoted"'), repeat=1)
        print(
            f"search 1,000 sessions: rare word ({len(hits)} hits) {rare:.0f} ms;"
            f" word in every session {common:.0f} ms; query with a quote (no prefilter)"
            f" {escaped:.0f} ms (target ≤ 1000)"
        )


if __name__ == "__main__":
    main()
