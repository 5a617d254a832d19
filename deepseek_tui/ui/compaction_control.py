"""Compaction in the app: summarising the earlier turns into one answer on a new branch when the
user asks, and offering it once per conversation when the context window is nearly full."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deepseek_tui.conversation.model import ConversationError
from deepseek_tui.ui.commands import keys_of_action
from deepseek_tui.ui.widgets.status import GAUGE_FULL, StatusLine

if TYPE_CHECKING:
    from deepseek_tui.conversation.turn import Turn
    from deepseek_tui.ui.app import DeepSeekApp


class CompactionController:
    """Owned by the app; the summary is a turn the app runs (`app.start_turn`)."""

    def __init__(self, app: DeepSeekApp) -> None:
        self.app = app
        self._offered_for: str | None = None
        """The conversation the "context nearly full" notice was shown for."""

    async def compact(self) -> None:
        """Summarise the earlier turns into one answer on a new branch (the old one stays)."""
        from deepseek_tui.conversation.compact import finish_compaction, prepare_compaction

        app = self.app
        if not app.ready_to_send():
            return
        try:
            compaction = prepare_compaction(app.conversation, app.catalogue)
        except ConversationError as exc:
            app.notify(str(exc), severity="warning")
            return
        await app.show_conversation(app.conversation)

        async def done(turn: Turn) -> None:
            if finish_compaction(compaction):
                app.notify(
                    f"Compacted: {len(compaction.kept)} recent messages follow the summary; the "
                    "full conversation is the other branch of the first message (←/→ on it).",
                    timeout=8,
                )
            else:
                app.notify(
                    "The summary did not complete: the conversation is as it was (the attempt is kept as a branch).",
                    severity="warning",
                    timeout=8,
                )
            if turn.conversation is app.conversation:
                await app.show_conversation(app.conversation)

        app.start_turn(compaction.turn, then=done)

    def offer(self) -> None:
        """Past 80% of the context window, say that compacting would make room."""
        app = self.app
        share = app.query_one(StatusLine).info.context_share
        if share >= GAUGE_FULL and self._offered_for != app.conversation.id:
            self._offered_for = app.conversation.id
            keys = keys_of_action(app, "compact")
            app.notify(
                f"This conversation fills {share:.0%} of the model's context window. {keys} compacts "
                "the earlier turns into a summary (a new branch; nothing is lost).",
                title="Context nearly full",
                severity="warning",
                timeout=12,
            )
