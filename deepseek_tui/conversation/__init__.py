"""The conversation layer: message tree, request building, tokens and money, session files.

No Textual imports here; the UI drives these objects.
"""

from deepseek_tui.conversation.model import (
    Conversation,
    ConversationError,
    Message,
    ToolCall,
)
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
