"""Records returned by the non-streaming calls and carried by stream errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .events import Usage


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One complete (or, on an interruption, partial) tool call; `arguments` is the raw JSON text."""

    index: int
    id: str | None
    name: str | None
    arguments: str

    def to_api(self) -> dict[str, Any]:
        """The shape to send back in an assistant message's `tool_calls`."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class ChatResult:
    content: str
    reasoning: str
    tool_calls: list[ToolCall]
    finish_reason: str
    model: str
    usage: Usage | None
    request_id: str | None
    completion_id: str | None


@dataclass(frozen=True, slots=True)
class FimResult:
    text: str
    finish_reason: str
    model: str
    usage: Usage | None
    request_id: str | None
    completion_id: str | None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """An entry of `GET /models`; fields beyond id/owned_by are kept in `extra`."""

    id: str
    owned_by: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "ModelInfo":
        extra = {k: v for k, v in data.items() if k not in ("id", "owned_by", "object")}
        return cls(id=str(data["id"]), owned_by=data.get("owned_by"), extra=extra)


@dataclass(frozen=True, slots=True)
class BalanceInfo:
    currency: str
    total: Decimal
    granted: Decimal
    topped_up: Decimal

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "BalanceInfo":
        return cls(
            currency=str(data.get("currency", "")),
            total=Decimal(str(data.get("total_balance") or "0")),
            granted=Decimal(str(data.get("granted_balance") or "0")),
            topped_up=Decimal(str(data.get("topped_up_balance") or "0")),
        )


@dataclass(frozen=True, slots=True)
class Balance:
    """`GET /user/balance`: `is_available` means the balance suffices for API calls."""

    is_available: bool
    infos: list[BalanceInfo]
