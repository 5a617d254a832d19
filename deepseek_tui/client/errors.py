"""Typed DeepSeek API errors with the cause and remedy of the docs' error table (reference §5.1).

Every message that goes into an error passes through `redact()`, which removes registered API keys,
`Bearer` tokens and anything shaped like a full `sk-…` key, so no text, repr or log line built from
an error can leak the key. A 401 body's `****abcd` echo stays (it is not the key).
"""

from __future__ import annotations

import json
import re
import threading
from typing import ClassVar

from .events import Usage
from .results import ToolCall

# --- redaction -----------------------------------------------------------------------------

_secrets: dict[str, int] = {}
_secrets_lock = threading.Lock()
_REDACTED = "[REDACTED]"
_BEARER = re.compile(r"(?i)\bbearer\s+\S+")
_KEY_SHAPE = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")


def register_secret(secret: str) -> None:
    """Remember a secret (an API key) so every error message scrubs it."""
    if not secret:
        return
    with _secrets_lock:
        _secrets[secret] = _secrets.get(secret, 0) + 1


def unregister_secret(secret: str) -> None:
    with _secrets_lock:
        count = _secrets.get(secret, 0) - 1
        if count > 0:
            _secrets[secret] = count
        else:
            _secrets.pop(secret, None)


def redact(text: str) -> str:
    """Remove API keys and Authorization values from `text`."""
    if not text:
        return text
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _REDACTED)
    text = _BEARER.sub("Bearer " + _REDACTED, text)
    return _KEY_SHAPE.sub(_REDACTED, text)


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- base ----------------------------------------------------------------------------------


class DeepSeekError(Exception):
    """Any failure talking to the DeepSeek API.

    `message` is the server's own message (JSON `error.message` or the plain-text body), or ours
    when the server said nothing; `cause` and `remedy` explain it for a human.
    """

    title: ClassVar[str] = "DeepSeek API error"
    default_cause: ClassVar[str] = "The DeepSeek API request failed."
    default_remedy: ClassVar[str] = "Try again; if it keeps failing, check https://status.deepseek.com."
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        request_id: str | None = None,
        cause: str | None = None,
        remedy: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.message = redact(_one_line(message or ""))
        self.status = status
        self.request_id = request_id
        self.cause = cause or self.default_cause
        self.remedy = remedy or self.default_remedy
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after: float | None = None
        """Seconds from a `Retry-After` header, if the server sent one."""
        super().__init__(self.message)

    @property
    def summary(self) -> str:
        """One line without the remedy, e.g. `429 Rate Limit Reached: slow down`."""
        head = f"{self.status} {self.title}" if self.status is not None else self.title
        detail = self.message or self.cause
        if detail and detail.rstrip(".") != self.title:
            head = f"{head}: {detail}"
        return head.rstrip(".")

    def __str__(self) -> str:
        return f"{self.summary}. {self.remedy}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


# --- HTTP status errors --------------------------------------------------------------------


class BadRequest(DeepSeekError):
    title = "Invalid Format"
    default_cause = "The request body has an invalid format."
    default_remedy = "Fix the request body as the error message says."


