"""Merging a conversation in memory with the same conversation as another process saved it.

Two windows on one data directory (or `ask --continue` while the app runs) both add turns to one
session. A message is never changed into another one (edits and regenerations add siblings), so
the two trees merge by message id without conflicts:

- a message only on disk was saved by the other process: it is kept, and added to the conversation
  in memory (a copy; one that was still streaming there is marked partial, as `load` would);
- a message on both sides is written in the version that is further along: finished later, else
  longer (a reply only grows while it streams and gets a new `completed_at` when it ends); on a
  tie the version in memory, unless only the other one is streaming (see `_further_along`);
- the conversation's settings and active leaf are the memory's (each window keeps its own view);
  a title set elsewhere is taken when this window has none.

The only loss possible is two windows continuing the same cut-off answer at once: the longer
continuation wins.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from deepseek_tui.conversation.model import STALE_STREAM_ERROR, Conversation, Message

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class MergeResult:
    conversation: Conversation
    """What to write: every message of both sides."""
    added: list[str]
    """Ids of the messages taken from disk into the conversation in memory."""
    memory_holds_all: bool
    """True when the conversation in memory is exactly what is written (it then holds all of
    the file); False when a disk version of some message was newer than memory's."""


def merge_saved(memory: Conversation, disk: Conversation) -> MergeResult:
    """Merge `disk` into `memory` (in place: new messages, a title) and return what to write."""
    added = []
    for message in disk.messages:
        if message.id not in memory:
            memory.adopt(_as_seen_here(message))
            added.append(message.id)
    if memory.custom_title is None and disk.custom_title is not None:
        memory.custom_title = disk.custom_title
    memory.created_at = min(memory.created_at, disk.created_at)
    memory.updated_at = max(memory.updated_at, disk.updated_at)

    written: list[Message] = []
    newer_on_disk = False
    for message in memory.messages:
        theirs = disk.get(message.id) if message.id in disk else None
        if theirs is not None and _further_along(theirs, message):
            written.append(theirs)
            newer_on_disk = True
        else:
            written.append(message)
    if not newer_on_disk:
        return MergeResult(memory, added, memory_holds_all=True)
    merged = Conversation(
        id=memory.id,
        settings=memory.settings,
        title=memory.custom_title,
        created_at=memory.created_at,
        updated_at=memory.updated_at,
        messages=written,
        active_leaf_id=memory.active_leaf_id,
        schema_version=memory.schema_version,
    )
    return MergeResult(merged, added, memory_holds_all=False)


def _further_along(theirs: Message, ours: Message) -> bool:
    """True when the other process's version of a message should be written instead of ours.

    On a tie a version that is streaming there wins over ours that is not: the other process is
    writing it (ours is the copy `load` or `_as_seen_here` marked partial), or it has just begun
    to continue it.
    """
    if _progress(theirs) != _progress(ours):
        return _progress(theirs) > _progress(ours)
    return theirs.status == "streaming" and ours.status != "streaming"


def _progress(message: Message) -> tuple[datetime, int]:
    size = (
        len(message.content) + len(message.reasoning) + sum(len(c.arguments) + len(c.name) for c in message.tool_calls)
    )
    return message.completed_at or _NEVER, size


def _as_seen_here(message: Message) -> Message:
    """A copy for this process; a reply the other process is streaming is not streaming here."""
    copy = replace(message, tool_calls=list(message.tool_calls))
    if copy.status == "streaming":
        copy.status, copy.error = "partial", STALE_STREAM_ERROR
    return copy


__all__ = ["MergeResult", "merge_saved"]
