"""What the user does to a message of the open conversation: answer it again (in the same or the
other mode), continue a cut-off answer, edit a prompt into a new branch, step between branches,
select a message, and copy a message, an answer, a code block or any text (ui/copying.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deepseek_tui.conversation.model import ConversationError, Message
from deepseek_tui.ui.copying import copy_everywhere
from deepseek_tui.ui.screens.dialogs import ChooseScreen
from deepseek_tui.ui.widgets.prompt import PromptArea

if TYPE_CHECKING:
    from deepseek_tui.ui.app import DeepSeekApp


class MessageOperations:
    """Owned by the app, which routes the keys and the message intents here. Each operation looks
    its message up in the app's open conversation; one that needs a request waits for the reply
    streaming now, and leaves the new turn to `app.start_turn`."""

    def __init__(self, app: DeepSeekApp) -> None:
        self.app = app

    def last_of(self, role: str) -> Message | None:
        return next((m for m in reversed(self.app.conversation.active_path()) if m.role == role), None)

    def message(self, message_id: str) -> Message | None:
        conversation = self.app.conversation
        return conversation.get(message_id) if message_id in conversation else None

    # --- new answers ----------------------------------------------------------------------------

    async def regenerate(self, other_mode: bool = False, message_id: str | None = None) -> None:
        """Answer the prompt again; the old answer stays as a sibling branch."""
        app = self.app
        if not app.ready_to_send():
            return
        target = self.message(message_id) if message_id else self.last_of("assistant")
        if target is None or target.role != "assistant":
            app.notify("There is no answer to regenerate yet.", severity="warning")
            return
        settings = app.conversation.settings
        if other_mode:
            model, thinking = app.catalogue.toggle_thinking(target.model or settings.model, target.thinking)
            settings = settings.updated(model=model, thinking=thinking)
        app.conversation.prepare_regenerate(target.id)
        await app.show_conversation(app.conversation)
        try:
            turn = app.tools.reply(app.conversation, app.catalogue, settings)
        except ConversationError as exc:  # e.g. over the API's size limit with its attachments
            app.notify(str(exc), title="Not sent", severity="error", timeout=12)
            return
        app.start_turn(turn)

    def continue_answer(self, message_id: str | None = None) -> None:
        """Continue an answer that was cut off, cancelled or dropped (chat prefix completion)."""
        app = self.app
        if not app.ready_to_send():
            return
        target = self.message(message_id) if message_id else self.last_of("assistant")
        if target is None:
            app.notify("There is no answer to continue.", severity="warning")
            return
        from deepseek_tui.conversation.turn import prepare_continue

        try:
            turn = prepare_continue(app.conversation, target.id, app.catalogue)
        except ConversationError as exc:
            app.notify(str(exc), severity="warning")
            return
        app.start_turn(turn)

    # --- editing and moving ---------------------------------------------------------------------

    def edit(self, message_id: str) -> None:
        """Load a prompt into the prompt area; Enter resends it as a new branch."""
        app = self.app
        message = self.message(message_id)
        if message is None or app.refuse_while_replying():
            return
        app.set_editing(message.id)
        app.set_pending_attachments(message.attachments)  # kept unless removed before resending
        prompt = app.query_one(PromptArea)
        prompt.load_text(message.content)
        prompt.move_cursor(prompt.document.end)
        prompt.focus()

    async def switch_branch(self, message_id: str, step: int) -> None:
        app = self.app
        if message_id not in app.conversation or app.refuse_while_replying():
            return
        siblings = app.conversation.siblings(message_id)
        index = [m.id for m in siblings].index(message_id) + step
        if not 0 <= index < len(siblings):
            return
        target = siblings[index]
        app.conversation.switch_to(target.id)
        await app.show_conversation(app.conversation)
        app.save_conversation()
        view = await app.chat.reveal(target.id)
        if view is not None:
            app.chat.focus_view(view)

    def select(self) -> None:
        """Select the message a search led to, if it is shown, else the last one."""
        views = self.app.chat.message_views
        target = self.app.chat.found_view or (views[-1] if views else None)
        if target is not None:
            target.focus()
            target.scroll_visible(animate=False)

    # --- copying --------------------------------------------------------------------------------

    def copy_text(self, text: str, what: str) -> None:
        app = self.app
        report = copy_everywhere(app, text, what, keep_in=app.store.directory.parent / "copied.txt")
        app.notify(report.text, title=report.title, severity=report.severity, timeout=report.timeout)

    def copy_message(self, message_id: str) -> None:
        message = self.message(message_id)
        if message is not None:
            self.copy_text(message.content, "the message")

    def copy_answer(self) -> None:
        answer = self.last_of("assistant")
        if answer is None or not answer.content:
            self.app.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_text(answer.content, "the answer")

    def copy_code(self, message_id: str | None = None) -> None:
        from deepseek_tui.ui.code_blocks import code_blocks

        answer = self.message(message_id) if message_id else self.last_of("assistant")
        blocks = code_blocks(answer.content) if answer is not None else []
        if not blocks:
            self.app.notify("The answer has no code block.", severity="warning")
            return
        if len(blocks) == 1:
            self.copy_text(blocks[0].code, "the code block")
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self.copy_text(blocks[index].code, f"code block {index + 1}")

        self.app.push_screen(ChooseScreen("Copy which code block?", [b.label for b in blocks]), chosen)
