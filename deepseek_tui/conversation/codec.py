"""Conversations to and from session file bytes, JSON or TOML, with an exact round trip.

Both formats carry the same document (schema below), so a session loads the same whichever format
it was written in. Two things neither format can hold as-is are encoded reversibly:
- None: TOML has no null, so keys whose value is None are left out (in JSON too); a missing
  optional key reads back as None.
- Strings with lone surrogates (possible in Python strings, not in UTF-8 text): stored as a table
  `{"$utf32" = "<hex of the UTF-32-BE code points>"}` (UTF-32 so that a surrogate
  pair that is really two separate code points does not merge into one character). Control characters need nothing special:
  both writers escape them.

Everything read is validated; a bad document raises `CodecError` with a reason for the user.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import tomli_w

from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.attachments import MEDIA_TYPES, Attachment
from deepseek_tui.conversation.model import (
    ROLES,
    SCHEMA_VERSION,
    STATUSES,
    TOOL_OUTCOMES,
    Conversation,
    ConversationError,
    Message,
    ToolCall,
    ToolRun,
)
from deepseek_tui.usage import Usage

Format = Literal["json", "toml"]
FORMATS: tuple[str, ...] = ("json", "toml")
DOCUMENT_KIND = "deepseek-tui-session"
SURROGATE_TAG = "$utf32"
_SURROGATE = re.compile("[\ud800-\udfff]")
ATTACHMENTS_SCHEMA_VERSION = 2
"""Documents with attachments say schema 2: a reader of schema 1 would drop them silently when it
saved the session again; it refuses a newer schema instead. Documents without stay schema 1."""
READABLE_SCHEMA = max(SCHEMA_VERSION, ATTACHMENTS_SCHEMA_VERSION)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_COUNT = 2**63 - 1
"""Token counts above this are not counts (and would overflow when shown as floats)."""
_USAGE_FIELDS = (
    "prompt_tokens",
    "completion_tokens",
    "cache_hit_tokens",
    "cache_miss_tokens",
    "reasoning_tokens",
)


class CodecError(ValueError):
    """A session document that cannot be read; the message says why."""


# --- writing ------------------------------------------------------------------------------------


def encode(conversation: Conversation, fmt: Format, *, embed_attachments: bool = False) -> bytes:
    """The session file's bytes; `embed_attachments` puts each attachment's bytes in the document
    (base64, for a JSON export that imports without the store), else only its hash is named."""
    document = _document(conversation, embed_attachments)
    try:
        return _serialize(document, fmt).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates somewhere: tag those strings and retry
        return _serialize(_portable(document), fmt).encode("utf-8")


def _serialize(document: dict[str, Any], fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False)
    if fmt == "toml":
        return tomli_w.dumps(document)
    raise ValueError(f"unknown session format {fmt!r}")


def to_document(conversation: Conversation) -> dict[str, Any]:
    """The plain document (str/int/float/bool/list/dict, no None) for a conversation."""
    document: dict[str, Any] = _portable(_document(conversation))
    return document


def _document(conversation: Conversation, embed_attachments: bool = False) -> dict[str, Any]:
    """The document with None values left out; strings are not checked for surrogates yet."""
    has_attachments = any(m.attachments for m in conversation.messages)
    return _without_none(
        {
            "kind": DOCUMENT_KIND,
            "schema_version": ATTACHMENTS_SCHEMA_VERSION if has_attachments else SCHEMA_VERSION,
            "id": conversation.id,
            "title": conversation.custom_title,
            "created_at": _time(conversation.created_at),
            "updated_at": _time(conversation.updated_at),
            "active_leaf_id": conversation.active_leaf_id,
            "settings": conversation.settings.to_dict(),
            "messages": [_message_document(m, embed_attachments) for m in conversation.messages],
        }
    )


def _without_none(table: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in table.items() if v is not None}


def _message_document(message: Message, embed_attachments: bool = False) -> dict[str, Any]:
    return _without_none(
        {
            "id": message.id,
            "parent_id": message.parent_id,
            "role": message.role,
            "status": message.status,
            "content": message.content,
            "reasoning": message.reasoning or None,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls] or None,
            "tool_call_id": message.tool_call_id,
            "model": message.model,
            "thinking": message.thinking,
            "effort": message.effort,
            "usage": _usage_document(message.usage) if message.usage else None,
            "cost": message.cost,
            "currency": message.currency,
            "usage_estimated": message.usage_estimated or None,
            "last_request_usage": _usage_document(message.last_request_usage) if message.last_request_usage else None,
            "finish_reason": message.finish_reason,
            "error": message.error,
            "created_at": _time(message.created_at),
            "completed_at": _time(message.completed_at) if message.completed_at else None,
            "reasoning_seconds": message.reasoning_seconds,
            "request_id": message.request_id,
            "tool_run": _tool_run_document(message.tool_run) if message.tool_run else None,
            "attachments": [_attachment_document(a, embed_attachments) for a in message.attachments] or None,
        }
    )


def _attachment_document(attachment: Attachment, embed: bool) -> dict[str, Any]:
    data = attachment.data if embed else None
    return _without_none(
        {
            "name": attachment.name,
            "sha256": attachment.sha256,
            "size": attachment.size,
            "media_type": attachment.media_type,
            "data": base64.b64encode(data).decode("ascii") if data is not None else None,
        }
    )


def _tool_run_document(run: ToolRun) -> dict[str, Any]:
    return _without_none(
        {"outcome": run.outcome, "tool": run.tool or None, "seconds": run.seconds, "full_chars": run.full_chars}
    )


def _usage_document(usage: Usage) -> dict[str, int]:
    return {f: getattr(usage, f) for f in _USAGE_FIELDS}


def _portable(value: Any) -> Any:
    """Drop None values from tables and tag strings that carry lone surrogates."""
    if isinstance(value, str):
        if value.isascii() or not _SURROGATE.search(value):
            return value
        return {SURROGATE_TAG: value.encode("utf-32-be", "surrogatepass").hex()}
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_portable(v) for v in value]
    return value


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# --- reading ------------------------------------------------------------------------------------


def decode(data: bytes, fmt: Format) -> Conversation:
    """Bytes to a conversation; whatever goes wrong (the file may be hostile) is a `CodecError`."""
    return conversation_of(parse(data, fmt))


def conversation_of(document: dict[str, Any]) -> Conversation:
    """`from_document` for a document from a file: whatever goes wrong is a `CodecError`."""
    try:
        return from_document(document)
    except CodecError:
        raise
    except RecursionError:
        raise CodecError("nested too deeply") from None
    except Exception as exc:  # a document shape no check above foresaw: still only a message
        raise CodecError(f"cannot be read ({type(exc).__name__}: {str(exc)[:120]})") from None


def parse(data: bytes, fmt: Format) -> dict[str, Any]:
    """Bytes to a document; any parser failure becomes a `CodecError`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        if fmt == "json":
            document = json.loads(text)
        elif fmt == "toml":
            document = tomllib.loads(text)
        else:
            raise CodecError(f"unknown session format {fmt!r}")
    except RecursionError:
        raise CodecError("nested too deeply") from None
    except MemoryError:
        raise CodecError("too large to parse") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CodecError(f"not valid {fmt.upper()}: {exc}") from None
    except ValueError as exc:  # e.g. an integer over sys.get_int_max_str_digits() digits
        if "integer string conversion" in str(exc):
            raise CodecError(f"a number in it is too long ({sys.get_int_max_str_digits():,} digits at most)") from None
        raise CodecError(f"not valid {fmt.upper()}: {exc}") from None
    if not isinstance(document, dict):
        raise CodecError(f"expected a table at the top, found {type(document).__name__}")
    return document


