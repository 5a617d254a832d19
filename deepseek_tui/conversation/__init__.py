"""The conversation layer: message tree, request building, tokens and money, session files.

No Textual imports here; the UI drives these objects.

The names below load with their module on first use: importing one module of the package
(the app starts with `conversation.model` and `conversation.store`) does not import the others
(issue 16: start-up).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deepseek_tui.conversation.model import Conversation, ConversationError, Message, ToolCall
    from deepseek_tui.conversation.pricing import Cost, cost_of, price_message
    from deepseek_tui.conversation.request import (
        ChatRequest,
        adjusted_settings,
        build_chat_request,
        build_continue_request,
        inert_settings,
    )
    from deepseek_tui.conversation.store import (
        SearchHit,
        SessionNotFoundError,
        SessionStore,
        SessionSummary,
        SessionUnreadableError,
        StoreError,
        UnreadableSession,
        default_sessions_dir,
    )
    from deepseek_tui.conversation.throttle import SaveThrottle
    from deepseek_tui.conversation.tokens import estimate_request_tokens, estimate_tokens

_MODULE_OF = {
    "Conversation": "model",
    "ConversationError": "model",
    "Message": "model",
    "ToolCall": "model",
    "Cost": "pricing",
    "cost_of": "pricing",
    "price_message": "pricing",
    "ChatRequest": "request",
    "adjusted_settings": "request",
    "build_chat_request": "request",
    "build_continue_request": "request",
    "inert_settings": "request",
    "SearchHit": "store",
    "SessionNotFoundError": "store",
    "SessionStore": "store",
    "SessionSummary": "store",
    "SessionUnreadableError": "store",
    "StoreError": "store",
    "UnreadableSession": "store",
    "default_sessions_dir": "store",
    "SaveThrottle": "throttle",
    "estimate_request_tokens": "tokens",
    "estimate_tokens": "tokens",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = [
    "ChatRequest",
    "adjusted_settings",
    "Conversation",
    "ConversationError",
    "Cost",
    "Message",
    "SaveThrottle",
    "SearchHit",
    "SessionNotFoundError",
    "SessionStore",
    "SessionSummary",
    "SessionUnreadableError",
    "StoreError",
    "ToolCall",
    "UnreadableSession",
    "build_chat_request",
    "build_continue_request",
    "cost_of",
    "default_sessions_dir",
    "estimate_request_tokens",
    "estimate_tokens",
    "inert_settings",
    "price_message",
]
