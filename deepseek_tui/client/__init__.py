"""Async DeepSeek API client: streaming chat, FIM, models, balance, typed errors (no Textual).

The names below load with their module on first use: the app imports `client.errors` at start,
not the rest of the package; the HTTP client (and httpx, ~30 ms to import) loads when the first
request is made (issue 16: start-up).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import DEFAULT_BASE_URL, USER_AGENT, DeepSeekClient, root_url
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

_MODULE_OF = {
    "StreamAssembler": "assembler",
    "AuthenticationFailed": "errors",
    "BadRequest": "errors",
    "ConnectionFailed": "errors",
    "DeepSeekError": "errors",
    "EmptyResponse": "errors",
    "InsufficientBalance": "errors",
    "InvalidParameters": "errors",
    "InvalidResponse": "errors",
    "RateLimited": "errors",
    "ServerError": "errors",
    "ServerOverloaded": "errors",
    "StreamInterrupted": "errors",
    "UnexpectedStatus": "errors",
    "UnsupportedModel": "errors",
    "error_for_status": "errors",
    "redact": "errors",
    "ContentDelta": "events",
    "KeepAlive": "events",
    "ReasoningDelta": "events",
    "RetryScheduled": "events",
    "StreamEnd": "events",
    "StreamEvent": "events",
    "ToolCallDelta": "events",
    "Usage": "events",
    "UsageReport": "events",
    "RetryPolicy": "policy",
    "Timeouts": "policy",
    "Balance": "results",
    "BalanceInfo": "results",
    "ChatResult": "results",
    "FimResult": "results",
    "ModelInfo": "results",
    "ToolCall": "results",
    "DONE": "sse",
    "KEEP_ALIVE": "sse",
    "SSEDecoder": "sse",
    "iter_sse": "sse",
    "DEFAULT_BASE_URL": "api",
    "USER_AGENT": "api",
    "DeepSeekClient": "api",
    "root_url": "api",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


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
