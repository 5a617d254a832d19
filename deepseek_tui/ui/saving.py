"""Saving conversations from the app: at once, or put off until the next frame (a turn's last save
waits until the finished answer is on screen: a long conversation takes a frame to save); a save
put off for a conversation deleted meanwhile is dropped; what another window saved to the same
conversation is merged by the store, told, and shown once no reply is on its way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deepseek_tui.conversation.model import Conversation

if TYPE_CHECKING:
    from deepseek_tui.ui.app import DeepSeekApp


class ConversationSaver:
    """Owned by the app; writes through `app.store`."""

    def __init__(self, app: DeepSeekApp) -> None:
        self.app = app
        self.pending: Conversation | None = None
        """The conversation whose save is put off to the next frame."""

    def save_after_next_frame(self, conversation: Conversation) -> None:
        """Save once the screen shows the finished answer: a long conversation takes a frame to save."""
        self.pending = conversation
        self.app.call_after_refresh(self.save_if_pending)

    def save_if_pending(self) -> None:
        """Run a save that `save_after_next_frame` put off (before the conversation is replaced)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            self.save(pending)

    def forget(self, session_id: str) -> None:
        """The conversation was deleted: a put-off save must not bring it back."""
        if self.pending is not None and self.pending.id == session_id:
            self.pending = None

    def save(self, conversation: Conversation) -> None:
        if not conversation.active_path():
            return
        known = len(conversation)
        try:
            self.app.store.save(conversation)  # merges in what another window saved meanwhile
        except Exception as exc:  # disk full, unreadable file in the way: say so, keep going
            self.app.notify(f"Could not save the conversation: {exc}", severity="error", timeout=10)
            return
        if len(conversation) > known:
            self._changed_elsewhere(conversation, len(conversation) - known)

    def _changed_elsewhere(self, conversation: Conversation, count: int) -> None:
        """Another window saved messages to this conversation: say so, and show them when idle."""
        self.app.notify(
            f"This conversation changed in another window: {count} new message"
            f"{'s' if count != 1 else ''}, kept (other branches: F8, then ←/→).",
            timeout=8,
        )
        self.app.call_later(self._show_merged, conversation)

    async def _show_merged(self, conversation: Conversation) -> None:
        """Redraw with merged messages, unless a reply is on its way (it owns the chat's end)."""
        app = self.app
        worker = app.turn_worker
        if (
            conversation is not app.conversation
            or app.editing_id is not None
            or (worker is not None and not worker.is_finished)
        ):
            return
        leaf = conversation.active_leaf_id
        if leaf is not None and conversation.children(leaf):  # they continue from where we are
            conversation.switch_to(leaf)
        await app.show_conversation(conversation)
