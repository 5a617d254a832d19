"""The Textual app: wires the client, the conversation layer and the store to the widgets.

Widgets only display and post messages; every request and every file write happens here.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from textual import on, work
from textual.screen import Screen
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Static
from textual.worker import Worker

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import (
    AuthenticationFailed,
    DeepSeekError,
    InsufficientBalance,
    KeepAlive,
    ReasoningDelta,
    ContentDelta,
    RetryScheduled,
    StreamInterrupted,
)
from deepseek_tui.config import AppConfig, save_config
from deepseek_tui.conversation.json_mode import JSON_HINT, check_json_reply, mentions_json, with_json_hint
from deepseek_tui.conversation.model import Conversation, ConversationError, Message
from deepseek_tui.conversation.request import build_chat_request, build_continue_request, inert_settings
from deepseek_tui.conversation.store import SessionStore, read_export
from deepseek_tui.conversation.throttle import SaveThrottle
from deepseek_tui.conversation.tokens import estimate_request_tokens
from deepseek_tui.turns import TurnProgress, stream_into_message
from deepseek_tui import labels as fmt
from deepseek_tui import clipboard, clock
from deepseek_tui.conversation.store import SessionNotFoundError, StoreError
from deepseek_tui.editor import EditorError, edit_text
from deepseek_tui.inert import inert_text
from deepseek_tui.ui.crash_guard import CrashGuard
from deepseek_tui.ui.screens.dialogs import AskScreen, ChooseScreen, ConfirmScreen
from deepseek_tui.ui.screens.help import HelpScreen
from deepseek_tui.ui.screens.sessions import OpenSession, SessionsScreen
from deepseek_tui.ui.screens.key import KeyScreen
from deepseek_tui.ui.widgets.messages import AnswerBlock, ChatLog, MessageView, UserBubble, load_earlier_button
from deepseek_tui.ui.widgets.prompt import PromptArea
from deepseek_tui.ui.widgets.reasoning import ReasoningPane
from deepseek_tui.ui.widgets.settings import SettingsPane
from deepseek_tui.ui.widgets.status import StatusInfo, StatusLine

if TYPE_CHECKING:
    from deepseek_tui.client import DeepSeekClient
    from deepseek_tui.ui.screens.fim import FimOutcome

ClientFactory = Callable[[str, str], "DeepSeekClient"]


def default_client(key: str, base_url: str) -> "DeepSeekClient":
    from deepseek_tui.client import DeepSeekClient

    return DeepSeekClient(key, base_url)

MOUNT_WINDOW = 10
"""Messages of the active branch mounted at once; older ones are mounted when the chat is
scrolled to the top (or ↑ leaves the first one). Every streamed flush lays out all mounted
widgets (bench/ui.py case 5.2, tmux, CPU for a 2,000-token answer: 40 messages mounted 1.76 s,
16: 1.49–1.58 s, 10: 1.47 s; none: 1.32–1.48 s)."""


class DeepSeekApp(CrashGuard, App[None]):
    TITLE = "deepseek-tui"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("ctrl+t", "toggle_mode", "Chat↔Reasoner", id="toggle_mode", priority=True,
                tooltip="Switch the next turn between chat and reasoner (thinking) mode"),
        Binding("escape", "cancel_reply", "Cancel reply", id="cancel_reply",
                tooltip="Stop the reply that is streaming; keep what arrived"),
        Binding("f1", "help", "Help", id="help", tooltip="Show the keys"),
        Binding("f2", "toggle_settings", "Settings", id="toggle_settings",
                tooltip="Show or hide the settings pane"),
        Binding("f3", "toggle_reasoning", "Reasoning", id="toggle_reasoning",
                tooltip="Show or hide the reasoning pane"),
        Binding("ctrl+o", "sessions", "Chats", id="sessions",
                tooltip="Open, search, rename, duplicate or delete conversations"),
        Binding("ctrl+n", "new_conversation", "New", id="new_conversation",
                tooltip="Start a new conversation"),
        Binding("ctrl+r", "regenerate", "Regenerate", id="regenerate", show=False,
                tooltip="Answer the last prompt again (the old answer stays as a branch)"),
        Binding("ctrl+g", "regenerate_other_mode", "Regenerate in other mode", id="regenerate_other_mode",
                show=False, tooltip="Answer the last prompt again in the other mode (chat / reasoner)"),
        Binding("f5", "continue_answer", "Continue answer", id="continue_answer", show=False,
                tooltip="Continue the last answer where it stopped (cut off, cancelled or dropped)"),
        Binding("f8", "select_message", "Select message", id="select_message", show=False,
                tooltip="Select the last message; then ↑/↓, e edit, r regenerate, c copy, ←/→ branches"),
        # F6/F7 would select a line / everything in the prompt; copying matters more here.
        Binding("f6", "copy_answer", "Copy answer", id="copy_answer", show=False, priority=True,
                tooltip="Copy the last answer to the clipboard"),
        Binding("f7", "copy_code", "Copy code block", id="copy_code", show=False, priority=True,
                tooltip="Copy a code block of the last answer"),
        Binding("f4", "edit_prompt", "Edit in $EDITOR", id="edit_prompt", show=False,
                tooltip="Write the prompt in your $EDITOR"),
        Binding("ctrl+s", "export", "Export", id="export", show=False,
                tooltip="Export this conversation to Markdown or JSON"),
        Binding("f9", "import_session", "Import", id="import_session", show=False,
                tooltip="Import a conversation from a JSON export"),
        Binding("ctrl+f", "fim", "Fill in the middle", id="fim", show=False,
                tooltip="Complete code between a prefix and a suffix (FIM, beta)"),
        Binding("f12", "set_key", "API key", id="set_key", show=False,
                tooltip="Enter or change the API key"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, tooltip="Quit"),
    ]

    def __init__(
        self,
        config: AppConfig,
        *,
        config_path: Path | None = None,
        client_factory: ClientFactory | None = None,
        store: SessionStore | None = None,
        demo: bool = False,
        persist_config: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.config_path = config_path
        self.catalogue: Catalogue = config.catalogue()
        self.client_factory: ClientFactory = client_factory or default_client
        self.store = store or SessionStore(config.sessions_dir(), config.session_format)
        self.demo = demo
        self.persist_config = persist_config and not demo
        self.client: DeepSeekClient | None = None
        self.conversation = Conversation(settings=config.chat)
        self.listed_models: list[str] = []
        self.balance_text = ""
        self.turn_worker: Worker | None = None
        self.progress: TurnProgress | None = None
        self.turn_state = "ready"
        self._hidden_before = 0
        self._save_pending: Conversation | None = None
        self._config_save_timer = None
        self.editing_id: str | None = None
        """The user message being edited in the prompt (Enter resends it as a new branch)."""
        self._estimated_prompt = 0
        """Token estimate of the request in flight, for the context gauge until usage arrives."""
        if config.theme:
            self.theme = config.theme
        if config.keymap:
            self.set_keymap(dict(config.keymap))

    def save_before_crash(self) -> None:
        """An unhandled exception is ending the app (CrashGuard): keep what there is."""
        for conversation in (self._save_pending, self.conversation):
            if conversation is not None and conversation.active_path():
                self.store.save(conversation)

    def crash_secrets(self) -> list[str | None]:
        return [self.config.effective_api_key(), self.config.api_key]

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications carry server and model text: never parse it as markup (Textual's default),
        never let a control character in it reach the terminal."""
        super().notify(inert_text(message), title=inert_text(title), severity=severity, timeout=timeout,
                       markup=markup)

    # --- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="chat-column"):
                yield ChatLog(id="chat")
                yield Static("", id="edit-banner", markup=False)
                yield PromptArea(id="prompt", placeholder="Message DeepSeek — Enter sends, ctrl+j new line")
            with Vertical(id="side"):
                yield ReasoningPane(id="reasoning")
                # The settings pane (~60 widgets) is built the first time it is shown.
        yield StatusLine(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#reasoning").display = self.config.show_reasoning
        if self.config.show_settings:
            await self._mount_settings_pane()
        self._update_side_visibility()
        await self._open_initial_conversation()
        self.query_one("#prompt").focus()
        key = self.config.effective_api_key()
        if key:
            self.call_after_refresh(self._connect, key)  # the HTTP client loads after the first frame
        else:
            self._ask_for_key()

    async def on_unmount(self) -> None:
        self._save_if_pending()
        if self.client is not None:
            await self.client.aclose()

    def _connect(self, key: str) -> None:
        if self.client is None:
            self.client = self.client_factory(key, self.config.effective_base_url())
            self.refresh_account()

    def _has_client(self) -> bool:
        """Connect now if the key is known but the deferred connect has not run yet."""
        key = self.config.effective_api_key()
        if self.client is None and key:
            self._connect(key)
        return self.client is not None

    # --- conversation display -------------------------------------------------------------------

    async def _open_initial_conversation(self) -> None:
        conversation = None
        if self.config.on_start == "continue":
            try:
                conversation = self.store.most_recent()
            except Exception as exc:  # the store reports unreadable files; never crash on start
                self.notify(f"Could not open the last conversation: {exc}", severity="warning")
        await self.show_conversation(conversation or Conversation(settings=self.config.chat))

    async def show_conversation(self, conversation: Conversation) -> None:
        self._save_if_pending()
        self.conversation = conversation
        chat = self.query_one(ChatLog)
        await chat.remove_children()
        path = self._shown_path()
        self._hidden_before = max(len(path) - MOUNT_WINDOW, 0)
        widgets = [self._widget_for(m) for m in path[self._hidden_before:]]
        if self._hidden_before:
            widgets.insert(0, load_earlier_button(self._hidden_before))
        if not path:
            widgets.append(Static(self._empty_hint(), id="empty-hint", markup=False))
        await chat.mount_all(widgets)
        chat.scroll_end(animate=False)
        self._load_settings_pane()
        last = next((m for m in reversed(path) if m.role == "assistant" and m.reasoning), None)
        pane = self.query_one(ReasoningPane)
        if last is not None:
            await pane.show_text(last.reasoning, fmt.thought_title(last))
        else:
            await pane.show_text("", "Reasoning")
        self.refresh_status()

    def _empty_hint(self) -> str:
        hint = "Type a message and press Enter. ctrl+t switches chat ↔ reasoner, F1 lists the keys."
        if self.demo:
            hint = "DEMO: answers come from a built-in simulator, no key and no cost.\n" + hint
        return hint

    def _widget_for(self, message: Message) -> UserBubble | AnswerBlock:
        branch = self.conversation.sibling_position(message.id)
        if message.role == "user":
            return UserBubble(message.content, meta=fmt.user_meta(branch), message_id=message.id)
        return AnswerBlock(
            message_id=message.id,
            meta=fmt.answer_meta(message, self.catalogue, branch),
            content=message.content or self._empty_answer_note(message),
            reasoning=message.reasoning,
            reasoning_title=fmt.thought_title(message),
            error=fmt.error_note(message),
        )

    @staticmethod
    def _empty_answer_note(message: Message) -> str:
        if message.finish_reason == "length":
            return "*The reply ran out of max_tokens before it said anything (thinking can use the whole budget).*"
        return ""

    def _shown_path(self) -> list[Message]:
        return [m for m in self.conversation.active_path() if m.role in ("user", "assistant")]

    @on(ChatLog.ReachedTop)
    async def _reached_top(self) -> None:
        if self.query_one(ChatLog).scroll_y <= 0:  # still there (not a passing state of a switch)
            await self.load_earlier()

    @on(Button.Pressed, "#load-earlier")
    async def load_earlier(self) -> None:
        """Mount up to MOUNT_WINDOW earlier messages above the others; the view stays where it was."""
        if not self._hidden_before:
            return
        chat = self.query_one(ChatLog)
        start = max(self._hidden_before - MOUNT_WINDOW, 0)
        widgets = [self._widget_for(m) for m in self._shown_path()[start:self._hidden_before]]
        self._hidden_before = start
        button = chat.query_one("#load-earlier", Button)
        views = chat.message_views
        anchor = views[0] if views else None
        anchor_y, top = (anchor.virtual_region.y if anchor else 0), chat.scroll_y
        await chat.mount_all(widgets, after=button)
        if start:
            button.label = f"Show {start} earlier messages"
        else:
            await button.remove()

        def keep_view() -> None:  # the message that was first stays where it was on screen
            if anchor is not None and anchor.is_mounted:
                chat.scroll_to(y=top + anchor.virtual_region.y - anchor_y, animate=False, immediate=True)

        self.call_after_refresh(keep_view)

    async def _reveal(self, message_id: str) -> MessageView | None:
        """The mounted view of a message on the active branch, mounting earlier ones as needed."""
        while True:
            found = self.query(f"#m-{message_id}")
            if found or not self._hidden_before:
                return found.first() if found else None
            await self.load_earlier()

    def _focus_view(self, view: MessageView) -> None:
        """Focus a message and bring it into view once the layout knows where it is."""
        view.focus(scroll_visible=False)
        self.call_after_refresh(view.scroll_visible, animate=False, immediate=True)

    async def _trim_chat(self) -> None:
        """Unmount the oldest messages beyond twice the window, so a long session stays fast."""
        chat = self.query_one(ChatLog)
        views = chat.message_views
        if len(views) <= 2 * MOUNT_WINDOW:
            return
        surplus = views[: len(views) - MOUNT_WINDOW]
        self._hidden_before += len(surplus)
        await chat.remove_children(surplus)
        for button in chat.query("#load-earlier"):
            await button.remove()
        await chat.mount(load_earlier_button(self._hidden_before), before=0)

    # --- sending --------------------------------------------------------------------------------

    @on(PromptArea.Submitted)
    async def send_prompt(self, event: PromptArea.Submitted) -> None:
        if self.is_replying:
            self.notify("A reply is still streaming: wait, or press Esc to stop it.", severity="warning")
            return
        if not self._has_client():
            self.notify("No API key yet.", severity="warning")
            self._ask_for_key()
            return
        event.prompt.remember(event.text)
        for hint in self.query("#empty-hint"):
            await hint.remove()
        if self.editing_id is not None:
            self.conversation.edit_user(self.editing_id, event.text)
            self._set_editing(None)
            await self.show_conversation(self.conversation)
        else:
            message = self.conversation.add_user(event.text)
            await self.query_one(ChatLog).mount(
                UserBubble(message.content, meta=fmt.user_meta(), message_id=message.id)
            )
            await self._trim_chat()
        self.save_conversation()
        self.start_reply()

    @property
    def is_replying(self) -> bool:
        return self.turn_worker is not None and self.turn_worker.is_running

    def start_reply(self, *, settings: ChatSettings | None = None, continue_id: str | None = None) -> None:
        """Stream the next answer (with `settings` for this turn only), or continue `continue_id`."""
        self.turn_worker = self.run_reply(settings, continue_id)

    @work(exclusive=True, group="turn", exit_on_error=False)
    async def run_reply(self, settings: ChatSettings | None = None, continue_id: str | None = None) -> None:
        assert self.client is not None
        conversation = self.conversation
        if continue_id is not None:
            try:
                request = build_continue_request(conversation, continue_id, self.catalogue)
            except ConversationError as exc:
                self.notify(str(exc), severity="warning")
                return
            message = conversation.resume_assistant(continue_id)
            thinking = message.thinking
            answer = self._mounted_answer(continue_id)
            if answer is None:
                await self.show_conversation(conversation)
                answer = self._mounted_answer(continue_id)
            assert answer is not None
            await answer.restart_stream(message.content)
            await answer.set_error("")
        else:
            settings = settings or conversation.settings
            spec = self.catalogue.get(settings.model)
            thinking = spec.thinks(settings.thinking)
            request = build_chat_request(conversation, self.catalogue, settings)
            if settings.json_output and not mentions_json(request.body):
                settings = settings.updated(system_prompt=with_json_hint(settings.system_prompt))
                self.apply_settings(conversation.settings.updated(system_prompt=settings.system_prompt))
                self.notify(f'JSON mode needs the word "json" in the prompt; added to the system prompt: '
                            f'"{JSON_HINT}"', timeout=8)
                request = build_chat_request(conversation, self.catalogue, settings)
            message = conversation.start_assistant(
                settings.model, thinking, settings.reasoning_effort if thinking else None
            )
            answer = AnswerBlock(message_id=message.id, meta=fmt.answer_meta(message, self.catalogue), streaming=True)
            await self.query_one(ChatLog).mount(answer)
        self.progress = progress = TurnProgress()
        self._estimated_prompt = estimate_request_tokens(request.body)
        pane = self.query_one(ReasoningPane)
        if thinking:
            await pane.begin("Thinking…")
        self.turn_state = "sending"
        ticker = self.set_interval(1.0, self.refresh_status)
        prompt = self.query_one(PromptArea)
        prompt.cursor_blink = False  # each blink is a frame; the reply's flushes are enough
        throttle = _Autosave(self, SaveThrottle())
        try:
            async with aclosing(stream_into_message(
                self.client, request, conversation, message, self.catalogue,
                currency=self.config.currency, progress=progress, autosave=throttle,
            )) as events:
                async for event in events:
                    if isinstance(event, ContentDelta):
                        if self.turn_state != "answering":
                            self.turn_state = "answering"
                            answer.set_meta(fmt.answer_meta(message, self.catalogue))
                        await answer.write(event.text)
                    elif isinstance(event, ReasoningDelta):
                        if self.turn_state != "thinking":
                            self.turn_state = "thinking"
                            hint = "" if pane.display else " (F3 shows the reasoning)"
                            answer.set_meta(fmt.answer_meta(message, self.catalogue) + " · thinking" + hint)
                        await pane.write(event.text)
                    elif isinstance(event, KeepAlive):
                        progress.keepalives += 1
                        if self.turn_state == "sending":
                            self.turn_state = "queued"
                    elif isinstance(event, RetryScheduled):
                        self.turn_state = "retrying"
                        self.notify(
                            f"{event.reason} — retry {event.attempt} in {event.delay:.1f} s",
                            title="Retrying", severity="warning", timeout=max(event.delay, 3),
                        )
            self.turn_state = "done"
        except asyncio.CancelledError:
            self.turn_state = "cancelled"
            raise
        except DeepSeekError as exc:
            self.turn_state = "error"
            self.report_error(exc)
        finally:
            ticker.stop()
            prompt.cursor_blink = True
            await answer.close_stream()
            await pane.end()
            if message.status == "streaming":  # cancelled before the runner could mark it
                conversation.finish_assistant(message.id, status="cancelled", error="Cancelled by you")
            await self._finish_answer_widget(answer, message)
            if self.turn_state == "cancelled":  # Esc or quitting: save now, the app may be closing
                self.save_conversation(conversation)
            else:
                self._save_after_next_frame(conversation)
            self.refresh_status()
            self.refresh_account()

    def _json_requested(self, message: Message) -> bool:
        return self.conversation.settings.json_output and message.role == "assistant"

    def _mounted_answer(self, message_id: str) -> AnswerBlock | None:
        found = self.query(f"#m-{message_id}")
        return found.first() if found and isinstance(found.first(), AnswerBlock) else None

    async def _finish_answer_widget(self, answer: AnswerBlock, message: Message) -> None:
        state = {"partial": "partial", "cancelled": "partial", "failed": "failed"}.get(message.status, "")
        answer.set_meta(fmt.answer_meta(message, self.catalogue, self.conversation.sibling_position(message.id)), state=state)
        json_problem = ""
        if self._json_requested(message) and message.status == "complete":
            verdict = check_json_reply(message.content, message.finish_reason)
            if verdict.pretty is not None:
                await answer.replace_content(f"```json\n{verdict.pretty}\n```")
            json_problem = verdict.problem or ""
        elif not message.content:
            note = self._empty_answer_note(message)
            if note:
                await answer.replace_content(note)
        await answer.set_error(json_problem or fmt.error_note(message))
        if message.reasoning:
            await answer.set_reasoning(message.reasoning, fmt.thought_title(message))
            self.query_one(ReasoningPane).set_title(fmt.thought_title(message))

    def report_error(self, exc: DeepSeekError) -> None:
        if isinstance(exc, AuthenticationFailed):
            self.notify(str(exc), title="API key rejected", severity="error", timeout=10)
            self._ask_for_key(error=str(exc))
            return
        if isinstance(exc, InsufficientBalance):
            balance = f" Balance: {self.balance_text}." if self.balance_text else ""
            self.notify(f"{exc}{balance}", title="Out of balance — top up", severity="error", timeout=15)
            return
        title = "Reply interrupted — partial answer kept" if isinstance(exc, StreamInterrupted) else "Request failed"
        self.notify(str(exc), title=title, severity="error", timeout=12)

    def action_cancel_reply(self) -> None:
        if self.is_replying and self.turn_worker is not None:
            self.turn_worker.cancel()
        elif self.editing_id is not None:
            self._set_editing(None)
            self.query_one(PromptArea).load_text("")

    # --- operations on messages -------------------------------------------------------------

    def _last_of(self, role: str) -> Message | None:
        return next((m for m in reversed(self.conversation.active_path()) if m.role == role), None)

    def _busy(self) -> bool:
        if self.is_replying:
            self.notify("A reply is streaming: wait, or press Esc to stop it.", severity="warning")
            return True
        if not self._has_client():
            self._ask_for_key()
            return True
        return False

    async def action_regenerate(self, other_mode: bool = False, message_id: str | None = None) -> None:
        """Answer the prompt again; the old answer stays as a sibling branch."""
        if self._busy():
            return
        target = self.conversation.get(message_id) if message_id else self._last_of("assistant")
        if target is None or target.role != "assistant":
            self.notify("There is no answer to regenerate yet.", severity="warning")
            return
        settings = self.conversation.settings.updated(model=target.model or self.conversation.settings.model,
                                                      thinking=target.thinking)
        if other_mode:
            model, thinking = self.catalogue.toggle_thinking(settings.model, settings.thinking)
            settings = settings.updated(model=model, thinking=thinking)
        else:
            settings = self.conversation.settings
        self.conversation.prepare_regenerate(target.id)
        await self.show_conversation(self.conversation)
        self.start_reply(settings=settings)

    async def action_regenerate_other_mode(self) -> None:
        await self.action_regenerate(other_mode=True)

    def action_continue_answer(self, message_id: str | None = None) -> None:
        """Continue an answer that was cut off, cancelled or dropped (chat prefix completion)."""
        if self._busy():
            return
        target = self.conversation.get(message_id) if message_id else self._last_of("assistant")
        if target is None:
            self.notify("There is no answer to continue.", severity="warning")
            return
        if target.status == "complete" and target.finish_reason != "length":
            self.notify("That answer is complete; continuing works on cut-off or interrupted answers.",
                        severity="warning")
            return
        self.start_reply(continue_id=target.id)

    def action_select_message(self) -> None:
        views = list(self.query(MessageView))
        if views:
            views[-1].focus()
            views[-1].scroll_visible(animate=False)

    def copy_text(self, text: str, what: str) -> None:
        """Copy with OSC 52 (wrapped for tmux) and, where there is one, the platform's tool."""
        self.copy_to_clipboard(text)
        if clipboard.in_tmux() and self._driver is not None:
            self._driver.write(clipboard.tmux_passthrough(clipboard.osc52(text)))
        tool = clipboard.platform_tool()
        if tool is not None:
            clipboard.copy_with_tool(text, tool)
        self.notify(f"Copied {what} ({len(text):,} characters).", timeout=3)

    def action_copy_answer(self) -> None:
        answer = self._last_of("assistant")
        if answer is None or not answer.content:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_text(answer.content, "the answer")

    def action_copy_code(self, message_id: str | None = None) -> None:
        from deepseek_tui.code_blocks import code_blocks

        answer = self.conversation.get(message_id) if message_id else self._last_of("assistant")
        blocks = code_blocks(answer.content) if answer is not None else []
        if not blocks:
            self.notify("The answer has no code block.", severity="warning")
            return
        if len(blocks) == 1:
            self.copy_text(blocks[0].code, "the code block")
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self.copy_text(blocks[index].code, f"code block {index + 1}")

        self.push_screen(ChooseScreen("Copy which code block?", [b.label for b in blocks]), chosen)

    def _set_editing(self, message_id: str | None) -> None:
        self.editing_id = message_id
        banner = self.query_one("#edit-banner", Static)
        banner.update("Editing an earlier message — Enter sends it as a new branch, Esc cancels."
                      if message_id else "")
        banner.display = message_id is not None

    @on(MessageView.Requested)
    async def message_requested(self, event: MessageView.Requested) -> None:
        message_id = event.view.message_id
        if event.action == "leave":
            self.query_one(PromptArea).focus()
            if self.is_replying:
                self.action_cancel_reply()
            return
        if event.action == "earlier":  # ↑ on the first mounted message
            first = event.view
            chat = self.query_one(ChatLog)
            if chat.message_views[:1] == [first]:  # reaching the top may have mounted more already
                await self.load_earlier()
            views = chat.message_views
            if first in views and views.index(first) > 0:
                self._focus_view(views[views.index(first) - 1])
            return
        if message_id is None or message_id not in self.conversation:
            return
        message = self.conversation.get(message_id)
        if event.action == "copy":
            self.copy_text(message.content, "the message")
        elif event.action == "copy_code":
            self.action_copy_code(message_id)
        elif event.action == "edit":
            if self.is_replying:
                self.notify("Wait for the reply or press Esc first.", severity="warning")
                return
            self._set_editing(message_id)
            prompt = self.query_one(PromptArea)
            prompt.load_text(message.content)
            prompt.move_cursor(prompt.document.end)
            prompt.focus()
        elif event.action in ("regenerate", "regenerate_other"):
            await self.action_regenerate(other_mode=event.action == "regenerate_other", message_id=message_id)
        elif event.action == "continue":
            self.action_continue_answer(message_id)
        elif event.action == "sibling":
            await self.switch_sibling(message_id, event.step)

    async def switch_sibling(self, message_id: str, step: int) -> None:
        if self.is_replying:
            self.notify("Wait for the reply or press Esc first.", severity="warning")
            return
        siblings = self.conversation.siblings(message_id)
        index = [m.id for m in siblings].index(message_id) + step
        if not 0 <= index < len(siblings):
            return
        target = siblings[index]
        self.conversation.switch_to(target.id)
        await self.show_conversation(self.conversation)
        self.save_conversation()
        view = await self._reveal(target.id)
        if view is not None:
            self._focus_view(view)

    # --- mode and settings ----------------------------------------------------------------------

    def action_toggle_mode(self) -> None:
        settings = self.conversation.settings
        model, thinking = self.catalogue.toggle_thinking(settings.model, settings.thinking)
        self.apply_settings(settings.updated(model=model, thinking=thinking))
        mode = fmt.mode_label(self.catalogue, model, thinking, settings.reasoning_effort)
        self.notify(f"Next turn: {model} · {mode}", timeout=2)

    def apply_settings(self, settings: ChatSettings, *, reload_pane: bool = True) -> None:
        """Use `settings` from the next turn on, in this conversation and as the config default."""
        self.conversation.settings = settings
        self.config = replace(self.config, chat=settings)
        if reload_pane:
            self._load_settings_pane()
        else:
            pane = self._settings_pane()
            if pane is not None:
                pane.mark_inert(inert_settings(settings, self.catalogue))
        self.refresh_status()
        self.save_conversation()
        self._schedule_config_save()

    @on(SettingsPane.Changed)
    def settings_changed(self, event: SettingsPane.Changed) -> None:
        settings = event.settings
        if event.field == "model":
            # Keep the thinking wish meaningful for the new model (reasoner ids always think).
            settings = settings.updated(thinking=self.catalogue.get(settings.model).thinks(settings.thinking))
        if event.field == "thinking":
            model, thinking = self.catalogue.set_thinking(settings.model, settings.thinking)
            settings = settings.updated(model=model, thinking=thinking)
        self.apply_settings(settings, reload_pane=event.field in ("model", "thinking"))

    def _settings_pane(self) -> SettingsPane | None:
        found = self.query(SettingsPane)
        return found.first() if found else None

    async def _mount_settings_pane(self) -> SettingsPane:
        pane = SettingsPane(self.conversation.settings, self.catalogue.ids(), id="settings")
        await self.query_one("#side").mount(pane)
        self._load_settings_pane()
        return pane

    def _load_settings_pane(self) -> None:
        pane = self._settings_pane()
        if pane is None:
            return
        settings = self.conversation.settings
        spec = self.catalogue.get(settings.model)
        models = list(dict.fromkeys([*self.catalogue.ids(), *self.listed_models]))
        pane.load(
            settings, models=models, efforts=spec.efforts, max_tokens_limit=spec.max_output_tokens,
            inert=inert_settings(settings, self.catalogue),
        )

    def _schedule_config_save(self) -> None:
        if not self.persist_config:
            return
        if self._config_save_timer is not None:
            self._config_save_timer.stop()
        self._config_save_timer = self.set_timer(0.5, self.save_config_now)

    def save_config_now(self) -> None:
        self._config_save_timer = None
        if not self.persist_config:
            return
        try:
            save_config(self.config, self.config_path)
        except OSError as exc:
            self.notify(f"Could not save settings: {exc.strerror}", severity="warning")

    async def action_toggle_settings(self) -> None:
        pane = self._settings_pane()
        if pane is None:
            await self._mount_settings_pane()
        else:
            pane.display = not pane.display
        self._update_side_visibility()

    def action_toggle_reasoning(self) -> None:
        pane = self.query_one(ReasoningPane)
        pane.display = not pane.display
        self._update_side_visibility()

    def _update_side_visibility(self) -> None:
        side = self.query_one("#side")
        settings = self._settings_pane()
        side.display = self.query_one(ReasoningPane).display or (settings is not None and settings.display)

    async def action_new_conversation(self) -> None:
        if self.is_replying:
            self.notify("Wait for the reply or press Esc first.", severity="warning")
            return
        await self.show_conversation(Conversation(settings=self.conversation.settings))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.binding_rows()))

    def binding_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every app action, with the config's [keymap] applied."""
        rows = [(keys, binding.tooltip or binding.description) for keys, binding in self._app_bindings()]
        rows.append(("ctrl+p", "Command palette: every action"))
        return rows

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every app action in the command palette, with its current key."""
        yield from super().get_system_commands(screen)
        for keys, binding in self._app_bindings():
            if binding.action in ("quit",):
                continue
            yield SystemCommand(
                f"{binding.description} ({keys})",
                binding.tooltip or binding.description,
                lambda action=binding.action: self.run_action(action),
            )

    def _app_bindings(self) -> list[tuple[str, Binding]]:
        result = []
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            keys = self._keymap.get(binding.id, binding.key) if binding.id else binding.key
            result.append((keys.replace(",", " / "), binding))
        return result

    def watch_theme(self, theme: str) -> None:
        """Keep the chosen theme (F1 palette → "Change theme") for the next start."""
        if self.config.theme != theme:
            self.config = replace(self.config, theme=theme)
            self._schedule_config_save()

    # --- sessions, export, import, editor --------------------------------------------------------

    def action_sessions(self) -> None:
        if isinstance(self.screen, SessionsScreen):
            return
        self.push_screen(SessionsScreen(self.store.list_sessions(), self.conversation.id), self._session_chosen)

    async def _session_chosen(self, choice: OpenSession | None) -> None:
        if choice is None or choice.session_id == self.conversation.id and choice.message_id is None:
            return
        await self.open_session(choice.session_id, choice.message_id)

    async def open_session(self, session_id: str, message_id: str | None = None) -> None:
        if self.is_replying:
            self.notify("Wait for the reply or press Esc first.", severity="warning")
            return
        try:
            conversation = self.store.load(session_id)
        except StoreError as exc:
            self.notify(str(exc), title="Cannot open that conversation", severity="error")
            return
        if message_id is not None and message_id in conversation:
            conversation.switch_to(message_id)
        self._set_editing(None)
        await self.show_conversation(conversation)
        if message_id is not None:
            view = await self._reveal(message_id)
            if view is not None:
                self._focus_view(view)

    @on(SessionsScreen.SearchRequested)
    def _search_sessions(self, event: SessionsScreen.SearchRequested) -> None:
        self.search_sessions(event.screen, event.query)

    @work(group="search", exclusive=True, thread=True, exit_on_error=False)
    def search_sessions(self, screen: SessionsScreen, query: str) -> None:
        hits = self.store.search(query)
        self.call_from_thread(screen.show_hits, query, hits)

    @on(SessionsScreen.Requested)
    async def _session_requested(self, event: SessionsScreen.Requested) -> None:
        screen, session_id = event.screen, event.session_id
        if event.action == "new":
            screen.dismiss(None)
            await self.action_new_conversation()
            return
        assert session_id is not None
        if event.action == "rename":
            title = next((s.title for s in screen.sessions if s.id == session_id and hasattr(s, "title")), "")

            async def renamed(new_title: str | None) -> None:
                if new_title is not None and new_title.strip():
                    self._store_call(lambda: self.store.rename(session_id, new_title))
                    if session_id == self.conversation.id:
                        self.conversation.rename(new_title)
                    screen.show_sessions(self.store.list_sessions())

            self.push_screen(AskScreen("Rename conversation", title), renamed)
        elif event.action == "duplicate":
            self._store_call(lambda: self.store.duplicate(session_id))
            screen.show_sessions(self.store.list_sessions())
        elif event.action == "delete":
            title = next((s.title for s in screen.sessions if s.id == session_id and hasattr(s, "title")), session_id)

            async def confirmed(yes: bool | None) -> None:
                if not yes:
                    return
                self._store_call(lambda: self.store.delete(session_id))
                if session_id == self.conversation.id:
                    await self.show_conversation(Conversation(settings=self.conversation.settings))
                screen.show_sessions(self.store.list_sessions())

            self.push_screen(ConfirmScreen(f"Delete “{title}”? This cannot be undone.", yes="Delete"), confirmed)

    def _store_call(self, call: Callable[[], object]) -> None:
        try:
            call()
        except (StoreError, SessionNotFoundError, OSError) as exc:
            self.notify(str(exc), severity="error")

    def action_export(self) -> None:
        if not self.conversation.active_path():
            self.notify("Nothing to export yet.", severity="warning")
            return
        default = Path.cwd() / f"{_file_stem(self.conversation.title)}.md"

        def chosen(name: str | None) -> None:
            if not name:
                return
            path = Path(name).expanduser()
            try:
                if path.suffix.lower() == ".json":
                    self.store.export_json(self.conversation, path)
                else:
                    self.store.export_markdown(self.conversation, path)
            except (StoreError, OSError) as exc:
                self.notify(f"Export failed: {exc}", severity="error")
                return
            self.notify(f"Exported to {path}", timeout=5)

        self.push_screen(AskScreen("Export to file (.md for Markdown, .json for a lossless copy)", str(default)), chosen)

    def action_import_session(self) -> None:
        def chosen(name: str | None) -> None:
            if name:
                self.import_session(Path(name).expanduser())

        self.push_screen(AskScreen("Import a JSON export", placeholder="path/to/conversation.json"), chosen)

    @work(group="import", exclusive=True, exit_on_error=False)
    async def import_session(self, path: Path) -> None:
        """Import a file the user named; it is read in a thread, so no file can freeze the app."""
        try:
            conversation = await asyncio.to_thread(read_export, path)
            conversation = self.store.import_conversation(conversation)
        except (StoreError, OSError) as exc:
            self.notify(f"Import failed: {exc}", severity="error")
            return
        await self.open_session(conversation.id)
        self.notify(f"Imported “{conversation.title}”.", timeout=4)

    def action_edit_prompt(self) -> None:
        prompt = self.query_one(PromptArea)
        try:
            with self.suspend():
                text = edit_text(prompt.text)
        except EditorError as exc:
            self.notify(str(exc), severity="error")
            return
        except Exception as exc:  # SuspendNotSupported and friends: say so, keep the prompt
            self.notify(f"Cannot open an editor here: {exc or type(exc).__name__}", severity="warning")
            return
        prompt.load_text(text.rstrip("\n"))
        prompt.focus()

    def action_fim(self) -> None:
        from deepseek_tui.ui.screens.fim import FimScreen

        if not self._has_client():
            self._ask_for_key()
            return
        models = [spec.id for spec in self.catalogue.specs() if spec.fim]
        if not models:
            self.notify("No model in the catalogue supports FIM.", severity="warning")
            return
        current = self.conversation.settings.model
        self.push_screen(FimScreen(self.complete_fim, models, model=current if current in models else None))

    async def complete_fim(self, model: str, prefix: str, suffix: str, max_tokens: int) -> "FimOutcome":
        from deepseek_tui.ui.screens.fim import FimOutcome

        assert self.client is not None
        result = await self.client.fim(model, prefix, suffix or None, max_tokens=max_tokens)
        usage, cost = fmt.usage_and_cost(result.usage, self.catalogue.get(model), self.config.currency,
                                         clock.now())
        return FimOutcome(text=result.text, usage_label=usage, cost_label=cost)

    # --- key ------------------------------------------------------------------------------------

    def action_set_key(self) -> None:
        self._ask_for_key()

    def _ask_for_key(self, error: str = "") -> None:
        if isinstance(self.screen, KeyScreen):
            return
        self.push_screen(KeyScreen(error, str(self.config_path or "")), callback=self._key_entered)

    def _key_entered(self, key: str | None) -> None:
        if key is None:
            if self.client is None:
                self.notify(
                    "No key: the app cannot send. Press F12 to enter one, or start it with "
                    "DEEPSEEK_API_KEY set.", severity="warning", timeout=10,
                )
            return
        self.validate_key(key)

    @work(group="key", exit_on_error=False)
    async def validate_key(self, key: str) -> None:
        candidate = self.client_factory(key, self.config.effective_base_url())
        try:
            balance = await candidate.balance()
        except AuthenticationFailed:
            await candidate.aclose()
            self._ask_for_key(error="DeepSeek rejected that key. Check it and paste it again.")
            return
        except DeepSeekError as exc:
            await candidate.aclose()
            self._ask_for_key(error=f"Could not check the key: {exc}")
            return
        if self.client is not None:
            await self.client.aclose()
        self.client = candidate
        self.balance_text = fmt.balance_label(balance)
        self.config = replace(self.config, api_key=key)
        if self.persist_config:
            try:
                path = save_config(self.config, self.config_path)
                self.notify(f"Key saved to {path} (mode 0600).", timeout=5)
            except OSError as exc:
                self.notify(f"Key works but could not be saved: {exc.strerror}", severity="warning")
        self.refresh_status()

    # --- account and status --------------------------------------------------------------------

    @work(group="account", exclusive=True, exit_on_error=False)
    async def refresh_account(self) -> None:
        if self.client is None:
            return
        try:
            balance = await self.client.balance()
            self.balance_text = fmt.balance_label(balance)
        except DeepSeekError:
            pass
        if not self.listed_models:
            try:
                listed = await self.client.list_models()
            except DeepSeekError:
                listed = []
            self.listed_models = [getattr(m, "id", m) for m in listed]
            if self.catalogue.add_listed(self.listed_models):
                self._load_settings_pane()
        self.refresh_status()

    def refresh_status(self) -> None:
        settings = self.conversation.settings
        spec = self.catalogue.get(settings.model)
        mode = fmt.mode_label(self.catalogue, settings.model, settings.thinking, settings.reasoning_effort)
        currency = self.conversation.cost_currency() or self.config.currency
        cost = self.conversation.total_cost(currency)
        info = StatusInfo(
            model=settings.model,
            mode=mode,
            state=self._state_text(),
            turn_tokens=self._turn_tokens_text(),
            conversation_cost=f"Σ {fmt.ESTIMATED if self.conversation.cost_is_estimated() else ''}"
            f"{fmt.money(cost or 0.0, currency)}",
            context_used=self._context_used(),
            context_window=spec.context_window,
            balance=self.balance_text,
            demo=self.demo,
        )
        self.query_one(StatusLine).show(info)

    def _state_text(self) -> str:
        progress, state = self.progress, self.turn_state
        if progress is None or state in ("ready", "done", "cancelled", "error"):
            return state
        now = time.monotonic()
        if state == "queued":
            return f"queued (server busy, {progress.keepalives} keep-alives)"
        if state == "thinking":
            return f"thinking {progress.thinking_seconds(now):.0f} s · ~{progress.reasoning_chars // 4} tok"
        if state == "answering":
            return f"answering {progress.answer_rate(now):.0f} tok/s"
        return state

    def _last_assistant(self) -> Message | None:
        for message in reversed(self.conversation.active_path()):
            if message.role == "assistant":
                return message
        return None

    def _turn_tokens_text(self) -> str:
        last = self._last_assistant()
        if last is None or last.usage is None:
            return ""
        return fmt.usage_label(last.usage, compact=True, estimated=last.usage_estimated)

    def _context_used(self) -> int:
        last = self._last_assistant()
        if last is not None and last.context_usage is not None:
            return last.context_usage.total_tokens
        return self._estimated_prompt

    # --- persistence ----------------------------------------------------------------------------

    def _save_after_next_frame(self, conversation: Conversation) -> None:
        """Save once the screen shows the finished answer: a long conversation takes a frame to save."""
        self._save_pending = conversation
        self.call_after_refresh(self._save_if_pending)

    def _save_if_pending(self) -> None:
        """Run a save that `_save_after_next_frame` put off (before the conversation is replaced)."""
        pending, self._save_pending = self._save_pending, None
        if pending is not None:
            self.save_conversation(pending)

    def save_conversation(self, conversation: Conversation | None = None) -> None:
        conversation = conversation or self.conversation
        if not conversation.active_path():
            return
        known = len(conversation)
        try:
            self.store.save(conversation)  # merges in what another window saved meanwhile
        except Exception as exc:  # disk full, unreadable file in the way: say so, keep going
            self.notify(f"Could not save the conversation: {exc}", severity="error", timeout=10)
            return
        if len(conversation) > known:
            self._changed_elsewhere(conversation, len(conversation) - known)

    def _changed_elsewhere(self, conversation: Conversation, count: int) -> None:
        """Another window saved messages to this conversation: say so, and show them when idle."""
        self.notify(f"This conversation changed in another window: {count} new message"
                    f"{'s' if count != 1 else ''}, kept (other branches: F8, then ←/→).", timeout=8)
        self.call_later(self._show_merged, conversation)

    async def _show_merged(self, conversation: Conversation) -> None:
        """Redraw with merged messages, unless a reply is on its way (it owns the chat's end)."""
        worker = self.turn_worker
        if conversation is not self.conversation or self.editing_id is not None or (
                worker is not None and not worker.is_finished):
            return
        leaf = conversation.active_leaf_id
        if leaf is not None and conversation.children(leaf):  # they continue from where we are
            conversation.switch_to(leaf)
        await self.show_conversation(conversation)


class _Autosave:
    """Saves the conversation while a reply streams, as often as the throttle allows."""

    def __init__(self, app: DeepSeekApp, throttle: SaveThrottle) -> None:
        self._app, self._throttle = app, throttle

    def due(self) -> bool:
        return self._throttle.changed()

    def save(self) -> None:
        self._app.save_conversation()
        self._throttle.saved()


def _file_stem(title: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in title.lower()).strip("-")
    return "-".join(filter(None, stem.split("-")))[:60] or "conversation"
