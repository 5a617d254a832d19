"""The conversation pane: the messages of the active branch, of which only the recent ones are
mounted. Earlier ones are mounted when the chat is scrolled to the top, ↑ leaves the first one,
or a message further back has to be shown; a long session unmounts its oldest again.

The app gives it the messages and a function that makes a widget for one; the window of mounted
messages is this widget's business alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.containers import VerticalScroll
from textual.message import Message as TextualMessage
from textual.widgets import Button, Static

from deepseek_tui import labels
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.conversation.model import Conversation, Message
from deepseek_tui.ui.widgets.layout_pass import OneLayoutPass
from deepseek_tui.ui.widgets.markdown_lines import StillWhileSelecting
from deepseek_tui.ui.widgets.messages import AnswerBlock, MessageView, UserBubble
from deepseek_tui.ui.widgets.tool_calls import tool_call_views

MOUNT_WINDOW = 10
"""Messages of the active branch mounted at once. Every streamed flush lays out all mounted
widgets (bench/ui.py case 5.2, tmux, CPU for a 2,000-token answer: 40 messages mounted 1.76 s,
16: 1.49–1.58 s, 10: 1.47 s; none: 1.32–1.48 s)."""

ViewFactory = Callable[[Message], MessageView]


def message_view(
    message: Message, branch: tuple[int, int], catalogue: Catalogue, conversation: Conversation | None = None
) -> MessageView:
    """The widget that shows one user or assistant message (with its `conversation`, an answer
    shows its tool calls with their results, and a tool loop's totals on its last answer)."""
    if message.role == "user":
        return UserBubble(
            message.content,
            meta=labels.user_meta(branch),
            message_id=message.id,
            attachments=message.attachments,
            images_not_sent_to=images_not_seen_by(message, catalogue, conversation),
        )
    results = conversation.tool_results(message.id) if conversation is not None and message.tool_calls else {}
    return AnswerBlock(
        message_id=message.id,
        meta=labels.answer_meta(message, catalogue, branch, conversation),
        content=message.content or labels.empty_answer_note(message),
        reasoning=message.reasoning,
        reasoning_title=labels.thought_title(message),
        error=labels.error_note(message),
        tool_calls=tool_call_views(message, results) if message.tool_calls and message.status == "complete" else (),
    )


def images_not_seen_by(message: Message, catalogue: Catalogue, conversation: Conversation | None) -> str | None:
    """The model that answered this prompt (or will: the chat's model, before its answer exists)
    when the prompt has images and that model does not see them: the request carried a note in
    their place. Derived from the stored answer, so a reopened chat says it too."""
    if conversation is None or message.id not in conversation or not any(a.is_image for a in message.attachments):
        return None
    path = conversation.active_path()
    after = path.index(message) + 1 if message in path else len(path)
    answer = path[after] if after < len(path) and path[after].role == "assistant" else None
    model = answer.model if answer is not None and answer.model else conversation.settings.model
    spec = catalogue.get(model)
    return None if spec.vision else spec.id


def load_earlier_button(hidden_count: int) -> Button:
    return Button(f"Show {hidden_count} earlier messages", id="load-earlier", compact=True)


class ChatView(StillWhileSelecting, OneLayoutPass, VerticalScroll):
    """The messages of one branch, the most recent `MOUNT_WINDOW` of them mounted."""

    DEFAULT_CSS = """
    ChatView { layout: stream; padding: 0 1; }
    ChatView:focus { background-tint: $accent 10%; scrollbar-color: $accent; }
    ChatView #load-earlier { width: 100%; margin: 1 0 0 0; }
    ChatView #empty-hint { color: $text-muted; padding: 1 2; }
    ChatView MessageView.-found { background: $accent 18%; }
    """

    class ReachedTop(TextualMessage):
        """Scrolled to the very top (handled here: earlier messages are mounted)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._messages: list[Message] = []
        self._view_for: ViewFactory | None = None
        self._hidden_before = 0

    def on_mount(self) -> None:
        self.anchor()

    # --- what is shown ----------------------------------------------------------------------

    async def show(self, messages: Sequence[Message], view_for: ViewFactory, *, empty_hint: str = "") -> None:
        """Show these messages (a whole branch), replacing what was there, scrolled to the end."""
        self._messages, self._view_for = list(messages), view_for
        await self.remove_children()
        self._hidden_before = max(len(self._messages) - MOUNT_WINDOW, 0)
        widgets: list = [view_for(m) for m in self._messages[self._hidden_before :]]
        if self._hidden_before:
            widgets.insert(0, load_earlier_button(self._hidden_before))
        if not self._messages and empty_hint:
            widgets.append(Static(empty_hint, id="empty-hint", markup=False))
        await self.mount_all(widgets)
        self.scroll_end(animate=False)

    async def append(self, message: Message) -> MessageView:
        """Add a message at the end of the branch; the chat follows it (a new exchange is always
        shown, whatever the user scrolled to before)."""
        assert self._view_for is not None, "show() comes first"
        self._messages.append(message)
        for hint in self.query("#empty-hint"):
            await hint.remove()
        for found in self.query(".-found"):
            found.remove_class("-found")  # F8 starts at the new exchange again
        view = self._view_for(message)
        await self.mount(view)
        await self._trim()
        self.follow()
        return view

    def follow(self) -> None:
        """Keep the end in view as it grows, until the user scrolls away."""
        self.anchor()

    @property
    def message_views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    def view_of(self, message_id: str) -> MessageView | None:
        """The mounted widget of a message, if it is mounted."""
        found = self.query(f"#m-{message_id}")
        view = found.first() if found else None
        return view if isinstance(view, MessageView) else None

    def answer_of(self, message_id: str) -> AnswerBlock | None:
        view = self.view_of(message_id)
        return view if isinstance(view, AnswerBlock) else None

    async def reveal(self, message_id: str) -> MessageView | None:
        """The widget of a message of the branch, mounting earlier messages as needed."""
        while True:
            view = self.view_of(message_id)
            if view is not None or not self._hidden_before:
                return view
            await self.load_earlier()

    def show_found(self, view: MessageView) -> None:
        """Mark a message a search led to and bring it into view, leaving the focus where it is:
        whoever opened it goes on typing in the prompt (F8 then starts at this message)."""
        for other in self.query(".-found"):
            other.remove_class("-found")
        view.add_class("-found")
        self.call_after_refresh(view.scroll_visible, animate=False, immediate=True)

    @property
    def found_view(self) -> MessageView | None:
        """The mounted message a search led to, if any."""
        views = [view for view in self.message_views if view.has_class("-found")]
        return views[0] if views else None

    def focus_view(self, view: MessageView) -> None:
        """Focus a message and bring it into view once the layout knows where it is."""
        view.focus(scroll_visible=False)
        self.call_after_refresh(view.scroll_visible, animate=False, immediate=True)

    # --- the window -------------------------------------------------------------------------

    async def load_earlier(self) -> None:
        """Mount up to MOUNT_WINDOW earlier messages above the others; the view stays where it was."""
        if not self._hidden_before or self._view_for is None:
            return
        start = max(self._hidden_before - MOUNT_WINDOW, 0)
        widgets = [self._view_for(m) for m in self._messages[start : self._hidden_before]]
        self._hidden_before = start
        button = self.query_one("#load-earlier", Button)
        views = self.message_views
        anchor = views[0] if views else None
        anchor_y, top = (anchor.virtual_region.y if anchor else 0), self.scroll_y
        await self.mount_all(widgets, after=button)
        if start:
            button.label = f"Show {start} earlier messages"
        else:
            await button.remove()

        def keep_view() -> None:  # the message that was first stays where it was on screen
            if anchor is not None and anchor.is_mounted:
                self.scroll_to(y=top + anchor.virtual_region.y - anchor_y, animate=False, immediate=True)

        self.call_after_refresh(keep_view)

    async def _trim(self) -> None:
        """Unmount the oldest messages beyond twice the window, so a long session stays fast."""
        views = self.message_views
        if len(views) <= 2 * MOUNT_WINDOW:
            return
        surplus = views[: len(views) - MOUNT_WINDOW]
        self._hidden_before += len(surplus)
        await self.remove_children(surplus)
        for button in self.query("#load-earlier"):
            await button.remove()
        await self.mount(load_earlier_button(self._hidden_before), before=0)

    # --- events -----------------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self.call_after_refresh(self._check_top)

    def on_mouse_scroll_up(self) -> None:
        if self.max_scroll_y <= 0:  # everything fits: the wheel still asks for earlier messages
            self.post_message(self.ReachedTop())

    def _check_top(self) -> None:
        # Replacing the content or a layout pass can pass through 0 before anchoring to the end.
        if self.scroll_y <= 0 < self.max_scroll_y:
            self.post_message(self.ReachedTop())

    async def on_chat_view_reached_top(self, event: ReachedTop) -> None:
        event.stop()
        if self.scroll_y <= 0:  # still there (not a passing state of a switch)
            await self.load_earlier()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "load-earlier":
            event.stop()
            await self.load_earlier()

    async def on_message_view_past_the_first(self, event: MessageView.PastTheFirst) -> None:
        event.stop()
        first = event.view
        if self.message_views[:1] == [first]:  # reaching the top may have mounted more already
            await self.load_earlier()
        views = self.message_views
        if first in views and views.index(first) > 0:
            self.focus_view(views[views.index(first) - 1])
