"""The Textual app: composition, wiring, and the state it owns — the open conversation, the turn
streaming into it (its worker), the config; opening and switching conversations.

Where things live: keys and palette entries in `ui/commands.py`; a turn's events on screen in
`ui/reply.py` (the turn itself in `conversation/turn.py`); the list of messages and its window
in `ui/widgets/chat_view.py`; what a widget asks for in `ui/intents.py`. Widgets only display and
post intents; every request, and every file write outside a screen's own dialog, happens in the
app or one of the collaborators it owns (each gets the app and acts on it):
`ui/settings_control.py` (chat settings, side panes, config saves), `ui/account_control.py` (key,
client, balance, /models), `ui/message_ops.py` (regenerate, continue, edit, branches, copy),
`ui/compaction_control.py`, `ui/turn_errors.py` (why a turn stopped), `ui/saving.py` (saving
conversations), `ui/transfer_control.py` (export, import), `ui/fim_control.py`,
`ui/tools_control.py` (MCP tools) and the `ui/attaching.py` mixin (attachments).
The App keeps thin `action_*` methods and intent handlers: bindings and messages reach the App.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker

from deepseek_tui import labels as fmt
from deepseek_tui import prompt_history
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.config import AppConfig
from deepseek_tui.conversation.attachments import Attachment
from deepseek_tui.conversation.model import Conversation, ConversationError, Message
from deepseek_tui.conversation.store import SessionStore, StoreError
from deepseek_tui.inert import inert_text
from deepseek_tui.model_choice import current_settings
from deepseek_tui.ui.account_control import AccountController
from deepseek_tui.ui.attaching import AttachmentWiring
from deepseek_tui.ui.commands import APP_BINDINGS, help_rows, palette_entries
from deepseek_tui.ui.compaction_control import CompactionController
from deepseek_tui.ui.crash_guard import CrashGuard
from deepseek_tui.ui.fim_control import FimController
from deepseek_tui.ui.intents import (
    ContinueAnswer,
    ConversationDeleted,
    ConversationRenamed,
    CopyCode,
    CopyMessage,
    CopyText,
    EditMessage,
    LeaveChat,
    Regenerate,
    SwitchBranch,
    ToolSwitched,
)
from deepseek_tui.ui.message_ops import MessageOperations
from deepseek_tui.ui.saving import ConversationSaver
from deepseek_tui.ui.screens.main import MainScreen
from deepseek_tui.ui.settings_control import SettingsController
from deepseek_tui.ui.status_report import status_info
from deepseek_tui.ui.tools_control import ToolsController
from deepseek_tui.ui.transfer_control import TransferController
from deepseek_tui.ui.turn_errors import TurnErrors
from deepseek_tui.ui.widgets.attachments import AttachmentBar, PathCompletions
from deepseek_tui.ui.widgets.chat_view import ChatView, message_view
from deepseek_tui.ui.widgets.footer import CoalescingFooter
from deepseek_tui.ui.widgets.messages import AnswerBlock, MessageView
from deepseek_tui.ui.widgets.prompt import PromptArea
from deepseek_tui.ui.widgets.reasoning import ReasoningPane
from deepseek_tui.ui.widgets.settings import SettingsPane
from deepseek_tui.ui.widgets.status import StatusLine

if TYPE_CHECKING:
    from deepseek_tui.client import DeepSeekClient
    from deepseek_tui.conversation.tool_loop import Reply
    from deepseek_tui.conversation.turn import Turn, TurnProgress
    from deepseek_tui.ui.screens.sessions import PickerResult

# Imported where first used, not here: the turn and tool loop, the tool display, compaction,
# the editor and the screens other than the main one load after the first frame (issue 16;
# tests/test_layering.py checks that starting the app does not import them).

ClientFactory = Callable[[str, str], "DeepSeekClient"]

BUSY = "A reply is streaming: wait, or press Esc to stop it."
"""What the user is told when they ask for something that must wait for the reply."""


def default_client(key: str, base_url: str) -> "DeepSeekClient":
    from deepseek_tui.client import DeepSeekClient

    return DeepSeekClient(key, base_url)


LISTING_WARM_DELAY = 2.0
"""Seconds after start before the conversations are listed in the background (not during start-up)."""


class DeepSeekApp(CrashGuard, AttachmentWiring, App[None]):
    TITLE = "deepseek-tui"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = list[Binding | tuple[str, str] | tuple[str, str, str]](APP_BINDINGS)

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
        """The conversation on screen; a turn keeps its own until it ends."""
        self.turn: Reply | None = None
        """The turn (or tool loop) streaming now, or the last one."""
        self.turn_worker: Worker | None = None
        self.editing_id: str | None = None
        """The user message being edited in the prompt (Enter resends it as a new branch)."""
        self.history_path = self.store.directory.parent / prompt_history.FILE_NAME
        self.init_attachments(Path.cwd())
        # The collaborators (see the module docstring):
        self.saver = ConversationSaver(self)
        self.tools = ToolsController(self)
        self.settings = SettingsController(self)
        self.account = AccountController(self)
        self.messages = MessageOperations(self)
        self.compaction = CompactionController(self)
        self.errors = TurnErrors(self)
        self.transfer = TransferController(self)
        self.fim = FimController(self)
        if config.theme:
            self.theme = config.theme
        if config.keymap:
            self.set_keymap(dict(config.keymap))

    def save_before_crash(self) -> None:
        """An unhandled exception is ending the app (CrashGuard): keep what there is."""
        for conversation in (self.saver.pending, self.conversation):
            if conversation is not None and conversation.active_path():
                self.store.save(conversation)

    def crash_secrets(self) -> list[str | None]:
        return [self.config.effective_api_key(), self.config.api_key]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity="information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry server and model text: never parse it as markup (Textual's default),
        never let a control character in it reach the terminal."""
        super().notify(inert_text(message), title=inert_text(title), severity=severity, timeout=timeout, markup=markup)

    # --- layout and start -------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="chat-column"):
                yield ChatView(id="chat")
                yield Static("", id="edit-banner", markup=False)
                yield AttachmentBar(id="attachments", typing_goes_to="#prompt")
                yield PathCompletions(id="path-completions")
                yield PromptArea(
                    id="prompt",
                    placeholder="Ask DeepSeek — Enter sends, ctrl+j new line",
                    history=prompt_history.load(self.history_path),
                )
            with Vertical(id="side"):
                yield ReasoningPane(id="reasoning")
                # The settings pane (~60 widgets) is built the first time it is shown.
        yield StatusLine(id="status")
        yield CoalescingFooter()

    async def on_mount(self) -> None:
        self.query_one(ReasoningPane).display = self.config.show_reasoning
        if self.config.show_settings:
            await self.settings.mount_pane()
        self.settings.update_side_visibility()
        await self._open_initial_conversation()
        for notice in self.config.notices:  # e.g. the config named a retired model
            self.notify(notice, severity="warning", timeout=10)
        if self.config.names_retired_model:
            self.settings.schedule_save()  # with the successor: told once
        self.query_one(PromptArea).focus()
        self.call_after_refresh(self.resume_collection)
        self.call_after_refresh(self.tools.start)  # MCP servers start in the background, after the first frame
        key = self.config.effective_api_key()
        if key:
            self.call_after_refresh(self.account.connect_soon, key)  # the HTTP client loads after the first frame
        else:
            self.account.ask_for_key()
        self.set_timer(LISTING_WARM_DELAY, self._warm_listing)

    @staticmethod
    def resume_collection() -> None:
        """After the first frame: garbage collection on again if the launch turned it off, with
        what start-up made set aside (`gc.freeze`: later collections do not scan it again)."""
        if not gc.isenabled():
            gc.freeze()
            gc.enable()

    @work(group="listing", exclusive=True, thread=True, exit_on_error=False)
    def _warm_listing(self) -> None:
        """List the conversations once in the background, so that the picker's first opening
        only looks for what changed since (with 10,000 conversations, reading their summaries
        takes about 0.2 s)."""
        self.store.list_sessions()
        # Its thousands of summaries make Python's next full garbage collection due: run it now,
        # while the app is idle, rather than when the next burst of objects (opening the
        # picker) sets it off (50–100 ms with 10,000 conversations).
        gc.collect()

    async def on_unmount(self) -> None:
        self.saver.save_if_pending()
        await self.tools.aclose()
        if self.client is not None:
            await self.client.aclose()

    # --- the conversation on screen ------------------------------------------------------------

    @property
    def chat(self) -> ChatView:
        return self.query_one(ChatView)

    async def _open_initial_conversation(self) -> None:
        conversation = None
        if self.config.on_start == "continue":
            try:
                conversation = self.store.most_recent()
            except Exception as exc:  # the store reports unreadable files; never crash on start
                self.notify(f"Could not open the last conversation: {exc}", severity="warning")
        await self.show_conversation(conversation or Conversation(settings=self.config.chat))

    async def show_conversation(self, conversation: Conversation) -> None:
        self.saver.save_if_pending()
        choice = current_settings(conversation.settings, self.catalogue)  # a retired model: its successor
        conversation.settings = choice.settings
        if choice.notice:
            self.notify(choice.notice, severity="warning", timeout=10)
        self.conversation = conversation
        self.report_attachment_problems(conversation)
        path = [m for m in conversation.active_path() if m.role in ("user", "assistant")]
        await self.chat.show(path, self._view_for, empty_hint=self._empty_hint())
        self.settings.load_pane()
        last = next((m for m in reversed(path) if m.role == "assistant" and m.reasoning), None)
        pane = self.query_one(ReasoningPane)
        await pane.show_text(last.reasoning if last else "", fmt.thought_title(last) if last else "Reasoning")
        self.refresh_status()

    def _view_for(self, message: Message) -> MessageView:
        return message_view(message, self.conversation.sibling_position(message.id), self.catalogue, self.conversation)

    def _empty_hint(self) -> str:
        hint = "Type a message and press Enter; @ attaches a file. ctrl+t switches chat ↔ reasoner, F1 lists the keys."
        if self.demo:
            hint = (
                "DEMO: answers come from a built-in simulator, no key and no cost. Its tools: ask for "
                "today's date, or to calculate 17 * 23 (ctrl+\\ shows the tools).\n" + hint
            )
        return hint

    # --- turns ----------------------------------------------------------------------------------

    @property
    def is_replying(self) -> bool:
        return self.turn_worker is not None and self.turn_worker.is_running

    @property
    def progress(self) -> TurnProgress | None:
        return self.turn.progress if self.turn is not None else None

    def refuse_while_replying(self) -> bool:
        """True (and the user told why) when a reply is streaming."""
        if self.is_replying:
            self.notify(BUSY, severity="warning")
        return self.is_replying

    def ready_to_send(self) -> bool:
        if self.refuse_while_replying():
            return False
        if not self.account.has_client():
            self.notify("No API key yet.", severity="warning")
            self.account.ask_for_key()
            return False
        return True

    @on(PromptArea.Submitted)
    async def send_prompt(self, event: PromptArea.Submitted) -> None:
        if self.ready_to_send():
            self.send_checked(event.text, self.send_text)  # attachments are checked first

    async def send_text(self, text: str, attachments: Sequence[Attachment] = ()) -> None:
        if not self.ready_to_send():
            return
        self.query_one(PromptArea).remember(text)
        self.clear_pending_attachments()
        self._remember_prompt(text)
        if self.editing_id is not None:
            self.conversation.edit_user(self.editing_id, text, attachments)
            self.set_editing(None)
            await self.show_conversation(self.conversation)
        else:
            await self.chat.append(self.conversation.add_user(text, attachments))
        self.save_conversation()
        try:
            turn = self.tools.reply(self.conversation, self.catalogue)
        except ConversationError as exc:  # over the size limit: checked before when files are on the branch
            self.notify(str(exc), title="Not sent", severity="error", timeout=12)
            return
        self.start_turn(turn)

    def _remember_prompt(self, text: str) -> None:
        try:
            prompt_history.remember(self.history_path, text)
        except OSError as exc:
            self.notify(f"Could not keep the prompt history: {exc.strerror}", severity="warning")

    def start_turn(self, turn: Reply, then: Callable[[Turn], Awaitable[None]] | None = None) -> None:
        """Run `turn`; `then` runs after it ends (however it ends), before the screen settles."""
        for note in turn.notes:
            self.notify(note, timeout=8)
        self.turn = turn
        self.turn_worker = self.run_turn(turn, then)
        self.refresh_status()  # the state changes now; the 1 Hz refresh is for the counters

    @work(exclusive=True, group="turn", exit_on_error=False)
    async def run_turn(self, turn: Reply, then: Callable[[Turn], Awaitable[None]] | None = None) -> None:
        from deepseek_tui.conversation.turn import Turn
        from deepseek_tui.ui.tool_display import blocks_in, reply_display

        assert self.client is not None
        conversation, prompt = turn.conversation, self.query_one(PromptArea)
        display = None
        ticker = self.set_interval(1.0, self.refresh_status)
        prompt.cursor_blink = False  # each blink is a frame; the reply's flushes are enough

        def autosave() -> None:
            self.save_conversation(conversation)

        try:
            display = reply_display(
                turn,
                await self._answer_block_for(turn),
                self.query_one(ReasoningPane),
                self.catalogue,
                notify=self.notify,
                refresh_status=self.refresh_status,
                block_for=blocks_in(self.chat, lambda: conversation is self.conversation),
            )
            await display.begin()
            async with aclosing(turn.stream(self.client, currency=self.config.currency, save=autosave)) as events:
                async for event in events:
                    await display.show(event)
        except Exception as exc:  # a bug: keep the app and what arrived, and say where the details are
            turn.end_by_error(self.errors.report_bug(exc))
        finally:
            ticker.stop()
            prompt.cursor_blink = True
            turn.end_unfinished()
            if display is not None:
                await display.finish()
            if then is not None and isinstance(turn, Turn):
                await then(turn)
            if turn.phase == "cancelled":  # Esc or quitting: save now, the app may be closing
                self.save_conversation(conversation)
            else:
                self.saver.save_after_next_frame(conversation)
            self.refresh_status()
            self.account.refresh()
        if turn.error is not None:
            self.errors.report_error(turn.error)
        else:
            self.compaction.offer()

    async def _answer_block_for(self, turn: Reply) -> AnswerBlock:
        """The block the turn streams into: the one on screen, the continued answer's, or a new one."""
        view: MessageView | None = self.chat.answer_of(turn.message.id)
        if view is None and not turn.continued:
            view = await self.chat.append(turn.message)
        elif view is None and (view := await self.chat.reveal(turn.message.id)) is None:
            await self.show_conversation(turn.conversation)
            view = await self.chat.reveal(turn.message.id)
        assert isinstance(view, AnswerBlock)
        return view

    # --- compaction (ui/compaction_control.py) -----------------------------------------------------

    async def action_compact(self) -> None:
        await self.compaction.compact()

    def action_cancel_reply(self) -> None:
        if self.is_replying and self.turn_worker is not None:
            self.turn_worker.cancel()
        elif self.editing_id is not None:
            self.set_editing(None)
            self.query_one(PromptArea).load_text("")
            self.clear_pending_attachments()

    # --- operations on messages (ui/message_ops.py) ------------------------------------------------

    async def action_regenerate(self, other_mode: bool = False, message_id: str | None = None) -> None:
        await self.messages.regenerate(other_mode, message_id)

    async def action_regenerate_other_mode(self) -> None:
        await self.messages.regenerate(other_mode=True)

    def action_continue_answer(self, message_id: str | None = None) -> None:
        self.messages.continue_answer(message_id)

    def action_select_message(self) -> None:
        self.messages.select()

    def action_copy_answer(self) -> None:
        self.messages.copy_answer()

    def action_copy_code(self, message_id: str | None = None) -> None:
        self.messages.copy_code(message_id)

    @on(Regenerate)
    async def _regenerate_requested(self, intent: Regenerate) -> None:
        await self.messages.regenerate(intent.other_mode, intent.message_id)

    @on(ContinueAnswer)
    def _continue_requested(self, intent: ContinueAnswer) -> None:
        self.messages.continue_answer(intent.message_id)

    @on(EditMessage)
    def _edit_requested(self, intent: EditMessage) -> None:
        self.messages.edit(intent.message_id)

    @on(SwitchBranch)
    async def switch_sibling(self, intent: SwitchBranch) -> None:
        await self.messages.switch_branch(intent.message_id, intent.step)

    @on(CopyMessage)
    def _copy_requested(self, intent: CopyMessage) -> None:
        self.messages.copy_message(intent.message_id)

    @on(CopyText)
    def _copy_text_requested(self, intent: CopyText) -> None:
        self.messages.copy_text(intent.text, intent.what)

    @on(CopyCode)
    def _copy_code_requested(self, intent: CopyCode) -> None:
        self.messages.copy_code(intent.message_id)

    @on(LeaveChat)
    def _leave_chat(self) -> None:
        self.query_one(PromptArea).focus()
        if self.is_replying:
            self.action_cancel_reply()

    def set_editing(self, message_id: str | None) -> None:
        """Mark `message_id` as the prompt being edited (None: no longer editing)."""
        self.editing_id = message_id
        banner = self.query_one("#edit-banner", Static)
        banner.update("Editing an earlier message — Enter sends it as a new branch, Esc cancels." if message_id else "")
        banner.display = message_id is not None

    # --- mode and settings (ui/settings_control.py) ------------------------------------------------

    def action_toggle_mode(self) -> None:
        self.settings.toggle_mode()

    def apply_settings(self, settings: ChatSettings, *, reload_pane: bool = True) -> None:
        self.settings.apply(settings, reload_pane=reload_pane)

    @on(SettingsPane.Changed)
    def settings_changed(self, event: SettingsPane.Changed) -> None:
        self.settings.changed(event)

    def save_config_now(self) -> None:
        self.settings.save_now()

    def watch_theme(self, theme: str) -> None:
        self.settings.theme_chosen(theme)

    async def action_toggle_settings(self) -> None:
        await self.settings.toggle_pane()

    def action_toggle_reasoning(self) -> None:
        self.settings.toggle_reasoning()

    # --- help and palette -------------------------------------------------------------------------

    def action_help(self) -> None:
        from deepseek_tui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.binding_rows()))

    def binding_rows(self) -> list[tuple[str, str, str]]:
        """(keys, what they do, binding id) for every key, with the config's [keymap] applied."""
        return help_rows(self._keymap)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every app action in the command palette, with its current key."""
        yield from super().get_system_commands(screen)
        for title, help_text, callback in palette_entries(self._keymap, self.run_action):
            yield SystemCommand(title, help_text, callback)

    # --- conversations ----------------------------------------------------------------------------

    async def action_new_conversation(self) -> None:
        """A new chat starts from the configured defaults (the settings pane keeps them)."""
        if not self.refuse_while_replying():
            await self.show_conversation(Conversation(settings=self.config.chat))

    def action_sessions(self) -> None:
        from deepseek_tui.ui.screens.sessions import SessionsScreen

        if isinstance(self.screen, SessionsScreen):
            return

        def busy(session_id: str) -> bool:
            return self.is_replying and self.turn is not None and self.turn.conversation.id == session_id

        self.push_screen(
            SessionsScreen(self.store, self.conversation.id, busy=busy, shell_hint=not self.demo), self._picked
        )

    async def _picked(self, result: PickerResult) -> None:
        from deepseek_tui.ui.screens.sessions import OpenSession, StartNewChat

        if isinstance(result, StartNewChat):
            await self.action_new_conversation()
        elif isinstance(result, OpenSession) and (
            result.session_id != self.conversation.id or result.message_id is not None
        ):
            await self.open_session(result.session_id, result.message_id)

    async def open_session(self, session_id: str, message_id: str | None = None) -> None:
        if self.refuse_while_replying():
            return
        try:
            conversation = self.store.load(session_id)
        except StoreError as exc:
            self.notify(str(exc), title="Cannot open that conversation", severity="error")
            return
        if message_id is not None and message_id in conversation:
            conversation.switch_to(message_id)
        self.set_editing(None)
        await self.show_conversation(conversation)
        # The hit is shown and marked, but typing goes to the prompt: a message's one-letter keys
        # act only once the user has moved into the conversation (F8 starts at the hit).
        self.query_one(PromptArea).focus()
        if message_id is not None and (view := await self.chat.reveal(message_id)) is not None:
            self.chat.show_found(view)

    def action_tools(self) -> None:
        self.tools.show_view()

    @on(ToolSwitched)
    def _tool_switched(self, intent: ToolSwitched) -> None:
        self.tools.switch(intent.name, intent.on)

    @on(ConversationRenamed)
    def _renamed(self, event: ConversationRenamed) -> None:
        if event.session_id == self.conversation.id:
            self.conversation.rename(event.title)

    @on(ConversationDeleted)
    async def _deleted(self, event: ConversationDeleted) -> None:
        self.saver.forget(event.session_id)  # a put-off save must not bring it back
        if event.session_id == self.conversation.id:
            await self.show_conversation(Conversation(settings=self.config.chat))

    def action_export(self) -> None:
        self.transfer.export()

    def action_import_session(self) -> None:
        self.transfer.import_session()

    def action_edit_prompt(self) -> None:
        from deepseek_tui.ui.editor import EditorError, edit_text

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
        prompt.move_cursor(prompt.document.end)  # go on typing where the editor left off
        prompt.focus()

    def action_fim(self) -> None:
        self.fim.open()

    # --- key and account (ui/account_control.py) ---------------------------------------------------

    def action_set_key(self) -> None:
        self.account.ask_for_key()

    def refresh_status(self) -> None:
        info = status_info(
            self.conversation,
            self.turn,
            self.catalogue,
            currency=self.config.currency,
            balance=self.account.balance_text,
            demo=self.demo,
        )
        self.query_one(StatusLine).show(info)

    # --- persistence (ui/saving.py) --------------------------------------------------------------

    def save_conversation(self, conversation: Conversation | None = None) -> None:
        self.saver.save(conversation or self.conversation)
