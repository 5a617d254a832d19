"""Deterministic screens of the app, shared by the SVG snapshot tests and scripts/screenshots.py.

Each scene prepares an app against the simulator and returns a `run_before` coroutine that
brings it to the screen to capture. Times on screen are pinned so the pictures are stable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pngs import png_bytes
from textual.pilot import Pilot
from textual.widgets import OptionList
from textual.widgets.option_list import OptionDoesNotExist
from ui_support import make_app, send, wait_until

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client.events import Usage
from deepseek_tui.conversation.attachments import AttachmentLimits, make_attachment
from deepseek_tui.conversation.model import Conversation, ToolCall, ToolRun
from deepseek_tui.conversation.pricing import price_message
from deepseek_tui.conversation.store import SessionStore
from deepseek_tui.simulator import Fault, Simulator
from deepseek_tui.ui.app import DeepSeekApp
from deepseek_tui.ui.screens.sessions import SessionsScreen

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

ANSWER = """## Binary search in Python

Binary search halves the range on each step, so it needs **O(log n)** comparisons.

```python
def binary_search(items: list[int], target: int) -> int:
    low, high = 0, len(items) - 1
    while low <= high:
        middle = (low + high) // 2
        if items[middle] == target:
            return middle
        if items[middle] < target:
            low = middle + 1
        else:
            high = middle - 1
    return -1
```

| input size | comparisons |
|-----------:|------------:|
| 1,000      | 10          |
| 1,000,000  | 20          |
"""

MARKDOWN_SET = """# Sorting, explained

