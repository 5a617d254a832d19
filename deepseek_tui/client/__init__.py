"""Async DeepSeek API client: streaming chat, FIM, models, balance, typed errors (no Textual)."""

from typing import TYPE_CHECKING, Any

from .assembler import StreamAssembler
from .errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    DeepSeekError,
    EmptyResponse,
    InsufficientBalance,
    InvalidParameters,
    InvalidResponse,
    RateLimited,
    ServerError,
    ServerOverloaded,
    StreamInterrupted,
    UnexpectedStatus,
    UnsupportedModel,
    error_for_status,
    redact,
)
from .events import (
    ContentDelta,
    KeepAlive,
    ReasoningDelta,
    RetryScheduled,
    StreamEnd,
    StreamEvent,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from .policy import RetryPolicy, Timeouts
from .results import Balance, BalanceInfo, ChatResult, FimResult, ModelInfo, ToolCall
from .sse import DONE, KEEP_ALIVE, SSEDecoder, iter_sse

if TYPE_CHECKING:
    from .api import DEFAULT_BASE_URL, USER_AGENT, DeepSeekClient, root_url

_API_NAMES = ("DEFAULT_BASE_URL", "USER_AGENT", "DeepSeekClient", "root_url")


def __getattr__(name: str) -> Any:
    """The HTTP client (and httpx, ~30 ms to import) loads on first use, not at app start."""
    if name in _API_NAMES:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_BASE_URL",
    "USER_AGENT",
    "DeepSeekClient",
    "root_url",
    "StreamAssembler",
    "AuthenticationFailed",
    "BadRequest",
    "ConnectionFailed",
    "DeepSeekError",
    "EmptyResponse",
    "InsufficientBalance",
    "InvalidParameters",
    "InvalidResponse",
    "RateLimited",
    "ServerError",
    "ServerOverloaded",
    "StreamInterrupted",
    "UnexpectedStatus",
    "UnsupportedModel",
    "error_for_status",
    "redact",
    "ContentDelta",
    "KeepAlive",
    "ReasoningDelta",
    "RetryScheduled",
    "StreamEnd",
    "StreamEvent",
    "ToolCallDelta",
    "Usage",
    "UsageReport",
    "RetryPolicy",
    "Timeouts",
    "Balance",
    "BalanceInfo",
    "ChatResult",
    "FimResult",
    "ModelInfo",
    "ToolCall",
    "DONE",
    "KEEP_ALIVE",
    "SSEDecoder",
    "iter_sse",
]
