"""What the user asked for, as typed messages: widgets and screens post them, the app acts.

Each names the message it is about; the app looks it up in the conversation it owns.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class MessageIntent(Message):
    """An action on one message of the conversation."""

    message_id: str


@dataclass
class Regenerate(MessageIntent):
    """Answer that answer's prompt again (a new branch), optionally in the other mode."""

    other_mode: bool = False


@dataclass
class ContinueAnswer(MessageIntent):
    """Continue a cut-off or interrupted answer."""


@dataclass
class EditMessage(MessageIntent):
    """Load a user message into the prompt; sending makes a new branch."""


@dataclass
class CopyMessage(MessageIntent):
    """Copy the message's text."""


@dataclass
class CopyCode(MessageIntent):
    """Copy one of the message's code blocks."""


@dataclass
class SwitchBranch(MessageIntent):
    """Show the previous (-1) or next (+1) sibling of the message."""

    step: int


@dataclass
class CopyText(Message):
    """Copy a text that is not a message (a FIM completion, …)."""

    text: str
    what: str
    """How the notification names it, e.g. "the completion"."""


@dataclass
class LeaveChat(Message):
    """Go back from the messages to the prompt (cancelling a streaming reply)."""


@dataclass
class ConversationRenamed(Message):
    """A stored conversation got a new title (the picker did it)."""

    session_id: str
    title: str


@dataclass
class ConversationDeleted(Message):
    """A stored conversation was deleted (the picker did it)."""

    session_id: str


@dataclass
class ToolSwitched(Message):
    """A tool was switched on or off for the conversation on screen (the tools view did it)."""

    name: str
    """The tool's function name."""
    on: bool
