"""The app's tools: the MCP host (started after the first frame), each conversation's choices,
what answers a prompt (a plain turn, or a tool loop when there are tools to offer), asking
before a call, and the tools view."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepseek_tui.catalogue import Catalogue
    from deepseek_tui.chat_settings import ChatSettings
    from deepseek_tui.conversation.model import Conversation, ToolCall
    from deepseek_tui.conversation.tool_loop import ConversationTools, Decision, Reply, ToolSpec
    from deepseek_tui.tools.host import McpHost
    from deepseek_tui.ui.app import DeepSeekApp
    from deepseek_tui.ui.screens.tools import ToolsOverview

# The tool loop, the turn, the tool screens (and the host's status types) load when first needed:
# start-up does not wait.


class ToolsController:
    """Owned by the app; knows nothing of widgets but the two tool screens."""

    def __init__(self, app: "DeepSeekApp") -> None:
        self.app = app
        self.settings = app.config.tools
        self.host: McpHost | None = None
        if app.config.mcp_servers:
            from deepseek_tui.tools.host import McpHost  # no `mcp` import: the host loads it in a thread

            self.host = McpHost(app.config.mcp_servers, self.settings, on_change=self._changed)
        self._choices: dict[str, ConversationTools] = {}

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the servers in the background (call after the first frame)."""
        if self.host is not None:
            self.host.start()

    async def aclose(self) -> None:
        if self.host is not None:
            await self.host.aclose()

    # --- answering a prompt ------------------------------------------------------------------

    def choices(self, conversation: Conversation) -> ConversationTools:
        from deepseek_tui.conversation.tool_loop import ConversationTools

        return self._choices.setdefault(conversation.id, ConversationTools())

    def offered(self, conversation: Conversation) -> list[ToolSpec]:
        """The tools the next request of this conversation carries."""
        if self.host is None:
            return []
        return self.choices(conversation).offered(self.host.available())

    def reply(self, conversation: Conversation, catalogue: Catalogue, settings: ChatSettings | None = None) -> Reply:
        """What answers the active branch: a tool loop when there are tools to offer, else a turn."""
        from deepseek_tui.conversation.tool_loop import ToolLoop
        from deepseek_tui.conversation.turn import prepare_reply

        if self.host is None or not self.offered(conversation):
            if self.host is not None and any(s.state == "starting" for s in self.host.statuses()):
                self.app.notify(
                    "MCP servers are still starting: this request goes without their tools (ctrl+\\ shows them).",
                    severity="warning",
                    timeout=6,
                )
            return prepare_reply(conversation, catalogue, settings)
        return ToolLoop(
            conversation,
            catalogue,
            self.host,
            self.confirm,
            self.choices(conversation),
            settings=settings,
            max_rounds=self.settings.max_rounds,
            max_result_chars=self.settings.max_result_chars,
        )

    async def confirm(self, call: ToolCall, tool: ToolSpec) -> Decision:
        """Ask the user (the tool loop runs in the app's turn worker, so it can wait for the answer)."""
        from deepseek_tui.ui.screens.tools import ConfirmToolScreen

        dialog = ConfirmToolScreen(call, tool)
        try:
            return await self.app.push_screen_wait(dialog)
        except asyncio.CancelledError:  # the loop was stopped while it asked: the question goes too
            if self.app.screen is dialog:
                self.app.pop_screen()
            raise

    # --- the tools view -------------------------------------------------------------------------

    def overview(self) -> "ToolsOverview":
        from deepseek_tui.ui.screens.tools import ToolsOverview

        conversation = self.app.conversation
        statuses = self.host.statuses() if self.host is not None else []
        note = ""
        if not self.app.catalogue.get(conversation.settings.model).tools:
            note = f"{conversation.settings.model} takes no tools: requests go without them."
        return ToolsOverview(
            statuses,
            frozenset(self.choices(conversation).off),
            [tool.name for tool in self.offered(conversation)],
            note,
        )

    def show_view(self) -> None:
        from deepseek_tui.ui.screens.tools import ToolsScreen

        if not isinstance(self.app.screen, ToolsScreen):
            self.app.push_screen(ToolsScreen(self.overview()))

    def switch(self, name: str, on: bool) -> None:
        self.choices(self.app.conversation).switch(name, on)
        self._refresh_view()

    def _changed(self) -> None:
        """A server changed state (called from the host's tasks, on the app's loop)."""
        self.app.call_later(self._refresh_view)

    def _refresh_view(self) -> None:
        from deepseek_tui.ui.screens.tools import ToolsScreen

        screen = self.app.screen
        if isinstance(screen, ToolsScreen) and screen.is_mounted:
            screen.show(self.overview())
