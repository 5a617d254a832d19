"""A tool call in the conversation: the tool's name and how the call went on one line, the
arguments (pretty-printed) and the result or error below it. Open while it is asked about or
runs, collapsed once done (Enter or a click opens it again).

Everything in it came from the model or a server: it is drawn inert, never as markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Collapsible

from deepseek_tui import labels
from deepseek_tui.conversation.model import Message, ToolCall
from deepseek_tui.inert import inert_text
from deepseek_tui.ui.widgets.inert import InertStatic

SHOWN_RESULT_CHARS = 6_000
"""Characters of a result shown in the block (the model got up to the configured limit)."""


@dataclass(frozen=True)
class ToolCallView:
    """What a tool call block shows."""

    index: int
    """The call's place among its message's calls (the block's id)."""
    title: str
    arguments: str
    result: str = ""
    failed: bool = False
    done: bool = False


def pretty_arguments(arguments: str) -> str:
    """The arguments JSON indented, or as it came when it is not JSON."""
    if not arguments.strip():
        return "(none)"
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return arguments


def tool_call_view(
    call: ToolCall, index: int, result: Message | None, *, label: str = "", asking: bool = False, running: bool = False
) -> ToolCallView:
    run = result.tool_run if result is not None else None
    shown = label or (run.tool if run is not None and run.tool else call.name)
    text = result.content if result is not None else ""
    if len(text) > SHOWN_RESULT_CHARS:
        text = text[:SHOWN_RESULT_CHARS] + f"\n… ({len(text) - SHOWN_RESULT_CHARS:,} more characters not shown here)"
    return ToolCallView(
        index=index,
        title=labels.tool_call_title(shown, run, asking=asking, running=running),
        arguments=pretty_arguments(call.arguments),
        result=text,
        failed=run is not None and run.outcome != "ok",
        done=result is not None,
    )


def tool_call_views(message: Message, results: Mapping[str, Message]) -> list[ToolCallView]:
    """The blocks of a finished message's calls (a call with no result shows as not answered)."""
    return [tool_call_view(call, index, results.get(call.id)) for index, call in enumerate(message.tool_calls)]


class ToolCallBlock(Collapsible):
    """One tool call of an answer."""

    DEFAULT_CSS = """
    ToolCallBlock { background: transparent; border: none; padding: 0; margin: 0; }
    ToolCallBlock Contents { padding: 0 0 0 2; }
    ToolCallBlock .heading { color: $text-muted; }
    ToolCallBlock .failed { color: $error; }
    ToolCallBlock.-failed CollapsibleTitle { color: $error; }
    """

    def __init__(self, view: ToolCallView) -> None:
        super().__init__(title=_plain(view.title), collapsed=view.done, id=f"tool-call-{view.index}")  # type: ignore[arg-type]
        self.view = view

    def compose(self) -> ComposeResult:
        yield from super().compose()

    def on_mount(self) -> None:
        self._fill()

    def _fill(self) -> None:
        contents = self.query_one(Collapsible.Contents)
        contents.remove_children()
        view = self.view
        widgets = [InertStatic("arguments", classes="heading"), InertStatic(view.arguments, classes="arguments")]
        if view.done:
            widgets += [
                InertStatic("error" if view.failed else "result", classes="heading"),
                InertStatic(view.result or "(empty)", classes="result failed" if view.failed else "result"),
            ]
        contents.mount_all(widgets)
        self.set_class(view.failed, "-failed")

    def show(self, view: ToolCallView) -> None:
        """Show the call's new state (collapsed once it is done)."""
        was_done, self.view = self.view.done, view
        self.title = _plain(view.title)  # type: ignore[assignment]
        if self.is_mounted:
            self._fill()
        if view.done and not was_done:
            self.collapsed = True
        elif not view.done:
            self.collapsed = False


def _plain(text: str) -> Content:
    """A title drawn as it is (tool names come from servers: never markup)."""
    return Content(inert_text(text))
