"""A conversation as a tree of messages (no Textual, no I/O).

Nothing is ever overwritten: editing a user message or regenerating an answer adds a sibling, and
one branch (root -> active leaf) is the active one. The request builder and the UI only ever look
at `active_path()`; other branches stay in the tree and in the session file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from deepseek_tui import clock
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.attachments import Attachment
from deepseek_tui.usage import Usage

Role = Literal["system", "user", "assistant", "tool"]
Status = Literal["complete", "partial", "cancelled", "failed", "streaming"]

ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
STATUSES: tuple[str, ...] = ("complete", "partial", "cancelled", "failed", "streaming")
SCHEMA_VERSION = 1
UNTITLED = "New chat"
STALE_STREAM_ERROR = "The app stopped while this answer was streaming; what arrived was kept (F5 continues it)."
TITLE_LENGTH = 60


def utc_now() -> datetime:
    return clock.now()


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class ToolCall:
    """One function call requested by the model; `arguments` is the raw JSON text."""

    id: str
    name: str
    arguments: str = ""


ToolOutcome = Literal["ok", "error", "refused", "cancelled", "skipped"]
TOOL_OUTCOMES: tuple[str, ...] = ("ok", "error", "refused", "cancelled", "skipped")


@dataclass(frozen=True)
class ToolRun:
    """How the call a tool message answers went (shown and stored; never sent to the API).

    `outcome`: ok / error (the tool or its server failed) / refused (by the user) / cancelled
    (the user stopped the reply) / skipped (not run: the round limit was reached).
    """

    outcome: ToolOutcome
    tool: str = ""
    """Who answered, as people see it, e.g. "demo · calculate"."""
    seconds: float | None = None
    """How long the call took (None when it did not run)."""
    full_chars: int | None = None
    """The output's length when it was cut to fit the size limit (None: sent whole)."""


@dataclass
class Message:
    """One node of the tree. Assistant messages are mutable while they stream."""

    role: Role
    content: str = ""
    id: str = field(default_factory=new_id)
    parent_id: str | None = None
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    model: str | None = None
    thinking: bool = False
    effort: str | None = None
    usage: Usage | None = None
    cost: float | None = None
    currency: str | None = None
    usage_estimated: bool = False
    """`usage`/`cost` include an offline estimate: a request of this reply ended (cancelled,
    dropped) before DeepSeek reported its usage, which it sends only on the finish chunk."""
    last_request_usage: Usage | None = None
    """The usage of the reply's last request when it took several (a continued reply): `usage`
    adds them all up, this one says how big the context was. None: `usage` is that request's."""
    finish_reason: str | None = None
    status: Status = "complete"
    error: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    completed_at: datetime | None = None
    reasoning_seconds: float | None = None
    """How long the model thought ("Thought for N s"); None when it did not think."""
    request_id: str | None = None
    tool_run: ToolRun | None = None
    """Tool messages: how the call went."""
    attachments: tuple[Attachment, ...] = ()
    """Files sent with a user message (conversation/attachments.py); their bytes live beside the
    sessions, named by hash, so copies of the message share them."""

    def add_usage(self, usage: Usage, *, estimated: bool = False) -> None:
        """Add one request's usage (a continued reply is several requests; they add up)."""
        self.last_request_usage = None if self.usage is None else usage
        self.usage = usage if self.usage is None else self.usage + usage
        self.usage_estimated = self.usage_estimated or estimated

    @property
    def context_usage(self) -> Usage | None:
        """The usage of the reply's last request (its prompt is the context that request sent)."""
        return self.last_request_usage or self.usage

    @property
    def is_finished(self) -> bool:
        return self.status != "streaming"


class ConversationError(ValueError):
    """An operation that does not fit the tree (unknown id, wrong role, ...)."""


