"""The tools: asking before a call runs, and the tools view.

`ConfirmToolScreen` asks before a tool call runs: run it once (y / Enter), always run this tool in
this conversation without asking (a), or refuse (n / Esc); the model is told when it was refused.

`ToolsScreen` (ctrl+\\, or "Tools" in the palette) shows every configured MCP server with its
state and the last lines of its stderr, its tools with their descriptions (each can be switched
off for this conversation), and which tools the next request will carry.

Server names, tool names, descriptions, arguments and stderr come from outside: drawn inert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, SelectionList
from textual.widgets.selection_list import Selection

from deepseek_tui.conversation.model import ToolCall
from deepseek_tui.conversation.tool_loop import Decision, ToolSpec
from deepseek_tui.inert import inert_text
from deepseek_tui.tools.host import ServerStatus
from deepseek_tui.ui.intents import ToolSwitched
from deepseek_tui.ui.widgets.inert import InertStatic
from deepseek_tui.ui.widgets.tool_calls import pretty_arguments

STATE_MARKS = {
    "ready": "● ready",
    "starting": "◌ starting…",
    "failed": "✗ failed",
    "stopped": "✗ stopped",
    "off": "○ off (enabled = false)",
}


class ConfirmToolScreen(ModalScreen[Decision]):
    """Run this tool call? Dismisses with "once", "always" or "refuse"."""

    DEFAULT_CSS = """
    ConfirmToolScreen { align: center middle; }
    ConfirmToolScreen > Vertical { width: 90; max-width: 96%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 1 2; }
    ConfirmToolScreen .title { text-style: bold; }
    ConfirmToolScreen .muted { color: $text-muted; }
    ConfirmToolScreen VerticalScroll { height: auto; max-height: 16; margin: 1 0; background: $panel; padding: 0 1; }
    ConfirmToolScreen .buttons { height: auto; }
    ConfirmToolScreen .buttons Button { margin: 0 1 0 0; }
    """
    BINDINGS = [
        Binding("y,enter", "answer('once')", "Run once", id="tool_run_once"),
        Binding("a", "answer('always')", "Always", id="tool_run_always"),
        Binding("n,escape", "answer('refuse')", "Refuse", id="tool_refuse"),
    ]

    def __init__(self, call: ToolCall, tool: ToolSpec) -> None:
        super().__init__()
        self.call, self.tool = call, tool

    def compose(self) -> ComposeResult:
        with Vertical():
            yield InertStatic(f"Run the tool {self.tool.shown_as}?", classes="title")
            if self.tool.description:
                yield InertStatic(self.tool.description, classes="muted")
            with VerticalScroll():
                yield InertStatic(pretty_arguments(self.call.arguments), id="tool-arguments")
            with Horizontal(classes="buttons"):
                yield Button("Run once (y)", variant="primary", id="tool-once")
                yield Button("Always, in this chat (a)", id="tool-always")
                yield Button("Refuse (n)", variant="error", id="tool-refuse")
            yield InertStatic("The model asked for this call. Refusing tells it so; Esc refuses.", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#tool-once").focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss({"tool-once": "once", "tool-always": "always"}.get(event.button.id or "", "refuse"))  # type: ignore[arg-type]

    def action_answer(self, decision: str) -> None:
        self.dismiss(decision)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ToolsOverview:
    """What the tools view shows."""

    servers: Sequence[ServerStatus]
    off: frozenset[str]
    """Tools switched off for this conversation (API names)."""
    next_request: Sequence[str]
    """The tools the next request carries (API names)."""
    note: str = ""


class ToolsScreen(ModalScreen[None]):
    """The MCP servers, their tools (on/off for this conversation), what the next request carries."""

    DEFAULT_CSS = """
    ToolsScreen { align: center middle; }
    ToolsScreen > Vertical { width: 110; max-width: 98%; height: 90%; border: thick $primary; background: $surface;
        padding: 0 1; }
    ToolsScreen .title { text-style: bold; }
    ToolsScreen .muted { color: $text-muted; }
    ToolsScreen #tools-servers { height: auto; max-height: 45%; }
    ToolsScreen .server { margin: 1 0 0 0; text-style: bold; }
    ToolsScreen .server.-broken { color: $error; }
    ToolsScreen .stderr { color: $text-muted; padding: 0 0 0 2; }
    ToolsScreen SelectionList { height: 1fr; margin: 1 0 0 0; }
    ToolsScreen #tools-next { margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape,q", "close", "Close", id="tools_close")]

    def __init__(self, overview: ToolsOverview) -> None:
        super().__init__()
        self.overview = overview

    def compose(self) -> ComposeResult:
        with Vertical():
            yield InertStatic(
                "Tools — MCP servers (space switches a tool on/off for this conversation; Esc closes)", classes="title"
            )
            yield VerticalScroll(id="tools-servers")
            yield SelectionList[str](id="tools-list")
            yield InertStatic("", id="tools-next")

    def on_mount(self) -> None:
        self.show(self.overview)
        self.query_one(SelectionList).focus()

    def show(self, overview: ToolsOverview) -> None:
        """Show a new state (a server started or stopped, a tool was switched)."""
        self.overview = overview
        servers = self.query_one("#tools-servers", VerticalScroll)
        servers.remove_children()
        widgets = []
        if not overview.servers:
            widgets.append(
                InertStatic(
                    "No MCP servers are configured: add [mcp.servers.NAME] tables to the config "
                    "file (README, “Tools”).",
                    classes="muted",
                )
            )
        for server in overview.servers:
            broken = server.state in ("failed", "stopped")
            line = f"{server.name}  {STATE_MARKS.get(server.state, server.state)}  ({server.transport}: {server.where})"
            if server.state == "ready":
                line += f"  {len(server.tools)} tool{'s' if len(server.tools) != 1 else ''}"
            widgets.append(InertStatic(line, classes="server -broken" if broken else "server"))
            if server.detail:
                widgets.append(InertStatic(f"  {server.detail}", classes="stderr"))
            if server.not_allowed:
                widgets.append(
                    InertStatic(f"  not in its allow list: {', '.join(server.not_allowed)}", classes="stderr")
                )
            if server.stderr_tail and (broken or server.state == "starting"):
                widgets.append(InertStatic("stderr:\n" + "\n".join(server.stderr_tail), classes="stderr"))
        servers.mount_all(widgets)
        listing = self.query_one(SelectionList)
        highlighted = listing.highlighted
        listing.clear_options()
        listing.add_options(
            [
                Selection(
                    Text(
                        inert_text(
                            f"{_on_off(tool.name not in overview.off)}  {tool.name}  ({tool.label})  "
                            f"{_first_line(tool.description)}"
                        )
                    ),
                    tool.name,
                    tool.name not in overview.off,
                )
                for server in overview.servers
                if server.state == "ready"
                for tool in server.tools
            ]
        )
        if listing.option_count:  # the first row at once, so space works without ↓ first
            listing.highlighted = min(highlighted or 0, listing.option_count - 1)
        carried = ", ".join(overview.next_request) if overview.next_request else "no tools"
        self.query_one("#tools-next", InertStatic).update(
            f"The next request carries: {carried}" + (f"\n{overview.note}" if overview.note else "")
        )

    @on(SelectionList.SelectionToggled)
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        event.stop()
        name = str(event.selection.value)
        self.post_message(ToolSwitched(name, name in event.selection_list.selected))

    def action_close(self) -> None:
        self.dismiss(None)


def _on_off(on: bool) -> str:
    """A tool's state in words: the check box differs only by its colour."""
    return "on " if on else "off"


def _first_line(text: str, limit: int = 80) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
