"""UI performance figures for the issue's targets. Run: .venv/bin/python bench/ui.py [--runs 5]

Prints figures only (no assertions). Every measurement runs in its own process, against a
simulator in *another* process, so the simulator's CPU is never counted in the app's:

  1. start → ready (tmux 120×40, until "Ask DeepSeek" shows) ≤ 0.5 s; import time reported
  2. 2,000 tokens at 200 tok/s: last token → fully on screen ≤ 100 ms; app CPU for the turn ≤ 1.5 s
  3. 2,000 tokens at full speed: send → fully on screen ≤ 1 s
  4. 20,000 tokens at full speed with one 800-line code fence: ≤ 5 s
  5. 2–4 again with 300 earlier messages in the conversation
  6. a 1,000-message conversation: start → interactive ≤ 1 s
  7. peak RSS ≤ 120 MB
  8. typing: key → character in the prompt, with 1,000 messages open and with 2 (the floor) ≤ 50 ms

Streaming cases run headless in-process (`run_test(size=(120, 40))`, "on screen" = the answer's
Markdown `.source` equals the message content, the stream is closed, and a frame was composited
after that) and, with --tmux (default on), for real in tmux (the app as a subprocess; done = the
answer's last line shows in `capture-pane`; CPU from /proc/<pid>/stat). Headless skips writing
frames to a terminal; on this machine its CPU figures came within ~10% of tmux's.

Options: --runs N (default 5) · --only 1,2,4 (5 = 5.2,5.3,5.4) · --no-tmux · --no-headless
         --profile CASE  cProfile (CPU clock) of one headless run: 1 (start), 2, 3, 4, 5.x, 6 (history);
                         writes /tmp/bench-ui-CASE.prof and prints the top of it
         --trace CASE    one headless run of a streaming case without cProfile; prints its JSON
         --patch A,B     experimental monkeypatches applied in the app process only (headless and tmux),
                         never in the repo: see PATCHES, plus interval:SECONDS and window:MESSAGES
Diagnostics in the per-run JSON (--profile and --trace print it): frametrace (CPU per screen update by kind and
per decile of the stream), layouttrace (who asked for layout), null (drop the answer: the floor);
BENCH_TURN_PROFILE=/tmp/x.prof profiles (CPU clock) only the turn of a streaming case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = str(ROOT / ".venv" / "bin" / "python")
APP_BIN = str(ROOT / ".venv" / "bin" / "deepseek-tui")
SIZE = (120, 40)
MAX_TOKENS = 32_000
"""Sent with every request: above the longest answer (case 4), so no case is cut at the default
output budget (deepseek-flash: 8K without thinking)."""
PROMPT = "Explain sorting in Python"
FENCE_LINES = 800
CASE_TIMEOUT = 120.0

# name: (answer tokens, tok/s or None, simulator style, earlier messages)
STREAM_CASES = {
    "2": (2_000, 200.0, "markdown", 0),
    "3": (2_000, None, "markdown", 0),
    "4": (20_000, None, "mixed", 0),
    "5.2": (2_000, 200.0, "markdown", 300),
    "5.3": (2_000, None, "markdown", 300),
    "5.4": (20_000, None, "mixed", 300),
}


# ------------------------------------------------------------------------------------------------
# The simulator process
# ------------------------------------------------------------------------------------------------


def sim_main(args: argparse.Namespace) -> None:
    """Run a Simulator; print its URL; stamp each stream's end time and content into files."""
    from deepseek_tui.simulator import Simulator, answers, server
    from deepseek_tui.simulator.tokens import split_tokens

    original = answers._shape_content

    def shaped(body, options, seed):  # "mixed": Markdown, one 800-line fence, a closing line
        if options.answer_style != "mixed":
            return original(body, options, seed)
        lines = []
        for index in range(FENCE_LINES // 3 + 1):
            lines += [f"def step_{index}(value: int) -> int:\n", f"    return value * {index} + {index % 7}\n", "\n"]
        fence = split_tokens("\n\n```python\n" + "".join(lines[:FENCE_LINES]) + "```\n")
        tail = split_tokens("\nThat is the whole listing; the answer ends here.\n")
        head_size = max(options.answer_tokens - len(fence) - len(tail), 0)
        head = original(body, answers.AnswerOptions(head_size, "markdown"), seed)
        return head + fence + tail

    answers._shape_content = shaped
    original_plan = server.plan_chat

    def plan(request, options):
        result = original_plan(request, options)
        Path(args.stamp + ".content").write_text("".join(result.content))
        return result

    server.plan_chat = plan
    handler = server._Handler
    original_write = handler._write_event

    def write_event(self, event: bytes) -> None:
        original_write(self, event)
        if event.rstrip().endswith(b"[DONE]"):
            with open(args.stamp, "a") as stamp:
                stamp.write(f"{time.time()}\n")

    handler._write_event = write_event
    sim = Simulator(api_key="sk-test", token_rate=args.rate or None)
    sim.answer_tokens = args.tokens
    sim.answer_style = args.style
    sim.start()
    print(sim.url, flush=True)
    try:
        sys.stdin.read()  # until the bench closes our stdin (or kills us)
    finally:
        sim.stop()


class Sim:
    def __init__(self, tokens: int, rate: float | None, style: str, workdir: Path) -> None:
        self.stamp = workdir / f"sim-{time.monotonic_ns()}.stamp"
        self.proc = subprocess.Popen(
            [
                PY,
                __file__,
                "_sim",
                "--tokens",
                str(tokens),
                "--rate",
                str(rate or 0),
                "--style",
                style,
                "--stamp",
                str(self.stamp),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.close()
            raise RuntimeError("simulator did not start")

    def done_times(self) -> list[float]:
        return [float(x) for x in self.stamp.read_text().split()] if self.stamp.exists() else []

    def content(self) -> str:
        path = Path(str(self.stamp) + ".content")
        return path.read_text() if path.exists() else ""

    def close(self) -> None:
        _kill(self.proc)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=3)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ------------------------------------------------------------------------------------------------
# Conversations with history
# ------------------------------------------------------------------------------------------------


def save_history(sessions_dir: Path, messages: int) -> str:
    """Save a `messages`-long conversation (Markdown answers); returns the last answer's text."""
    from deepseek_tui.chat_settings import ChatSettings
    from deepseek_tui.conversation import Conversation, SessionStore

    conv = Conversation(settings=ChatSettings(model="deepseek-flash"))
    last = ""
    for turn in range(messages // 2):
        conv.add_user(f"Question {turn}: how do I sort a list of dicts by key number {turn}?")
        answer = conv.start_assistant("deepseek-flash", thinking=False)
        answer.content = last = (
            f"## Answer {turn}\n\nUse `sorted` with a key function; it is stable, so ties keep "
            f"their order. Here is answer number {turn} in full.\n\n"
            f"- **Key**: `key=lambda d: d['k{turn}']`\n- **Reverse**: `reverse=True`\n\n"
            f"```python\nrows = sorted(rows, key=lambda d: d['k{turn}'])\n```\n\n"
            f"Closing remark for answer {turn}: HISTORY-END-{turn}."
        )
        conv.finish_assistant(answer.id, finish_reason="stop")
    SessionStore(sessions_dir, "json").save(conv)
    return last


# ------------------------------------------------------------------------------------------------
# Experimental monkeypatches (applied only inside the bench's app process, never in the repo)
# ------------------------------------------------------------------------------------------------

FRAME_LOG: list[tuple[str, float, int]] = []


def _patch_frametrace() -> None:
    """Record each screen update: kind (layout / scroll / paint), CPU seconds, dirty widgets."""
    from textual.screen import Screen

    original = Screen._on_timer_update

    def on_timer_update(self) -> None:
        kind = "layout" if self._layout_required else "scroll" if self._scroll_required else "paint"
        dirty = len(self._dirty_widgets)
        names = ",".join(sorted({type(w).__name__ for w in self._dirty_widgets}))[:60]
        start = time.process_time()
        original(self)
        FRAME_LOG.append((kind, time.process_time() - start, dirty, names))

    Screen._on_timer_update = on_timer_update


LAYOUT_CALLERS: dict[str, int] = {}


def _patch_layouttrace() -> None:
    """Count refresh(layout=True) calls by widget class and calling function."""
    import sys as _sys

    from textual.widget import Widget

    original = Widget.refresh

    def refresh(self, *regions, repaint=True, layout=False, recompose=False):
        if layout:
            frame = _sys._getframe(1)
            key = f"{type(self).__name__} <- {frame.f_code.co_name}:{Path(frame.f_code.co_filename).name}"
            LAYOUT_CALLERS[key] = LAYOUT_CALLERS.get(key, 0) + 1
        return original(self, *regions, repaint=repaint, layout=layout, recompose=recompose)

    Widget.refresh = refresh


def _patch_null_answer() -> None:
    """Lower bound: drop answer text instead of rendering it (network, parsing, status line only)."""
    from deepseek_tui.ui.widgets.messages import AnswerBlock

    async def write(self, text: str) -> None:
        self.bench_dropped = getattr(self, "bench_dropped", "") + text

    AnswerBlock.write = write


PATCHES = {
    "frametrace": _patch_frametrace,
    "null": _patch_null_answer,
    "layouttrace": _patch_layouttrace,
}


# ------------------------------------------------------------------------------------------------
# Headless in-process measurements (run in a child process: `bench/ui.py _case ...`)
# ------------------------------------------------------------------------------------------------


def _make_app(url: str, data_dir: Path):
    from deepseek_tui.chat_settings import ChatSettings
    from deepseek_tui.config import AppConfig
    from deepseek_tui.ui.app import DeepSeekApp

    config = AppConfig(
        api_key="sk-test", base_url=url, data_dir=str(data_dir), chat=ChatSettings(max_tokens=MAX_TOKENS)
    )
    return DeepSeekApp(config, config_path=data_dir / "config.toml", persist_config=False)


def _hook_display(app) -> list[float]:
    frames: list[float] = []
    original = app._display

    def display(screen, renderable):
        if renderable is not None and not app._batch_count:
            frames.append(time.perf_counter())
        return original(screen, renderable)

    app._display = display
    return frames


async def stream_case(url: str, data_dir: Path) -> dict:
    from deepseek_tui.conversation.turn import AnswerText, Turn
    from deepseek_tui.ui.widgets.messages import AnswerBlock

    marks: dict[str, float] = {}
    original_stream = Turn.stream

    async def stream(self, *args, **kwargs):
        async for event in original_stream(self, *args, **kwargs):
            if isinstance(event, AnswerText):
                marks["last_delta"] = time.perf_counter()
                marks.setdefault("first_delta", marks["last_delta"])
            yield event

    Turn.stream = stream
    original_close = AnswerBlock.close_stream

    async def close_stream(self):
        await original_close(self)
        marks.setdefault("closed", time.perf_counter())

    AnswerBlock.close_stream = close_stream

    app = _make_app(url, data_dir)
    frames = _hook_display(app)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(200):  # the client connects and the account refresh ends
            if app.client is not None and not app.workers:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        prompt = app.query_one("#prompt")
        prompt.focus()
        prompt.load_text(PROMPT)
        await pilot.pause()
        cpu0, t0, wall0 = time.process_time(), time.perf_counter(), time.time()
        main0 = time.thread_time()
        turn_profile = None
        if os.environ.get("BENCH_TURN_PROFILE"):  # CPU profile of the turn only (not the start)
            import cProfile

            turn_profile = cProfile.Profile(time.thread_time)
            turn_profile.enable()
        await pilot.press("enter")
        deadline = t0 + CASE_TIMEOUT - 10
        while (app.turn_worker is None or app.turn_worker.is_running) and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        answer = app.query(AnswerBlock).last()
        parts = [m for m in answer.query(".answer, .answer-part, .frozen")]
        message = app.conversation.active_path()[-1]
        closed = marks.get("closed", time.perf_counter())
        while time.perf_counter() < deadline and not any(f > closed for f in frames):
            await asyncio.sleep(0.002)
        shown = next((f for f in frames if f > closed), float("nan"))
        cpu1 = time.process_time()
        main1 = time.thread_time()
        if turn_profile is not None:
            turn_profile.disable()
            turn_profile.dump_stats(os.environ["BENCH_TURN_PROFILE"])
        import threading

        threads = [t.name for t in threading.enumerate()]
        chat = app.query_one("#chat")
        result = {
            "send_to_screen": shown - t0,
            "last_delta_to_screen": shown - marks.get("last_delta", float("nan")),
            "cpu": cpu1 - cpu0,
            "cpu_main_thread": main1 - main0,
            "threads": threads,
            "source_ok": "".join(getattr(m, "bench_source", None) or m.source for m in parts) == message.content
            and len(message.content) > 0,
            "markdown_widgets": len(parts),
            "worker": f"{app.turn_worker.state.name} {app.turn_worker.error!r}"[:300],
            "status": message.status,
            "chars": len(message.content),
            "at_bottom": chat.scroll_y >= chat.max_scroll_y - 1,
            "frames": sum(1 for f in frames if t0 <= f <= shown),
            "dom_nodes": len(list(app.screen.walk_children())),
            "wall0": wall0,
            "t_shown_wall": wall0 + (shown - t0),
        }
        if LAYOUT_CALLERS:
            result["layout_callers"] = sorted(LAYOUT_CALLERS.items(), key=lambda kv: -kv[1])[:12]
        if FRAME_LOG:
            summary: dict[str, list[float]] = {}
            for kind, cpu, _dirty, _names in FRAME_LOG:
                summary.setdefault(kind, []).append(cpu)
            result["frame_cpu"] = {
                k: (len(v), round(sum(v), 3), round(statistics.median(v) * 1000, 1)) for k, v in summary.items()
            }
            paints: dict[str, int] = {}
            for kind, _cpu, _dirty, names in FRAME_LOG:
                if kind == "paint":
                    paints[names] = paints.get(names, 0) + 1
            result["paint_dirty"] = sorted(paints.items(), key=lambda kv: -kv[1])[:6]
            layouts = [cpu for kind, cpu, _d, _n in FRAME_LOG if kind == "layout"]
            tenth = max(len(layouts) // 10, 1)
            result["layout_ms_by_decile"] = [
                round(statistics.median(layouts[i : i + tenth]) * 1000, 1) for i in range(0, len(layouts), tenth)
            ]
            result["frames_20_to_40"] = [
                f"{kind[0]}{cpu * 1000:.1f}:{names}" for kind, cpu, _d, names in FRAME_LOG[20:40]
            ]
    return result


async def history_case(data_dir: Path, marker: str) -> dict:
    import deepseek_tui.ui.app  # noqa: F401  (imports are counted by case 1, not here)
    from deepseek_tui.ui.widgets.prompt import PromptArea

    t0 = time.perf_counter()
    app = _make_app("http://127.0.0.1:9", data_dir)  # nothing listens: the start must not wait on it
    frames = _hook_display(app)
    async with app.run_test(size=SIZE):
        ready = None
        while time.perf_counter() - t0 < CASE_TIMEOUT - 10:
            if isinstance(app.focused, PromptArea) and (marker == "none" or app.query(f"#m-{marker}")):
                ready = ready or time.perf_counter()
                if any(f > ready for f in frames):
                    break
            await asyncio.sleep(0.002)
        shown = next((f for f in frames if ready and f > ready), float("nan"))
        return {"start_to_interactive": shown - t0, "dom_nodes": len(list(app.screen.walk_children()))}


def apply_patches(spec: str) -> None:
    for name in filter(None, (spec or "").split(",")):
        if name.startswith("window:"):  # window:12 → MOUNT_WINDOW = 12 (messages mounted on open)
            import deepseek_tui.ui.widgets.chat_view as chat_view

            chat_view.MOUNT_WINDOW = int(name.split(":")[1])
        elif name.startswith("interval:"):  # interval:0.25 → Coalescer.INTERVAL = 0.25
            from deepseek_tui.ui.widgets.streaming import Coalescer

            Coalescer.INTERVAL = float(name.split(":")[1])
        else:
            PATCHES[name]()


def case_main(args: argparse.Namespace) -> None:
    import resource

    apply_patches(args.patch)
    data_dir = Path(args.data)
    if args.kind == "history":
        coro = history_case(data_dir, args.marker)
    else:
        coro = stream_case(args.url, data_dir)
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.thread_time)  # CPU time, so waiting in epoll does not count
        profiler.enable()
        result = asyncio.run(coro)
        profiler.disable()
        profiler.dump_stats(args.profile)
    else:
        result = asyncio.run(coro)
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


def run_child(argv: list[str], timeout: float = CASE_TIMEOUT) -> dict | None:
    proc = subprocess.Popen(
        [PY, __file__, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        print(f"  ! timeout: {argv[:2]}", file=sys.stderr)
        return None
    finally:
        _kill(proc)
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  ! child failed {argv[:2]}: {err[-800:]}", file=sys.stderr)
    return None


# ------------------------------------------------------------------------------------------------
# tmux (the real app, the real terminal path)
# ------------------------------------------------------------------------------------------------


class Tmux:
    """One tmux server (own socket) running the app at 120×40 with temporary XDG dirs."""

    patch = ""  # set by main(): experimental monkeypatches for the app process (see PATCHES)

    def __init__(self, workdir: Path, url: str, tag: str, command: str | None = None) -> None:
        self.command = command
        """Another program to start instead of the app (the floor app of case 1)."""
        self.socket = f"bench-ui-{os.getpid()}-{tag}"
        self.home = workdir / f"xdg-{tag}"
        (self.home / "config").mkdir(parents=True, exist_ok=True)
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        config_dir = self.home / "config" / "deepseek-tui"
        config_dir.mkdir(parents=True, exist_ok=True)
        # the 20,000-token answer of case 4 must not be cut at the model's default output budget
        (config_dir / "config.toml").write_text(f"[chat]\nmax_tokens = {MAX_TOKENS}\n")
        self.url = url
        self.pid: int | None = None

    @property
    def sessions_dir(self) -> Path:
        return self.home / "data" / "deepseek-tui" / "sessions"

    def tmux(self, *args: str, check: bool = True) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check, timeout=10
        ).stdout

    def start(self) -> float:
        env = (
            f"env DEEPSEEK_API_KEY=sk-test XDG_CONFIG_HOME={self.home / 'config'} "
            f"XDG_DATA_HOME={self.home / 'data'} TERM=xterm-256color"
        )
        t0 = time.perf_counter()
        command = self.command or f"{self._command()} --base-url {self.url}"
        out = self.tmux(
            "new-session",
            "-d",
            "-P",
            "-F",
            "#{pane_pid}",
            "-x",
            str(SIZE[0]),
            "-y",
            str(SIZE[1]),
            f"exec {env} {command}",
        )
        self.pid = int(out.strip())
        return t0

    def _command(self) -> str:
        if not Tmux.patch:
            return APP_BIN
        return f"{PY} {__file__} _app --patch {Tmux.patch} --"

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", check=False)

    def wait_for(self, predicate, timeout: float, interval: float = 0.005) -> float | None:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if predicate(self.screen()):
                return time.perf_counter()
            time.sleep(interval)
        return None

    def cpu(self) -> float:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def hwm_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def close(self) -> None:
        self.tmux("kill-server", check=False)
        socket_path = Path(f"/tmp/tmux-{os.getuid()}") / self.socket
        socket_path.unlink(missing_ok=True)
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[*`#]", "", text)).strip()


def _chat_text(screen: str, width: int = 84) -> str:
    """The chat column only (left of the side pane), joined so that wrapped lines read as one."""
    return _normal(" ".join(line[:width].rstrip(" ▁▂▃▄▅▆▇█▎▊▌│┃") for line in screen.splitlines()))


def _needle(content: str) -> str:
    lines = [_normal(line.lstrip("-> ")) for line in content.splitlines()]
    lines = [line for line in lines if line and line != "python"]
    return lines[-1][-24:]


FLOOR_APP = f"{PY} {ROOT / 'bench' / 'floor_app.py'}"


def tmux_start(workdir: Path, tag: str, history: int = 0, floor: bool = False) -> dict | None:
    """Launch → first frame: the footer's ^p (and our prompt) on screen. `floor`: the minimal app."""
    sim = Sim(10, None, "markdown", workdir)
    term = Tmux(workdir, sim.url, tag, command=FLOOR_APP if floor else None)
    try:
        marker = None
        if history:
            last = save_history(term.sessions_dir, history)
            marker = _normal(last.splitlines()[-1])
        t0 = term.start()
        if floor:
            ready = term.wait_for(lambda s: "^p" in s, 15)
        elif marker is None:
            ready = term.wait_for(lambda s: "Ask DeepSeek" in s and "^p" in s, 15)
        else:
            ready = term.wait_for(lambda s: "Ask DeepSeek" in s and "^p" in s and marker in _chat_text(s), 15)
        time.sleep(0.3)
        if ready is None:
            print("  ! tmux start: not ready; screen:\n" + term.screen()[-400:], file=sys.stderr)
        return {"ready": (ready - t0) if ready else float("nan"), "hwm_mb": term.hwm_mb(), "cpu": term.cpu()}
    finally:
        term.close()
        sim.close()


def tmux_typing(workdir: Path, tag: str, history: int, keys: str = "hello world") -> dict | None:
    """Key → character on screen in the prompt, one key at a time, with `history` messages open."""
    sim = Sim(10, None, "markdown", workdir)
    term = Tmux(workdir, sim.url, tag)
    try:
        last = save_history(term.sessions_dir, history)
        marker = _normal(last.splitlines()[-1])
        term.start()
        if term.wait_for(lambda s: "Ask DeepSeek" in s and marker in _chat_text(s), 15) is None:
            return None
        time.sleep(1.0)  # the account refresh and the first frames settle
        delays = []
        for count in range(1, len(keys) + 1):
            typed = keys[:count]
            t0 = time.perf_counter()
            term.tmux("send-keys", "-l", keys[count - 1])
            shown = term.wait_for(
                lambda s: any(line.lstrip("│").startswith(" " + typed) for line in s.splitlines()), 5, interval=0.001
            )
            if shown is None:
                return None
            delays.append(shown - t0)
        return {"key_to_screen": delays}
    finally:
        term.close()
        sim.close()


def tmux_stream(workdir: Path, tag: str, tokens: int, rate: float | None, style: str, history: int) -> dict | None:
    sim = Sim(tokens, rate, style, workdir)
    term = Tmux(workdir, sim.url, tag)
    try:
        if history:
            save_history(term.sessions_dir, history)
        term.start()
        if term.wait_for(lambda s: "Ask DeepSeek" in s, 15) is None:
            return None
        time.sleep(1.0)  # account refresh and first frames settle
        term.tmux("send-keys", "-l", PROMPT)
        time.sleep(0.2)
        cpu0 = term.cpu()
        t0, wall0 = time.perf_counter(), time.time()
        term.tmux("send-keys", "Enter")
        needle = None
        end = t0 + CASE_TIMEOUT - 20
        done = None
        while time.perf_counter() < end:
            if needle is None and sim.content():
                needle = _needle(sim.content())
            if needle and sim.done_times() and needle in _chat_text(term.screen()):
                done = time.perf_counter()
                break
            time.sleep(0.005)
        cpu1 = term.cpu()
        if done is None:
            return None
        last_token = sim.done_times()[-1] - wall0 + t0
        return {
            "send_to_screen": done - t0,
            "last_delta_to_screen": done - last_token,
            "cpu": cpu1 - cpu0,
            "hwm_mb": term.hwm_mb(),
        }
    finally:
        term.close()
        sim.close()


# ------------------------------------------------------------------------------------------------
# The driver
# ------------------------------------------------------------------------------------------------


def compile_bytecode() -> None:
    """Write the package's .pyc files before case 1 is timed. An installed app has them (pip
    compiles on install; a source checkout writes them on first run), but where
    PYTHONDONTWRITEBYTECODE is set (this machine's shells) none are ever written, and every
    launch would compile ~70 modules from source (~0.08 s) that the floor app, all of whose
    modules come from site-packages with their .pyc, never does."""
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "deepseek_tui")], check=True, timeout=120)


def import_times(runs: int) -> dict:
    cumulative, wall = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [PY, "-X", "importtime", "-c", "import deepseek_tui.ui.app"], capture_output=True, text=True, timeout=30
        )
        wall.append(time.perf_counter() - t0)
        for line in proc.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() == "deepseek_tui.ui.app":
                cumulative.append(int(parts[1]) / 1e6)
    return {"importtime_cum": cumulative, "python_wall": wall}


def summarize(values: list[float]) -> str:
    values = [v for v in values if v == v]
    if not values:
        return "n/a"
    med = statistics.median(values)
    return f"{med:.3f} [{min(values):.3f}–{max(values):.3f}] n={len(values)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--no-tmux", action="store_true")
    parser.add_argument("--no-headless", action="store_true")
    parser.add_argument("--profile", default="")
    parser.add_argument("--trace", default="", help="one headless run of a streaming case; print its JSON")
    parser.add_argument("--patch", default="")
    args = parser.parse_args()
    only = set(args.only.split(","))
    Tmux.patch = args.patch
    workdir = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    rows: list[tuple[str, str, list[float], float, str]] = []  # case, figure, values, target, unit
    rss: list[float] = []
    rss_by_case: dict[str, list[float]] = {}

    def add(case: str, figure: str, values: list[float], target: float) -> None:
        rows.append((case, figure, values, target, ""))
        med = [v for v in values if v == v]
        flag = "" if not med else ("pass" if statistics.median(med) <= target else "FAIL")
        print(f"  {case:5} {figure:44} {summarize(values):34} ≤ {target:<6} {flag}", flush=True)

    try:
        if args.profile in ("1", "6"):
            data = workdir / "profile"
            marker = "none"
            if args.profile == "6":
                save_history(data / "sessions", 1000)
                from deepseek_tui.conversation import SessionStore

                marker = SessionStore(data / "sessions").most_recent().active_path()[-1].id
            out = f"/tmp/bench-ui-{args.profile}.prof"
            result = run_child(
                [
                    "_case",
                    "--kind",
                    "history",
                    "--data",
                    str(data),
                    "--marker",
                    marker,
                    "--profile",
                    out,
                    "--patch",
                    args.patch,
                ]
            )
            print(json.dumps(result, indent=1))
            import pstats

            pstats.Stats(out).sort_stats("cumulative").print_stats(60)
            return
        if args.profile or args.trace:
            case = args.profile or args.trace
            tokens, rate, style, history = STREAM_CASES[case]
            sim = Sim(tokens, rate, style, workdir)
            data = workdir / "profile"
            if history:
                save_history(data / "sessions", history)
            out = f"/tmp/bench-ui-{case}.prof" if args.profile else ""
            result = run_child(
                [
                    "_case",
                    "--kind",
                    "stream",
                    "--url",
                    sim.url,
                    "--data",
                    str(data),
                    "--profile",
                    out,
                    "--patch",
                    args.patch,
                ]
            )
            sim.close()
            print(json.dumps(result, indent=1))
            if not out:
                return
            import pstats

            pstats.Stats(out).sort_stats("cumulative").print_stats(45)
            return

        print(
            f"bench/ui.py: runs={args.runs}, patch={args.patch or '-'}, load={os.getloadavg()[0]:.2f} "
            f"(this machine's speed drifts: compare runs by case 1's import time)"
        )
        print(f"  {'case':5} {'figure (seconds unless MB)':44} {'median [min–max] n':34} target")
        if "1" in only:
            compile_bytecode()
            imp = import_times(args.runs)
            add("1", "import deepseek_tui.ui.app (-X importtime)", imp["importtime_cum"], 0.5)
            add("1", "python -c 'import …ui.app' wall", imp["python_wall"], 0.5)
            if not args.no_tmux:
                floors, starts = [], []
                for i in range(args.runs):  # interleaved, so a drift of the machine hits both alike
                    floors.append(tmux_start(workdir, f"floor{i}", floor=True))
                    starts.append(tmux_start(workdir, f"start{i}"))
                floor_values = [s["ready"] for s in floors if s]
                add("1", "tmux floor app (Input + Footer) → ^p shown", floor_values, 0.5)
                add("1", "tmux start → prompt and ^p shown", [s["ready"] for s in starts if s], 0.5)
                if floor_values:
                    floor = statistics.median(floor_values)
                    add("1", "  the same, minus the floor's median", [s["ready"] - floor for s in starts if s], 0.15)
                rss += [s["hwm_mb"] for s in starts if s]
                rss_by_case.setdefault("1 tmux", []).extend(s["hwm_mb"] for s in starts if s)

        for name, (tokens, rate, style, history) in STREAM_CASES.items():
            if name not in only and not (name.startswith("5.") and "5" in only):
                continue
            label = f"{tokens} tok {f'@{rate:.0f}/s' if rate else 'full speed'}{' +fence' if style == 'mixed' else ''}"
            if history:
                label += f", {history} earlier"
            if not args.no_headless:
                results = []
                for i in range(args.runs):
                    sim = Sim(tokens, rate, style, workdir)
                    data = workdir / f"h-{name}-{i}"
                    if history:
                        save_history(data / "sessions", history)
                    try:
                        results.append(
                            run_child(
                                [
                                    "_case",
                                    "--kind",
                                    "stream",
                                    "--url",
                                    sim.url,
                                    "--data",
                                    str(data),
                                    "--patch",
                                    args.patch,
                                ]
                            )
                        )
                    finally:
                        sim.close()
                ok = [r for r in results if r]
                bad = [r for r in ok if not r["source_ok"] or not r["at_bottom"]]
                if bad:
                    print(f"  ! {len(bad)} run(s) with source/bottom mismatch: {bad[:1]}")
                if rate:
                    add(name, f"headless last token → screen ({label})", [r["last_delta_to_screen"] for r in ok], 0.1)
                    add(name, f"headless app CPU for the turn ({label})", [r["cpu"] for r in ok], 1.5)
                else:
                    target = 1.0 if tokens <= 2000 else 5.0
                    add(name, f"headless send → screen ({label})", [r["send_to_screen"] for r in ok], target)
                    add(name, f"headless app CPU ({label})", [r["cpu"] for r in ok], float("inf"))
                rss += [r["maxrss_mb"] for r in ok]
                rss_by_case.setdefault(f"{name} headless", []).extend(r["maxrss_mb"] for r in ok)
            if not args.no_tmux and only & {"2", "3", "4", "5", "5.2", "5.3", "5.4"}:
                results = [tmux_stream(workdir, f"s{name}-{i}", tokens, rate, style, history) for i in range(args.runs)]
                ok = [r for r in results if r]
                if len(ok) < len(results):
                    print(f"  ! tmux: {len(results) - len(ok)} run(s) did not finish")
                if rate:
                    add(name, f"tmux last token → screen ({label})", [r["last_delta_to_screen"] for r in ok], 0.1)
                    add(name, f"tmux app CPU for the turn ({label})", [r["cpu"] for r in ok], 1.5)
                else:
                    target = 1.0 if tokens <= 2000 else 5.0
                    add(name, f"tmux send → screen ({label})", [r["send_to_screen"] for r in ok], target)
                    add(name, f"tmux app CPU ({label})", [r["cpu"] for r in ok], float("inf"))
                rss += [r["hwm_mb"] for r in ok]
                rss_by_case.setdefault(f"{name} tmux", []).extend(r["hwm_mb"] for r in ok)

        if "6" in only:
            if not args.no_headless:
                values = []
                for i in range(args.runs):
                    data = workdir / f"hist-{i}"
                    save_history(data / "sessions", 1000)
                    from deepseek_tui.conversation import SessionStore

                    conv = SessionStore(data / "sessions").most_recent()
                    marker = conv.active_path()[-1].id
                    r = run_child(
                        ["_case", "--kind", "history", "--data", str(data), "--marker", marker, "--patch", args.patch]
                    )
                    if r:
                        values.append(r["start_to_interactive"])
                        rss.append(r["maxrss_mb"])
                        rss_by_case.setdefault("6 headless", []).append(r["maxrss_mb"])
                add("6", "headless 1,000 msgs: start → interactive", values, 1.0)
            if not args.no_tmux:
                starts = [tmux_start(workdir, f"hist{i}", history=1000) for i in range(args.runs)]
                add("6", "tmux 1,000 msgs: start → last msg + prompt", [s["ready"] for s in starts if s], 1.0)
                rss += [s["hwm_mb"] for s in starts if s]
                rss_by_case.setdefault("6 tmux", []).extend(s["hwm_mb"] for s in starts if s)
        if "8" in only and not args.no_tmux:
            floor = [
                d
                for i in range(max(args.runs // 2, 1))
                for d in (tmux_typing(workdir, f"typefloor{i}", history=2) or {}).get("key_to_screen", [])
            ]
            delays = [
                d
                for i in range(max(args.runs // 2, 1))
                for d in (tmux_typing(workdir, f"type{i}", history=1000) or {}).get("key_to_screen", [])
            ]
            add("8", "tmux key → screen, 2 msgs (floor)", floor, 0.05)
            add("8", "tmux key → screen, 1,000 msgs open", delays, 0.05)
        if "7" in only and rss:
            for label, values in rss_by_case.items():
                add("7", f"peak RSS (MB) in case {label}", values, 120)
            add("7", "peak RSS of the app, max over all runs (MB)", [max(rss)], 120)
            add("7", "peak RSS of the app, median over runs (MB)", rss, 120)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_sim":
        p = argparse.ArgumentParser()
        p.add_argument("_sim")
        p.add_argument("--tokens", type=int)
        p.add_argument("--rate", type=float)
        p.add_argument("--style")
        p.add_argument("--stamp")
        sim_main(p.parse_args())
    elif len(sys.argv) > 2 and sys.argv[1] == "_app":  # _app --patch NAMES -- <deepseek-tui args>
        apply_patches(sys.argv[3])
        from deepseek_tui.cli import main as cli_main

        sys.exit(cli_main(sys.argv[5:]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_case":
        p = argparse.ArgumentParser()
        p.add_argument("_case")
        p.add_argument("--kind")
        p.add_argument("--url", default="")
        p.add_argument("--data")
        p.add_argument("--marker", default="")
        p.add_argument("--profile", default="")
        p.add_argument("--patch", default="")
        case_main(p.parse_args())
    else:
        main()