def from_document(document: Mapping[str, Any]) -> Conversation:
    if document.get("kind") != DOCUMENT_KIND:
        raise CodecError("not a deepseek-tui session")
    version = document.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise CodecError("schema_version is missing")
    if version > READABLE_SCHEMA:
        raise CodecError(f"written by a newer deepseek-tui (schema {version} > {READABLE_SCHEMA})")
    if version < 1:
        raise CodecError(f"unknown schema version {version}")
    read = _Reader(document, "")
    raw_messages = document.get("messages", [])
    if not isinstance(raw_messages, list):
        raise CodecError("messages: expected a list")
    settings_table = document.get("settings", {})
    if not isinstance(settings_table, dict):
        raise CodecError("settings: expected a table")
    try:
        settings = ChatSettings.from_dict({k: unwrap(v, f"settings.{k}") for k, v in settings_table.items()})
    except (TypeError, ValueError) as exc:
        raise CodecError(f"settings: {exc}") from None
    messages = [_message(m, f"messages[{i}]") for i, m in enumerate(raw_messages)]
    try:
        return Conversation(
            id=read.text("id"),
            settings=settings,
            title=read.optional_text("title"),
            created_at=read.moment("created_at"),
            updated_at=read.moment("updated_at"),
            messages=messages,
            active_leaf_id=read.optional_text("active_leaf_id"),
            schema_version=version,
        )
    except ConversationError as exc:
        raise CodecError(str(exc)) from None