class Conversation:
    """A message tree with one active branch, plus the settings for the next turn."""

    def __init__(
        self,
        *,
        id: str | None = None,
        settings: ChatSettings | None = None,
        title: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        messages: Iterable[Message] = (),
        active_leaf_id: str | None = None,
        schema_version: int = SCHEMA_VERSION,
    ) -> None:
        self.id: str = id or new_id()
        self.settings: ChatSettings = settings or ChatSettings()
        self.custom_title: str | None = title
        """Set by `rename`; None while the title follows the first user message."""
        self.created_at: datetime = created_at or utc_now()
        self.updated_at: datetime = updated_at or self.created_at
        self.schema_version: int = schema_version
        self._messages: dict[str, Message] = {}
        self._children: dict[str | None, list[str]] = {}
        for message in messages:
            self._insert(message)
        if active_leaf_id is not None and active_leaf_id not in self._messages:
            raise ConversationError(f"active leaf {active_leaf_id!r} is not in the conversation")
        self.active_leaf_id: str | None = active_leaf_id

    # --- reading --------------------------------------------------------------------------

    @property
    def title(self) -> str:
        if self.custom_title:
            return self.custom_title
        for message in self.active_path():
            if message.role == "user" and message.content.strip():
                return _title_from(message.content)
            if message.role == "user" and message.attachments:  # files sent without words
                return _title_from(", ".join(a.short_name for a in message.attachments))
        return UNTITLED

    @property
    def system_prompt(self) -> str:
        return self.settings.system_prompt

    @property
    def messages(self) -> list[Message]:
        """Every message of every branch, in the order they were added."""
        return list(self._messages.values())

    def __len__(self) -> int:
        return len(self._messages)

    def get(self, message_id: str) -> Message:
        try:
            return self._messages[message_id]
        except KeyError:
            raise ConversationError(f"no message {message_id!r}") from None

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._messages

    def children(self, message_id: str | None) -> list[Message]:
        return [self._messages[i] for i in self._children.get(message_id, ())]

    def active_leaf(self) -> Message | None:
        return self._messages[self.active_leaf_id] if self.active_leaf_id else None

    def path_to(self, message_id: str) -> list[Message]:
        """Root ... message (inclusive)."""
        path: list[Message] = []
        current: str | None = message_id
        while current is not None:
            message = self.get(current)
            path.append(message)
            current = message.parent_id
        path.reverse()
        return path

    def active_path(self) -> list[Message]:
        return self.path_to(self.active_leaf_id) if self.active_leaf_id else []

    def siblings(self, message_id: str) -> list[Message]:
        """The message and the other children of its parent, oldest first."""
        return self.children(self.get(message_id).parent_id)

    def sibling_position(self, message_id: str) -> tuple[int, int]:
        """(position, count), position counted from 1, for a "‹ 2/3 ›" display."""
        ids = self._children[self.get(message_id).parent_id]
        return ids.index(message_id) + 1, len(ids)

    def total_usage(self) -> Usage:
        """Tokens of every request made in this conversation, all branches included."""
        total = Usage()
        for message in self._messages.values():
            if message.usage is not None:
                total = total + message.usage
        return total

    def total_cost(self, currency: str | None = None) -> float | None:
        """Money spent on all branches in `currency` (default: the first priced message's).

        None when no message has a cost in that currency.
        """
        total: float | None = None
        for message in self._messages.values():
            if message.cost is None:
                continue
            if currency is None:
                currency = message.currency
            if message.currency == currency:
                total = (total or 0.0) + message.cost
        return total

    def cost_is_estimated(self) -> bool:
        """True when some message's cost is partly an estimate (see `Message.usage_estimated`)."""
        return any(m.usage_estimated and m.cost is not None for m in self._messages.values())

    def cost_currency(self) -> str | None:
        for message in self._messages.values():
            if message.cost is not None:
                return message.currency
        return None

    def last_model(self) -> str:
        """The model of the newest assistant message on the active branch, else the settings'."""
        for message in reversed(self.active_path()):
            if message.role == "assistant" and message.model:
                return message.model
        return self.settings.model

    # --- changing ---------------------------------------------------------------------------

    def add_user(self, text: str, attachments: Iterable[Attachment] = ()) -> Message:
        """A user message as a child of the active leaf; it becomes the active leaf."""
        return self._append(
            Message(role="user", content=text, parent_id=self.active_leaf_id, attachments=tuple(attachments))
        )

    def add_root_user(self, text: str, attachments: Iterable[Attachment] = ()) -> Message:
        """A user message that starts a new branch at the root; it becomes the active leaf."""
        return self._append(Message(role="user", content=text, parent_id=None, attachments=tuple(attachments)))

    def append_copy(self, message: Message) -> Message:
        """A copy of `message` (from another branch) under the active leaf: same words and labels,
        a new id, and no usage or cost, which were spent once, on the original."""
        return self._append(
            replace(
                message,
                id=new_id(),
                parent_id=self.active_leaf_id,
                tool_calls=list(message.tool_calls),
                usage=None,
                cost=None,
                currency=None,
                usage_estimated=False,
                last_request_usage=None,
            )
        )

    def start_assistant(self, model: str, thinking: bool, effort: str | None = None) -> Message:
        """An empty streaming assistant message under the active leaf, filled by the caller."""
        return self._append(
            Message(
                role="assistant",
                parent_id=self.active_leaf_id,
                model=model,
                thinking=thinking,
                effort=effort,
                status="streaming",
            )
        )

    def finish_assistant(
        self,
        message_id: str,
        *,
        status: Status = "complete",
        finish_reason: str | None = None,
        usage: Usage | None = None,
        request_id: str | None = None,
        error: str | None = None,
        completed_at: datetime | None = None,
    ) -> Message:
        """Record how a streamed reply ended (the caller fills content/reasoning/tool_calls)."""
        message = self.get(message_id)
        if message.role != "assistant":
            raise ConversationError("only assistant messages are finished")
        message.status = status
        message.finish_reason = finish_reason if finish_reason is not None else message.finish_reason
        if usage is not None:
            message.add_usage(usage)
        message.request_id = request_id or message.request_id
        message.error = error
        message.completed_at = completed_at or utc_now()
        self.touch()
        return message

    def end_stale_streams(self) -> int:
        """Mark replies saved as "streaming" as partial; returns how many.

        On load nothing streams into them in this process: the process that was streaming died,
        or it is another window still at it (its later saves win, see `merge`).
        """
        stale = [m for m in self._messages.values() if m.status == "streaming"]
        for message in stale:
            message.status = "partial"
            message.error = STALE_STREAM_ERROR
        return len(stale)

    def resume_assistant(self, message_id: str) -> Message:
        """Mark a cut-off reply as streaming again before its continuation is appended."""
        message = self.get(message_id)
        if message.role != "assistant":
            raise ConversationError("only assistant messages are continued")
        message.status = "streaming"
        message.error = None
        return message

    def add_tool_result(self, tool_call_id: str, content: str, run: ToolRun | None = None) -> Message:
        """A tool message answering one tool call of the active branch's last assistant turn."""
        if not any(
            call.id == tool_call_id
            for message in self.active_path()
            if message.role == "assistant"
            for call in message.tool_calls
        ):
            raise ConversationError(f"no tool call {tool_call_id!r} on the active branch")
        return self._append(
            Message(
                role="tool",
                content=content,
                tool_call_id=tool_call_id,
                parent_id=self.active_leaf_id,
                tool_run=run,
            )
        )

    def tool_results(self, message_id: str) -> dict[str, Message]:
        """The tool messages that answer an assistant message's calls, by call id: the run of tool
        messages right after it (on the active branch when it is there, else its newest line)."""
        message = self.get(message_id)
        wanted = {call.id for call in message.tool_calls}
        following = {m.parent_id: m for m in self.active_path()}
        results: dict[str, Message] = {}
        current = message
        while len(results) < len(wanted):
            nxt = following.get(current.id)
            if nxt is None:
                kids = self.children(current.id)
                nxt = kids[-1] if kids else None
            if nxt is None or nxt.role != "tool" or nxt.tool_call_id not in wanted:
                break
            results.setdefault(nxt.tool_call_id or "", nxt)
            current = nxt
        return results

    def exchange(self, message_id: str) -> list[Message]:
        """The assistant messages of the exchange `message_id` ends: the replies since the last
        user message on its branch (one, unless tools were called)."""
        replies: list[Message] = []
        for earlier in reversed(self.path_to(message_id)):
            if earlier.role == "user":
                break
            if earlier.role == "assistant":
                replies.append(earlier)
        return list(reversed(replies))

    def switch_to(self, message_id: str) -> Message:
        """Activate the branch through `message_id`, down to its most recent leaf."""
        current = self.get(message_id)
        while kids := self.children(current.id):
            # newest child; among equal timestamps the one added last
            current = max(enumerate(kids), key=lambda pair: (pair[1].created_at, pair[0]))[1]
        self.active_leaf_id = current.id
        return current

    def edit_user(self, message_id: str, text: str, attachments: Iterable[Attachment] | None = None) -> Message:
        """A new user message beside `message_id` (same parent); it becomes the active leaf.

        It keeps the original's attachments unless others are given (the same files: the copies
        share the stored bytes)."""
        original = self.get(message_id)
        if original.role != "user":
            raise ConversationError("only user messages can be edited")
        kept = original.attachments if attachments is None else tuple(attachments)
        return self._append(Message(role="user", content=text, parent_id=original.parent_id, attachments=kept))

    def prepare_regenerate(self, assistant_id: str) -> Message:
        """Make the answer's parent the active leaf, so `start_assistant` adds a sibling."""
        answer = self.get(assistant_id)
        if answer.role != "assistant" or answer.parent_id is None:
            raise ConversationError("only an assistant reply to something can be regenerated")
        self.active_leaf_id = answer.parent_id
        return self.get(answer.parent_id)

    def adopt(self, message: Message) -> Message:
        """Add a message another process saved (its parent is already here); the active leaf
        stays where it is."""
        self._insert(message)
        return message

    def rename(self, title: str) -> None:
        self.custom_title = title.strip() or None
        self.touch()

    def touch(self) -> None:
        self.updated_at = utc_now()

    def copy(self, *, new_id_: bool = True) -> "Conversation":
        """A deep copy (messages are copied; the copy gets a new id unless told otherwise)."""
        return Conversation(
            id=new_id() if new_id_ else self.id,
            settings=self.settings,
            title=self.custom_title,
            created_at=self.created_at,
            updated_at=self.updated_at,
            messages=[replace(m, tool_calls=list(m.tool_calls)) for m in self._messages.values()],
            active_leaf_id=self.active_leaf_id,
            schema_version=self.schema_version,
        )

    # --- internals --------------------------------------------------------------------------

    def _insert(self, message: Message) -> None:
        if message.id in self._messages:
            raise ConversationError(f"duplicate message id {message.id!r}")
        if message.parent_id is not None and message.parent_id not in self._messages:
            raise ConversationError(f"message {message.id!r} has unknown parent {message.parent_id!r}")
        self._messages[message.id] = message
        self._children.setdefault(message.parent_id, []).append(message.id)

    def _append(self, message: Message) -> Message:
        self._insert(message)
        self.active_leaf_id = message.id
        self.touch()
        return message


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    if len(line) <= TITLE_LENGTH:
        return line
    return line[: TITLE_LENGTH - 1].rstrip() + "…"
