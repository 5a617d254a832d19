"""Compaction: the earlier turns of a long conversation summarised into one answer on a new branch
(no Textual).

The new branch starts at the root with a request for a summary of the earlier turns, then the
model's summary (its model, tokens and cost recorded like any answer's), then copies of the last
few messages. Later turns build on that branch, so their requests carry the summary instead of
the turns it replaced. Nothing is lost: the old branch stays, one ‹1/2› away on the first message.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.model import Conversation, ConversationError, Message
from deepseek_tui.conversation.request import build_request_for_path
from deepseek_tui.conversation.turn import Turn
from deepseek_tui.model_choice import current_settings

SUMMARY_REQUEST = (
    "Summarise our conversation so far, so that we can go on from your summary alone: the facts, "
    "decisions and conclusions, the open questions, and any code, names or numbers that still "
    "matter, verbatim where they are short. Be complete but concise. Reply with the summary only."
)
"""The user message that opens a compacted branch (it is shown, and sent with later turns)."""

KEEP_MESSAGES = 4
"""The most recent messages copied after the summary, unsummarised (two exchanges)."""


@dataclass
class Compaction:
    """A summary turn under way and what follows it once it is done."""

    turn: Turn
    kept: list[Message]
    """The messages copied after the summary when it completes."""
    previous_leaf_id: str
    """The active leaf before: the branch shown again if the summary does not complete."""


def prepare_compaction(
    conversation: Conversation,
    catalogue: Catalogue,
    settings: ChatSettings | None = None,
    *,
    keep: int = KEEP_MESSAGES,
) -> Compaction:
    """Start a new branch with the summary request and the streaming summary.

    Raises ConversationError when there is too little before the kept messages to summarise.
    """
    path = conversation.active_path()
    leaf = conversation.active_leaf_id
    split = _split_point(path, keep)
    earlier = path[:split]
    if leaf is None or not any(m.role == "assistant" for m in earlier):
        raise ConversationError("There is nothing before the last few messages to compact yet.")
    settings = current_settings(settings or conversation.settings, catalogue).settings
    if conversation.custom_title is None:  # the title would otherwise follow the new first message
        conversation.custom_title = conversation.title
    request_message = conversation.add_root_user(SUMMARY_REQUEST)
    request = build_request_for_path([*earlier, request_message], catalogue, settings)
    thinking = catalogue.get(settings.model).thinks(settings.thinking, settings.reasoning_effort)
    summary = conversation.start_assistant(settings.model, thinking, settings.reasoning_effort if thinking else None)
    turn = Turn(conversation, summary, request, catalogue)
    return Compaction(turn, path[split:], leaf)


def finish_compaction(compaction: Compaction) -> bool:
    """After the summary turn: copy the kept messages under a complete summary (True), or show
    the branch that was active before (False; the unfinished summary stays as a branch)."""
    conversation, summary = compaction.turn.conversation, compaction.turn.message
    if summary.status != "complete" or not summary.content.strip():
        conversation.switch_to(compaction.previous_leaf_id)
        return False
    for message in compaction.kept:
        conversation.append_copy(message)
    return True


def _split_point(path: list[Message], keep: int) -> int:
    """Where the kept messages begin: `keep` from the end, moved back to a user message so the
    new branch goes summary → question → answer, and never splitting a tool call from its result."""
    split = max(len(path) - keep, 0)
    while split > 0 and path[split].role != "user":
        split -= 1
    return split