def _message(table: Any, where: str) -> Message:
    if not isinstance(table, dict):
        raise CodecError(f"{where}: expected a table")
    read = _Reader(table, where + ".")
    role = read.choice("role", ROLES)
    status = read.choice("status", STATUSES)
    calls = table.get("tool_calls", [])
    if not isinstance(calls, list):
        raise CodecError(f"{where}.tool_calls: expected a list")
    tool_calls = []
    for i, call in enumerate(calls):
        if not isinstance(call, dict):
            raise CodecError(f"{where}.tool_calls[{i}]: expected a table")
        call_read = _Reader(call, f"{where}.tool_calls[{i}].")
        tool_calls.append(ToolCall(call_read.text("id"), call_read.text("name"), call_read.text("arguments", "")))
    usage = _read_usage(table, "usage", where)
    last_request_usage = _read_usage(table, "last_request_usage", where)
    raw_attachments = table.get("attachments", [])
    if not isinstance(raw_attachments, list):
        raise CodecError(f"{where}.attachments: expected a list")
    attachments = tuple(_attachment(a, f"{where}.attachments[{i}]") for i, a in enumerate(raw_attachments))
    return Message(
        id=read.text("id"),
        parent_id=read.optional_text("parent_id"),
        role=role,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        content=read.text("content", ""),
        reasoning=read.text("reasoning", ""),
        tool_calls=tool_calls,
        tool_call_id=read.optional_text("tool_call_id"),
        model=read.optional_text("model"),
        thinking=read.flag("thinking"),
        effort=read.optional_text("effort"),
        usage=usage,
        cost=read.optional_number("cost"),
        currency=read.optional_text("currency"),
        usage_estimated=read.flag("usage_estimated"),
        last_request_usage=last_request_usage,
        finish_reason=read.optional_text("finish_reason"),
        error=read.optional_text("error"),
        created_at=read.moment("created_at"),
        completed_at=read.optional_moment("completed_at"),
        reasoning_seconds=read.optional_number("reasoning_seconds"),
        request_id=read.optional_text("request_id"),
        tool_run=_read_tool_run(table, where),
        attachments=attachments,
    )


def _read_tool_run(table: dict[str, Any], where: str) -> ToolRun | None:
    if "tool_run" not in table:
        return None
    run_table = table["tool_run"]
    if not isinstance(run_table, dict):
        raise CodecError(f"{where}.tool_run: expected a table")
    read = _Reader(run_table, f"{where}.tool_run.")
    full_chars = read.integer("full_chars") if "full_chars" in run_table else None
    return ToolRun(
        outcome=read.choice("outcome", TOOL_OUTCOMES),  # type: ignore[arg-type]
        tool=read.text("tool", ""),
        seconds=read.optional_number("seconds"),
        full_chars=full_chars,
    )


