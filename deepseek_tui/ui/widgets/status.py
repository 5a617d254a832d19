"""The status line: mode, state, this turn's tokens, cost, peak pricing, context gauge and balance."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from rich.text import Text
from textual.widget import Widget

from deepseek_tui.inert import inert_text


@dataclass(frozen=True)
class StatusInfo:
    model: str = ""
    mode: str = "chat"
    """"chat" or "reasoner" (+ effort)."""
    state: str = "ready"
    """ready / queued (server busy) / thinking 4 s / answering 52 tok/s / done / cancelled / error."""
    turn_tokens: str = ""
    conversation_cost: str = ""
    pricing: str = ""
    """e.g. "peak ×2 until 10:00 UTC" while peak prices are in force; "" otherwise."""
    context_used: int = 0
    context_window: int = 0
    balance: str = ""
    demo: bool = False

    def with_(self, **changes) -> "StatusInfo":
        return replace(self, **changes)

    @property
    def context_share(self) -> float:
        """How full the context window is (0 when unknown)."""
        return self.context_used / self.context_window if self.context_window > 0 else 0.0


def context_gauge(used: int, window: int, width: int = 6) -> str:
    if window <= 0:
        return ""
    share = min(used / window, 1.0)
    filled = round(share * width)
    return f"{'█' * filled}{'░' * (width - filled)} {_short(used)}/{_short(window)}"


def _short(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_048_576:.0f}M" if count % 1_048_576 == 0 else f"{count / 1_000_000:.1f}M"
    if count >= 1000:
        return f"{count / 1024:.0f}k" if count % 1024 == 0 else f"{count / 1000:.1f}k"
    return str(count)


GAUGE_WARN, GAUGE_FULL = 0.5, 0.8
"""Shares of the context window at which the gauge turns yellow, then red (and the app offers to compact)."""


def gauge_style(share: float) -> str:
    if share >= GAUGE_FULL:
        return "bold red"
    if share >= GAUGE_WARN:
        return "yellow"
    return ""


class StatusLine(Widget):
    """One line; a new `StatusInfo` repaints it without a layout pass (it refreshes often).

    When the line is wider than the terminal, the least useful parts give way first (see
    `FIT_STEPS`), so the state, the cost and the balance stay readable at 80 columns.
    """

    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.info = StatusInfo()
        self._text = Text()
        self._drawn_for: tuple[StatusInfo, int] | None = None

    def show(self, info: StatusInfo) -> None:
        if info == self.info and self._drawn_for is not None:
            return
        self.info = info
        self._drawn_for = None
        self.refresh()

    def render(self) -> Text:
        width = self.content_region.width
        if self._drawn_for != (self.info, width):
            self._text = render_status(self.info, width or None)
            self._drawn_for = (self.info, width)
        return self._text


FIT_STEPS = ("gauge bar", "turn tokens", "peak until", "context", "peak note", "bal prefix", "demo badge")
"""What gives way, in this order, when the status line is too wide for the terminal. The DEMO
badge keeps its word or goes entirely (a lone "D" says nothing)."""


def render_status(info: StatusInfo, width: int | None = None) -> Text:
    """The line, fitted to `width` cells when given (None: everything). The model id and the
    balance come from files and the server: drawn inert."""
    inert_fields: dict[str, Any] = {
        f.name: inert_text(getattr(info, f.name)) for f in fields(info) if isinstance(getattr(info, f.name), str)
    }
    info = replace(info, **inert_fields)
    text = _compose(info, set())
    for step in range(1, len(FIT_STEPS) + 1):
        if width is None or text.cell_len <= width:
            break
        text = _compose(info, set(FIT_STEPS[:step]))
    return text


def _compose(info: StatusInfo, dropped: set[str]) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if info.demo and "demo badge" not in dropped:
        text.append(" DEMO ", style="bold reverse yellow")
        text.append(" ")
    mode_style = "bold magenta" if info.mode.startswith("reasoner") else "bold cyan"
    text.append(info.model, style="bold")
    text.append(" · ")
    text.append(info.mode, style=mode_style)
    text.append(" │ ")
    text.append(info.state)
    parts = [info.conversation_cost] if "turn tokens" in dropped else [info.turn_tokens, info.conversation_cost]
    for part in parts:
        if part:
            text.append(" │ ")
            text.append(part)
    if info.pricing and "peak note" not in dropped:
        text.append(" │ ")
        pricing = info.pricing.split(" until ")[0] if "peak until" in dropped else info.pricing
        text.append(pricing, style="bold yellow")
    if info.context_window > 0 and "context" not in dropped:
        text.append(" │ ctx ")
        gauge = context_gauge(info.context_used, info.context_window)
        if "gauge bar" in dropped:
            gauge = gauge.split(" ", 1)[-1]
        text.append(gauge, style=gauge_style(info.context_share))
    if info.balance:
        text.append(" │ ")
        text.append(info.balance.removeprefix("bal ") if "bal prefix" in dropped else info.balance)
    return text