class UnsupportedModel(BadRequest):
    """A 400 that names the model names the API accepts (a retired or unknown model was sent)."""

    title = "Model not available"
    default_remedy = "Choose one of the model names DeepSeek accepts."

    def __init__(
        self,
        message: str = "",
        *,
        passed: str,
        supported: tuple[str, ...],
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.passed = passed
        self.supported = supported
        names = " or ".join(supported)
        super().__init__(
            message,
            cause=f"DeepSeek no longer accepts the model name {passed}.",
            remedy=f"Use {names} (--model, or the model setting).",
            status=status,
            request_id=request_id,
        )


_SUPPORTED_MODELS = re.compile(r"supported API model names are (?P<names>.+?),? but you passed (?P<passed>\S+)")


def _unsupported_model(message: str, status: int, request_id: str | None) -> UnsupportedModel | None:
    """ "The supported API model names are A or B, but you passed C" (reference §12)."""
    found = _SUPPORTED_MODELS.search(message)
    if found is None:
        return None
    names = tuple(n for n in re.split(r",\s*|\s+or\s+|\s+and\s+", found["names"]) if n)
    passed = found["passed"].rstrip(".,;")
    return UnsupportedModel(message, passed=passed, supported=names, status=status, request_id=request_id)


class AuthenticationFailed(DeepSeekError):
    title = "Authentication Fails"
    default_cause = "The API key is wrong."
    default_remedy = "Check your API key, or create a new one at https://platform.deepseek.com/api_keys."


class InsufficientBalance(DeepSeekError):
    title = "Insufficient Balance"
    default_cause = "The account has run out of balance."
    default_remedy = "Top up your account at https://platform.deepseek.com/top_up."


class InvalidParameters(DeepSeekError):
    title = "Invalid Parameters"
    default_cause = "The request contains invalid parameters."
    default_remedy = "Fix the parameters as the error message says."


class RateLimited(DeepSeekError):
    title = "Rate Limit Reached"
    default_cause = "Requests are sent too fast (rate or concurrency limit reached)."
    default_remedy = "Pace your requests and retry after a short wait."
    default_retryable = True


class ServerError(DeepSeekError):
    title = "Server Error"
    default_cause = "The DeepSeek server had an internal problem."
    default_remedy = "Retry after a brief wait; contact DeepSeek if the problem persists."
    default_retryable = True


class ServerOverloaded(DeepSeekError):
    title = "Server Overloaded"
    default_cause = "The DeepSeek server is overloaded by high traffic."
    default_remedy = "Retry after a brief wait."
    default_retryable = True


class UnexpectedStatus(DeepSeekError):
    title = "Unexpected HTTP status"
    default_cause = "The server answered with a status the DeepSeek docs do not describe."
    default_remedy = "Check the base URL and try again later."


STATUS_ERRORS: dict[int, type[DeepSeekError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    402: InsufficientBalance,
    422: InvalidParameters,
    429: RateLimited,
    500: ServerError,
    503: ServerOverloaded,
}


def server_message(body: bytes | str) -> str:
    """The server's message: JSON `error.message` (or `message`), else the plain-text body."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    if not text:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str) and error:
            return error
        if data.get("message"):
            return str(data["message"])
    return text


def error_for_status(status: int, body: bytes | str, *, request_id: str | None = None) -> DeepSeekError:
    """Build the typed error of a non-2xx response."""
    cls = STATUS_ERRORS.get(status)
    message = server_message(body)
    if status == 400 and (unsupported := _unsupported_model(message, status, request_id)) is not None:
        return unsupported
    if cls is not None:
        return cls(message, status=status, request_id=request_id)
    return UnexpectedStatus(
        message,
        status=status,
        request_id=request_id,
        retryable=status in (502, 504),
    )


# --- transport and stream errors -----------------------------------------------------------


class ConnectionFailed(DeepSeekError):
    title = "Connection failed"
    default_cause = "The DeepSeek API could not be reached or the connection broke."
    default_remedy = "Check your network connection and the base URL, then retry."
    default_retryable = True


class EmptyResponse(DeepSeekError):
    title = "Empty response"
    default_cause = "The server answered 200 with only blank lines (it gave up while the request was queued)."
    default_remedy = "Retry after a brief wait."
    default_retryable = True


class InvalidResponse(DeepSeekError):
    title = "Invalid response"
    default_cause = "The server's answer could not be understood."
    default_remedy = "Check the base URL points at a DeepSeek-compatible API."


_INTERRUPTION_CAUSES = {
    "eof": "The connection closed before the answer finished.",
    "idle_timeout": "The server sent nothing for too long.",
    "deadline": "The request took longer than the overall time limit.",
    "stream_error": "The server reported an error in the middle of the answer.",
    "insufficient_system_resource": "DeepSeek ran out of inference resources and cut the answer short.",
    "aborted": "DeepSeek aborted the answer before it finished.",
    "no_finish": "The stream ended without a finish reason.",
}


class StreamInterrupted(DeepSeekError):
    """A streamed answer broke off; what arrived so far is kept on the error."""

    title = "Answer interrupted"
    default_cause = "The streamed answer stopped before it finished."
    default_remedy = "The partial answer was kept; retry or continue it."

    def __init__(
        self,
        reason: str,
        message: str = "",
        *,
        partial_reasoning: str = "",
        partial_content: str = "",
        partial_tool_calls: list[ToolCall] | None = None,
        usage: Usage | None = None,
        model: str | None = None,
        completion_id: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.reason = reason
        self.partial_reasoning = partial_reasoning
        self.partial_content = partial_content
        self.partial_tool_calls = list(partial_tool_calls or [])
        self.usage = usage
        self.model = model
        self.completion_id = completion_id
        has_output = bool(partial_reasoning or partial_content or self.partial_tool_calls)
        remedy = None if has_output else "Retry the request."
        super().__init__(
            message or _INTERRUPTION_CAUSES.get(reason, ""),
            status=status,
            request_id=request_id,
            cause=_INTERRUPTION_CAUSES.get(reason),
            remedy=remedy,
            retryable=not has_output and reason != "stream_error",
        )

    @property
    def has_output(self) -> bool:
        return bool(self.partial_reasoning or self.partial_content or self.partial_tool_calls)

    def __repr__(self) -> str:
        return (
            f"StreamInterrupted(reason={self.reason!r}, message={self.message!r}, "
            f"partial_content={len(self.partial_content)} chars, "
            f"partial_reasoning={len(self.partial_reasoning)} chars)"
        )