def _attachment(table: Any, where: str) -> Attachment:
    """An attachment reference; with `data` (a JSON export) its bytes too, checked against the hash."""
    if not isinstance(table, dict):
        raise CodecError(f"{where}: expected a table")
    read = _Reader(table, where + ".")
    sha256 = read.text("sha256")
    if not _SHA256.match(sha256):
        raise CodecError(f"{where}.sha256: not a SHA-256 hash")
    size = read.integer("size")
    attachment = Attachment(read.text("name"), sha256, size, read.choice("media_type", MEDIA_TYPES))
    encoded = read.optional_text("data")
    if encoded is None:
        return attachment
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CodecError(f"{where}.data: not base64") from None
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise CodecError(f"{where}.data: the bytes do not match the attachment's sha256 and size")
    return attachment.with_data(data)


def _read_usage(table: dict[str, Any], key: str, where: str) -> Usage | None:
    if key not in table:
        return None
    usage_table = table[key]
    if not isinstance(usage_table, dict):
        raise CodecError(f"{where}.{key}: expected a table")
    usage_read = _Reader(usage_table, f"{where}.{key}.")
    return Usage(**{f: usage_read.integer(f) for f in _USAGE_FIELDS})


def unwrap(value: Any, where: str = "value") -> Any:
    """Undo `_portable`'s string tagging for one value."""
    if isinstance(value, dict) and set(value) == {SURROGATE_TAG}:
        code = value[SURROGATE_TAG]
        try:
            return bytes.fromhex(code).decode("utf-32-be", "surrogatepass")
        except (TypeError, ValueError):
            raise CodecError(f"{where}: bad {SURROGATE_TAG} string") from None
    return value


_REQUIRED = object()


class _Reader:
    """Typed access to one table, with the path in error messages."""

    def __init__(self, table: Mapping[str, Any], prefix: str) -> None:
        self.table = table
        self.prefix = prefix

    def _get(self, key: str, check: Callable[[Any], bool], kind: str, default: Any) -> Any:
        if key not in self.table:
            if default is _REQUIRED:
                raise CodecError(f"{self.prefix}{key} is missing")
            return default
        value = unwrap(self.table[key], self.prefix + key)
        if not check(value):
            raise CodecError(f"{self.prefix}{key}: expected {kind}, found {type(value).__name__}")
        return value

    def text(self, key: str, default: Any = _REQUIRED) -> str:
        """A string; required unless a default is given."""
        value: str = self._get(key, _is_str, "a string", default)
        return value

    def optional_text(self, key: str) -> str | None:
        value: str | None = self._get(key, _is_str, "a string", None)
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.text(key)
        if value not in allowed:
            raise CodecError(f"{self.prefix}{key}: {value!r} is not one of {', '.join(allowed)}")
        return value

    def flag(self, key: str) -> bool:
        value: bool = self._get(key, lambda v: isinstance(v, bool), "true or false", False)
        return value

    def integer(self, key: str) -> int:
        value: int = self._get(key, _is_int, "an integer", 0)
        if value < 0:
            raise CodecError(f"{self.prefix}{key}: negative")
        if value > MAX_COUNT:
            raise CodecError(f"{self.prefix}{key}: too large")
        return value

    def optional_number(self, key: str) -> float | None:
        value = self._get(key, _is_number, "a number", None)
        if value is None:
            return None
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise CodecError(f"{self.prefix}{key}: not a finite number")
        return number

    def moment(self, key: str) -> datetime:
        value = self._get(key, lambda v: isinstance(v, (str, datetime)), "a date-time", _REQUIRED)
        return self._as_utc(key, value)

    def optional_moment(self, key: str) -> datetime | None:
        value = self._get(key, lambda v: isinstance(v, (str, datetime)), "a date-time", None)
        return None if value is None else self._as_utc(key, value)

    def _as_utc(self, key: str, value: str | datetime) -> datetime:
        if isinstance(value, str):
            text = value
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise CodecError(f"{self.prefix}{key}: not a date-time: {text[:40]!r}") from None
        if value.tzinfo is None:
            raise CodecError(f"{self.prefix}{key}: date-time without a time zone")
        return value.astimezone(UTC)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