Sorting puts items in **order**: see [the guide](https://docs.python.org/3/howto/sorting.html) or https://en.wikipedia.org/wiki/Sorting_algorithm.

## Kinds of sort

1. Comparison sorts
   - quicksort
   - merge sort
2. Counting sorts

### In Python

Use `sorted()` for a *new* list:

```python
numbers = [3, 1, 2]
print(sorted(numbers))
```

> Timsort is stable: equal items keep their order.

| algorithm  | average | stable |
|------------|--------:|:------:|
| quicksort  | n log n | no     |
| merge sort | n log n | yes    |

---

排序算法把元素按顺序排列。😀 表情也可以。
"""
"""Headings, nested lists, a labelled code fence, a quote, a table, a rule, links and CJK text."""

REASONING = (
    "The user wants binary search. I should show an iterative version, mention the "
    "logarithmic bound, and give a short table of comparison counts."
)

Scene = Callable[[Pilot], Awaitable[None]]


def answered_conversation() -> Conversation:
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True), created_at=T0)
    user = conversation.add_user("Show me binary search in Python, with its cost.")
    user.created_at = T0
    reply = conversation.start_assistant("deepseek-flash", True, "high")
    reply.content, reply.reasoning = ANSWER, REASONING
    reply.reasoning_seconds = 3.4
    reply.created_at = T0 + timedelta(seconds=1)
    reply.usage = Usage(
        prompt_tokens=1240, completion_tokens=412, cache_hit_tokens=1152, cache_miss_tokens=88, reasoning_tokens=96
    )
    conversation.finish_assistant(reply.id, finish_reason="stop", completed_at=T0 + timedelta(seconds=9.6))
    price_message(reply, _catalogue(), "USD")
    conversation.updated_at = T0 + timedelta(seconds=10)
    return conversation


def tool_conversation() -> Conversation:
    """A reply that called two tools in parallel, their results, and the answer that used them."""
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash", thinking=True), created_at=T0)
    user = conversation.add_user("What is 17 × 23 + 4, and what day is it today?")
    user.created_at = T0
    calls = conversation.start_assistant("deepseek-flash", True, "high")
    calls.reasoning = "I need the date and an exact product: the demo tools give both, so I call them together."
    calls.reasoning_seconds = 1.1
    calls.tool_calls = [
        ToolCall("call_00_Tcek83ZQ4fFb1RfPQnsPEE5w", "current_date", "{}"),
        ToolCall("call_01_IhCAliIHtM9gKpgfqbBV9873", "calculate", '{"expression": "17 * 23 + 4"}'),
    ]
    calls.created_at = T0 + timedelta(seconds=1)
    calls.usage = Usage(
        prompt_tokens=512, completion_tokens=64, cache_hit_tokens=448, cache_miss_tokens=64, reasoning_tokens=30
    )
    conversation.finish_assistant(calls.id, finish_reason="tool_calls", completed_at=T0 + timedelta(seconds=2.2))
    price_message(calls, _catalogue(), "USD")
    for call, text, seconds in zip(
        calls.tool_calls, ["Wednesday 2026-11-25, 12:00 UTC", "395"], [0.04, 0.01], strict=True
    ):
        result = conversation.add_tool_result(call.id, text, ToolRun("ok", f"demo · {call.name}", seconds))
        result.created_at = T0 + timedelta(seconds=3)
    answer = conversation.start_assistant("deepseek-flash", True, "high")
    answer.reasoning = "Both tools answered; I can state the result and the weekday."
    answer.reasoning_seconds = 0.6
    answer.content = "17 × 23 + 4 = **395**, and today is **Wednesday, 25 November 2026**."
    answer.created_at = T0 + timedelta(seconds=4)
    answer.usage = Usage(
        prompt_tokens=640, completion_tokens=48, cache_hit_tokens=576, cache_miss_tokens=64, reasoning_tokens=14
    )
    conversation.finish_assistant(answer.id, finish_reason="stop", completed_at=T0 + timedelta(seconds=5.5))
    price_message(answer, _catalogue(), "USD")
    conversation.updated_at = T0 + timedelta(seconds=6)
    return conversation


def _catalogue():
    from deepseek_tui.catalogue import Catalogue

    return Catalogue()


def pin_times(app: DeepSeekApp) -> None:
    """Replace the wall-clock times of a live conversation by fixed ones."""
    moment = T0
    for message in app.conversation.messages:
        message.created_at = moment
        if message.completed_at is not None:
            message.completed_at = moment + timedelta(seconds=2.5)
        if message.reasoning_seconds is not None:
            message.reasoning_seconds = 1.2
        moment += timedelta(seconds=10)


async def settle_account(pilot: Pilot) -> None:
    """Wait until the balance and the model list have arrived and the status line shows them.

    The balance comes first and the status line is redrawn only after the model list: waiting
    for the balance alone took pictures without it whenever /models answered slowly.
    """
    app = pilot.app

    def settled() -> bool:
        return bool(app.account.balance_text) and not any(
            worker.group == "account" and not worker.is_finished for worker in app.workers
        )

    await wait_until(settled)
    await pilot.pause()


def reasoning_sent_first(simulator: Simulator, chunks: int) -> str:
    """The reasoning in the first `chunks` data events of the simulator's answer to the last chat
    request (it answers a request the same way every time, so asking again tells)."""
    body = [r.body for r in simulator.requests if r.path.endswith("/chat/completions")][-1]
    headers = {"Authorization": f"Bearer {simulator.api_key}"}
    with httpx.stream("POST", simulator.url + "/chat/completions", json=body, headers=headers, timeout=10) as reply:
        events = [line[len("data: ") :] for line in reply.iter_lines() if line.startswith("data: ")]
    return "".join(json.loads(event)["choices"][0]["delta"].get("reasoning_content") or "" for event in events[:chunks])


def scene_app(simulator: Simulator, tmp_path: Path, name: str) -> tuple[DeepSeekApp, Scene]:
    """The app for scene `name` and the coroutine that brings it to the picture.

    Cursors stop blinking at the end, so a picture never depends on when it was taken.
    """
    app, run = _scene(simulator, tmp_path, name)

    async def steady(pilot: Pilot) -> None:
        await run(pilot)
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False
        await pilot.pause()

    return app, steady


def _scene(simulator: Simulator, tmp_path: Path, name: str) -> tuple[DeepSeekApp, Scene]:
    if name == "answered":
        SessionStore(tmp_path / "data" / "sessions").save(answered_conversation())
        app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", thinking=True))
        return app, settle_account

    if name == "empty":
        app = make_app(simulator.url, tmp_path)
        return app, settle_account

    if name == "reasoning":
        stall_after = 40
        simulator.inject(Fault.stall(after_chunks=stall_after, seconds=30))
        app = make_app(simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", thinking=True))

        async def run(pilot: Pilot) -> None:
            app = pilot.app
            await settle_account(pilot)
            await send(app, pilot, "Why is the sky blue?", wait=False)
            await wait_until(lambda: app.progress is not None and app.progress.reasoning_chars > 0)
            before_stall = reasoning_sent_first(simulator, stall_after)
            view = app.query_one("#reasoning-text")
            # Everything sent before the stall has arrived and is on screen (the coalescer has
            # flushed): not merely all that has arrived so far.
            await wait_until(lambda: app.progress.reasoning_chars == len(before_stall) and view.source == before_stall)
            await pilot.pause()
            app.progress.first_reasoning = None  # "thinking 0 s" whatever the machine's speed
            app.refresh_status()

        return app, run

    if name == "error":
        simulator.inject(Fault.drop(after_chunks=25))
        app = make_app(simulator.url, tmp_path)

        async def run(pilot: Pilot) -> None:
            app = pilot.app
            await settle_account(pilot)
            await send(app, pilot, "Explain TCP slow start")
            pin_times(app)
            await app.show_conversation(app.conversation)

        return app, run

    if name == "settings":
        SessionStore(tmp_path / "data" / "sessions").save(answered_conversation())
        app = make_app(
            simulator.url,
            tmp_path,
            chat=ChatSettings(model="deepseek-flash", thinking=True),
            show_settings=True,
            show_reasoning=False,
        )
        return app, settle_account

    if name == "help":
        app = make_app(simulator.url, tmp_path)

        async def run(pilot: Pilot) -> None:
            app = pilot.app
            await settle_account(pilot)
            app.action_help()

        return app, run

    if name == "picker":
        store = SessionStore(tmp_path / "data" / "sessions")
        for number, topic in enumerate(
            ["Rust lifetimes", "Tax forms in CNY", "Haiku about tmux", "SQL window functions"]
        ):
            conversation = pinned_conversation(topic, T0 + timedelta(hours=number))
            store.save(conversation)
        (tmp_path / "data" / "sessions" / "window-notes.json").write_text('{"schema_version": 1, "id": ')
        app = make_app(simulator.url, tmp_path, on_start="new")

        async def run(pilot: Pilot) -> None:
            await settle_account(pilot)
            pilot.app.action_sessions()
            await pilot.pause()
            await pilot.press(*"window")
            # The search runs in a thread after the typing stops; hits for part of the word may
            # come first, so wait for the list to show those of the whole word.
            await wait_until(lambda: search_hits_shown(pilot.app.screen, "window"))
            await pilot.pause()

        return app, run

    if name == "markdown":
        conversation = pinned_conversation("sorting", T0)
        conversation.active_path()[-1].content = MARKDOWN_SET
        SessionStore(tmp_path / "data" / "sessions").save(conversation)
        app = make_app(simulator.url, tmp_path, show_reasoning=False)
        return app, settle_account

    if name == "selected":
        conversation = pinned_conversation("sorting", T0)
        conversation.active_path()[-1].content = MARKDOWN_SET
        SessionStore(tmp_path / "data" / "sessions").save(conversation)
        app = make_app(simulator.url, tmp_path, show_reasoning=False)

        async def run(pilot: Pilot) -> None:
            await settle_account(pilot)
            view = pilot.app.query("AnswerBlock").last().query_one(".answer")
            # From "sorted()" in the paragraph before the code to the middle of its last line.
            row = next(y for y in range(view.line_count) if view.render_line(y).text.startswith("Use "))
            await pilot.mouse_down(view, offset=(4, row))
            await pilot.hover(view, offset=(10, row + 4))
            await pilot.mouse_up(view, offset=(10, row + 4))
            await pilot.pause()

        return app, run

    if name == "tools":
        SessionStore(tmp_path / "data" / "sessions").save(tool_conversation())
        app = make_app(
            simulator.url, tmp_path, chat=ChatSettings(model="deepseek-flash", thinking=True), show_reasoning=False
        )

        async def run(pilot: Pilot) -> None:
            await settle_account(pilot)
            block = pilot.app.query("ToolCallBlock").last()
            block.collapsed = False  # the calculator's arguments and result
            await wait_until(lambda: block.query("Contents InertStatic").last().region.height > 0)
            await pilot.pause()

        return app, run

    if name == "attach_prompt":
        work = attachment_workdir(tmp_path)
        app = make_app(simulator.url, tmp_path, show_reasoning=False)
        app.working_directory = work

        async def run(pilot: Pilot) -> None:
            app = pilot.app
            await settle_account(pilot)
            app.attach_path("src/button.py")
            app.attach_path("screenshot.png")
            prompt = app.query_one("#prompt")
            prompt.focus()
            prompt.load_text("Why does the button not show? @src/")
            prompt.move_cursor(prompt.document.end)
            await wait_until(lambda: app.query_one("#path-completions").candidates != [])
            await pilot.pause()

        return app, run

    if name == "attach_sent":
        SessionStore(tmp_path / "data" / "sessions").save(attachment_conversation())
        app = make_app(simulator.url, tmp_path, show_reasoning=False)

        async def run(pilot: Pilot) -> None:
            await settle_account(pilot)
            await wait_until(
                lambda: bool(pilot.app.query("ImagePreview")) and pilot.app.query_one("ImagePreview").display
            )

        return app, run

    if name == "branched":
        SessionStore(tmp_path / "data" / "sessions").save(branched_conversation())
        app = make_app(simulator.url, tmp_path, show_reasoning=False)
        return app, settle_account

    raise KeyError(name)


def search_hits_shown(screen: SessionsScreen, query: str) -> bool:
    if screen.filter_text != query:
        return False
    try:
        screen.query_one("#sessions-list", OptionList).get_option("h:0")  # the first hit's line
    except OptionDoesNotExist:
        return False
    return True


def pinned_conversation(topic: str, when: datetime) -> Conversation:
    """A finished two-message conversation with fixed times, usage and cost."""
    pinned_id = hashlib.sha1(topic.encode()).hexdigest()[:32]  # the picker shows ids: keep them fixed
    conversation = Conversation(id=pinned_id, settings=ChatSettings(model="deepseek-flash"), created_at=when)
    user = conversation.add_user(f"Explain {topic} briefly.")
    user.created_at = when
    reply = conversation.start_assistant("deepseek-flash", False)
    reply.content = f"**{topic}** in short: it uses a window of context to decide what comes next."
    reply.created_at = when + timedelta(seconds=1)
    reply.usage = Usage(prompt_tokens=40, completion_tokens=120, cache_hit_tokens=0, cache_miss_tokens=40)
    conversation.finish_assistant(reply.id, finish_reason="stop", completed_at=when + timedelta(seconds=3))
    price_message(reply, _catalogue(), "USD")
    conversation.updated_at = when + timedelta(seconds=3)
    return conversation


def branched_conversation() -> Conversation:
    """An edited first prompt (branch 2/2) and a regenerated answer (2/2)."""
    conversation = pinned_conversation("recursion", T0)
    first_user = conversation.active_path()[0]
    edited = conversation.edit_user(first_user.id, "Explain recursion with a Python example.")
    edited.created_at = T0 + timedelta(minutes=1)
    for number, body in enumerate(["A function that calls itself:", "Recursion, shown with factorial:"]):
        if number:
            conversation.prepare_regenerate(conversation.active_path()[-1].id)
        reply = conversation.start_assistant("deepseek-flash", False)
        reply.content = f"{body}\n\n```python\ndef fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n```"
        reply.created_at = T0 + timedelta(minutes=2 + number)
        reply.usage = Usage(prompt_tokens=60, completion_tokens=50, cache_hit_tokens=0, cache_miss_tokens=60)
        conversation.finish_assistant(
            reply.id, finish_reason="stop", completed_at=T0 + timedelta(minutes=2 + number, seconds=2)
        )
        price_message(reply, _catalogue(), "USD")
    conversation.updated_at = T0 + timedelta(minutes=5)
    return conversation


def sunset(x: int, y: int) -> tuple[int, int, int]:
    """A small picture for the attachment scenes: sky, a sun, the sea."""
    if (x - 22) ** 2 + (y - 9) ** 2 <= 25:
        return (250, 200, 60)
    if y >= 12:
        return (20, 60 + 4 * (y - 12), 120 + 6 * (y - 12))
    return (120 + 10 * y, 70 + 6 * y, 160 - 5 * y)


SCREENSHOT = png_bytes(32, 20, sunset, filters=(0, 1, 2, 3, 4))
BUTTON_SOURCE = b'def render_button(label: str, visible: bool = False) -> str:\n    return label if visible else ""\n'


def attachment_workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    (work / "src" / "button.py").write_bytes(BUTTON_SOURCE)
    (work / "src" / "layout.py").write_bytes(b"ROWS = 3\n")
    (work / "screenshot.png").write_bytes(SCREENSHOT)
    return work


def attachment_conversation() -> Conversation:
    """A question with a screenshot and a source file, and its answer."""
    conversation = pinned_conversation("hidden buttons", T0)
    limits = AttachmentLimits()
    question = conversation.active_path()[0]
    question.content = "Why does the button not show?"
    question.attachments = (
        make_attachment("screenshot.png", SCREENSHOT, limits),
        make_attachment("src/button.py", BUTTON_SOURCE, limits),
    )
    conversation.active_path()[-1].content = (
        "`render_button` is called without `visible=True`, so it returns an empty string: pass "
        "`visible=True` where the toolbar is built."
    )
    return conversation


SCENES = (
    "empty",
    "reasoning",
    "answered",
    "error",
    "settings",
    "help",
    "picker",
    "branched",
    "markdown",
    "selected",
    "attach_prompt",
    "attach_sent",
    "tools",
)
