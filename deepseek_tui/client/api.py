"""`DeepSeekClient`: the async HTTP client of the DeepSeek API (chat, FIM, models, balance).

Failures surface as the typed errors of `errors.py`. They are always raised outside `except`
blocks, so no httpx exception (whose request carries the Authorization header) ends up in an
error's `__context__`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Mapping
from contextlib import aclosing
from types import TracebackType
from typing import Any, TypeVar

import httpx

from deepseek_tui import __version__

from .assembler import StreamAssembler
from .errors import (
    ConnectionFailed,
    DeepSeekError,
    EmptyResponse,
    InvalidResponse,
    StreamInterrupted,
    error_for_status,
    redact,
    register_secret,
    server_message,
    unregister_secret,
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
from .sse import DONE, SSEDecoder

logger = logging.getLogger(__name__)
T = TypeVar("T")

USER_AGENT = f"deepseek-tui/{__version__}"
DEFAULT_BASE_URL = "https://api.deepseek.com"
REQUEST_ID_HEADER = "x-ds-trace-id"
_OUTPUT_EVENTS = (ReasoningDelta, ContentDelta, ToolCallDelta)
INTERRUPTING_FINISH_REASONS = ("insufficient_system_resource", "aborted")
"""Finish reasons that end an answer early: kept as a partial answer (reference §3, §12)."""


class _ReadPacing:
    """When to pause between stream reads (`Timeouts.read_pause`)."""

    WAITED = 0.002
    """A read that took longer than this (seconds) waited for the network."""
    BATCHED = 100
    """Stream items between two reads that waited from which a stream counts as fast: its reads
    come in batches already, and pausing would only delay it."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self._arrived = 0  # stream items since the last read that waited

    def delay_after(self, read_seconds: float, items: int, *, ended: bool) -> float:
        """Seconds to wait before the next read, given how long this one took and what it gave."""
        delay = 0.0
        if read_seconds > self.WAITED:
            if self._arrived < self.BATCHED and not ended:
                delay = self.pause
            self._arrived = 0
        self._arrived += items
        return delay


def root_url(base_url: str) -> str:
    """The API root: `base_url` without trailing `/`, `/v1` or `/beta`."""
    root = base_url.strip().rstrip("/")
    for suffix in ("/v1", "/beta"):
        if root.endswith(suffix):
            root = root[: -len(suffix)].rstrip("/")
    return root


def _describe_transport_error(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return redact(f"{type(exc).__name__}: {text}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


class DeepSeekClient:
    """One `httpx.AsyncClient` per instance; use `async with` or call `aclose()`."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api_key = api_key
        register_secret(api_key)
        self._root = root_url(base_url)
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        t = self.timeouts
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(connect=t.connect, read=t.idle, write=t.idle, pool=t.connect),
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"DeepSeekClient(base_url={self._root!r})"

    @property
    def base_url(self) -> str:
        return self._root

    async def __aenter__(self) -> "DeepSeekClient":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._http.aclose()
        unregister_secret(self._api_key)

    # --- public calls ------------------------------------------------------------------------

    def stream_chat(self, body: Mapping[str, Any], *, beta: bool = False) -> AsyncGenerator[StreamEvent, None]:
        """Stream a chat completion; see `events.py` for what is yielded.

        Ends with `UsageReport` (when usage arrived) and `StreamEnd`, or raises a `DeepSeekError`
        (`StreamInterrupted` carries the partial answer). Close the iterator (`aclose()`, or cancel
        the consuming task) to drop the HTTP stream at once.
        """
        url = self._url("/beta/chat/completions" if beta else "/chat/completions")
        return self._stream(url, self._streaming_body(body))

    def stream_fim(
        self, model: str, prompt: str, suffix: str | None = None, **params: Any
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream a fill-in-the-middle completion; text arrives as `ContentDelta`."""
        body = {"model": model, "prompt": prompt, "suffix": suffix, **params}
        return self._stream(self._url("/beta/completions"), self._streaming_body(body))

    async def chat(self, body: Mapping[str, Any], *, beta: bool = False) -> ChatResult:
        url = self._url("/beta/chat/completions" if beta else "/chat/completions")
        payload = {**body, "stream": False}
        payload.pop("stream_options", None)
        data, request_id = await self._json_request("POST", url, payload)
        choice = self._first_choice(data, request_id)
        message = choice.get("message") or {}
        tool_calls = [
            ToolCall(
                index=call.get("index", position),
                id=call.get("id"),
                name=(call.get("function") or {}).get("name"),
                arguments=(call.get("function") or {}).get("arguments") or "",
            )
            for position, call in enumerate(message.get("tool_calls") or ())
        ]
        usage = Usage.from_api(data["usage"]) if data.get("usage") else None
        finish_reason = choice.get("finish_reason") or ""
        content = message.get("content") or ""
        reasoning = message.get("reasoning_content") or ""
        if finish_reason in INTERRUPTING_FINISH_REASONS:
            raise StreamInterrupted(
                finish_reason,
                partial_reasoning=reasoning,
                partial_content=content,
                partial_tool_calls=tool_calls,
                usage=usage,
                model=data.get("model"),
                completion_id=data.get("id"),
                request_id=request_id,
            )
        return ChatResult(
            content=content,
            reasoning=reasoning,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            model=data.get("model") or str(body.get("model", "")),
            usage=usage,
            request_id=request_id,
            completion_id=data.get("id"),
        )

    async def fim(self, model: str, prompt: str, suffix: str | None = None, **params: Any) -> FimResult:
        """Fill-in-the-middle completion (`POST /beta/completions`)."""
        body = {"model": model, "prompt": prompt, "suffix": suffix, **params, "stream": False}
        data, request_id = await self._json_request("POST", self._url("/beta/completions"), body)
        choice = self._first_choice(data, request_id)
        return FimResult(
            text=choice.get("text") or "",
            finish_reason=choice.get("finish_reason") or "",
            model=data.get("model") or model,
            usage=Usage.from_api(data["usage"]) if data.get("usage") else None,
            request_id=request_id,
            completion_id=data.get("id"),
        )

    async def list_models(self) -> list[ModelInfo]:
        data, request_id = await self._json_request("GET", self._url("/models"))
        entries = data.get("data")
        if not isinstance(entries, list):
            raise InvalidResponse("GET /models returned no model list", request_id=request_id)
        return [ModelInfo.from_api(entry) for entry in entries if isinstance(entry, dict) and "id" in entry]

    async def balance(self) -> Balance:
        data, request_id = await self._json_request("GET", self._url("/user/balance"))
        infos = data.get("balance_infos")
        if not isinstance(infos, list):
            raise InvalidResponse("GET /user/balance returned no balance_infos", request_id=request_id)
        return Balance(
            is_available=bool(data.get("is_available")),
            infos=[BalanceInfo.from_api(info) for info in infos if isinstance(info, dict)],
        )

    # --- plumbing ----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self._root + path

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}

    @staticmethod
    def _streaming_body(body: Mapping[str, Any]) -> dict[str, Any]:
        payload = dict(body)
        payload["stream"] = True
        payload["stream_options"] = {**(payload.get("stream_options") or {}), "include_usage": True}
        return payload

    @staticmethod
    def _first_choice(data: Mapping[str, Any], request_id: str | None) -> Mapping[str, Any]:
        choices = data.get("choices")
        if not choices or not isinstance(choices[0], dict):
            raise InvalidResponse("the response has no choices", request_id=request_id)
        return choices[0]

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.timeouts.deadline

    async def _open(self, method: str, url: str, body: Any, deadline: float) -> httpx.Response:
        """Send a request and return the response with its headers read (body still streaming)."""
        request = self._http.build_request(method, url, json=body, headers=self._headers())
        logger.debug("%s %s", method, url)
        return await self._before_deadline(
            self._http.send(request, stream=True),
            deadline,
            late="no response",
            waiting="waiting for the server",
        )

    async def _read_all(self, response: httpx.Response, deadline: float) -> bytes:
        return await self._before_deadline(
            response.aread(), deadline, late="no complete response", waiting="reading the response"
        )

    async def _before_deadline(self, awaitable: Awaitable[T], deadline: float, *, late: str, waiting: str) -> T:
        """Await an httpx call within the overall deadline; transport failures become ConnectionFailed.

        The error is raised outside the `except` blocks so that no exception chain (which could
        carry request headers) is attached to it.
        """
        failure: DeepSeekError | None = None
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(remaining, 0.0)):
                return await awaitable
        except TimeoutError:
            failure = ConnectionFailed(f"{late} within the {self.timeouts.deadline:g} s deadline")
        except httpx.TimeoutException as exc:
            failure = ConnectionFailed(f"timed out {waiting} ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            failure = ConnectionFailed(_describe_transport_error(exc))
        raise failure

    async def _status_error(self, response: httpx.Response, deadline: float) -> DeepSeekError:
        request_id = response.headers.get(REQUEST_ID_HEADER)
        try:
            body = await self._read_all(response, deadline)
        except ConnectionFailed:
            body = b""
        error = error_for_status(response.status_code, body, request_id=request_id)
        error.retry_after = _retry_after(response)
        logger.info("DeepSeek API %s %s (request id %s)", response.status_code, error.title, request_id)
        return error

    async def _json_request(self, method: str, url: str, body: Any = None) -> tuple[dict[str, Any], str | None]:
        """One JSON request with retries; returns the decoded object and the request id."""
        deadline = self._deadline()
        attempt = 1
        while True:
            failure: DeepSeekError | None = None
            result: tuple[dict[str, Any], str | None] | None = None
            try:
                result = await self._json_attempt(method, url, body, deadline)
            except DeepSeekError as exc:
                failure = exc
            if failure is None and result is not None:
                return result
            assert failure is not None
            delay = self._retry_delay(failure, attempt, deadline, output_started=False)
            if delay is None:
                raise failure
            logger.info("Retrying %s %s in %.2f s: %s", method, url, delay, failure.summary)
            await asyncio.sleep(delay)
            attempt += 1

    async def _json_attempt(
        self, method: str, url: str, body: Any, deadline: float
    ) -> tuple[dict[str, Any], str | None]:
        response = await self._open(method, url, body, deadline)
        try:
            request_id = response.headers.get(REQUEST_ID_HEADER)
            if not response.is_success:
                raise await self._status_error(response, deadline)
            raw = (await self._read_all(response, deadline)).lstrip()
        finally:
            await response.aclose()
        if not raw:
            raise EmptyResponse("the server sent only blank lines", status=200, request_id=request_id)
        failure: DeepSeekError | None = None
        data: Any = None
        try:
            data = json.loads(raw)
        except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8
            detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
            failure = InvalidResponse(
                f"the body is not JSON ({detail})", status=response.status_code, request_id=request_id
            )
        if failure is not None:
            raise failure
        if not isinstance(data, dict):
            raise InvalidResponse("the body is not a JSON object", status=response.status_code, request_id=request_id)
        if data.get("error"):
            raise InvalidResponse(server_message(raw), status=response.status_code, request_id=request_id)
        return data, request_id

    def _retry_delay(
        self, failure: DeepSeekError, attempt: int, deadline: float, *, output_started: bool
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when `failure` must be raised."""
        if output_started or not failure.retryable or attempt >= self.retry.max_attempts:
            return None
        delay = self.retry.delay(attempt, failure.retry_after)
        if asyncio.get_running_loop().time() + delay >= deadline:
            return None
        return delay

    async def _stream(self, url: str, body: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        deadline = self._deadline()
        attempt = 1
        while True:
            failure: DeepSeekError | None = None
            output_started = False
            async with aclosing(self._stream_attempt(url, body, deadline)) as events:
                try:
                    async for event in events:
                        if isinstance(event, _OUTPUT_EVENTS):
                            output_started = True
                        yield event
                except DeepSeekError as exc:
                    failure = exc
            if failure is None:
                return
            delay = self._retry_delay(failure, attempt, deadline, output_started=output_started)
            if delay is None:
                raise failure
            logger.info("Retrying %s in %.2f s: %s", url, delay, failure.summary)
            yield RetryScheduled(attempt=attempt, delay=delay, reason=failure.summary)
            await asyncio.sleep(delay)
            attempt += 1

    async def _stream_attempt(
        self, url: str, body: dict[str, Any], deadline: float
    ) -> AsyncGenerator[StreamEvent, None]:
        loop = asyncio.get_running_loop()
        response = await self._open("POST", url, body, deadline)
        try:
            request_id = response.headers.get(REQUEST_ID_HEADER)
            if not response.is_success:
                raise await self._status_error(response, deadline)
            assembler = StreamAssembler(fallback_model=str(body.get("model", "")))
            decoder = SSEDecoder()
            chunks = response.aiter_bytes()
            idle = self.timeouts.idle
            pacing = _ReadPacing(self.timeouts.read_pause)
            saw_data = False
            saw_done = False
            while not saw_done:
                remaining = deadline - loop.time()
                reason: str | None = None
                detail = ""
                chunk: bytes | None = b""
                asked, read_seconds = loop.time(), 0.0
                try:
                    async with asyncio.timeout(max(min(idle, remaining), 0.0)):
                        chunk = await anext(chunks)
                    read_seconds = loop.time() - asked
                except StopAsyncIteration:
                    chunk = None  # end of the body: the decoder gives what it still holds
                except TimeoutError:
                    reason = "idle_timeout" if idle <= remaining else "deadline"
                    detail = (
                        f"no data for {idle:g} s"
                        if reason == "idle_timeout"
                        else f"the {self.timeouts.deadline:g} s deadline passed"
                    )
                except httpx.TimeoutException:
                    reason, detail = "idle_timeout", f"no data for {idle:g} s"
                except httpx.HTTPError as exc:
                    reason, detail = "eof", _describe_transport_error(exc)
                if reason is not None:
                    raise assembler.interrupted(reason, detail, request_id=request_id)
                items = decoder.close() if chunk is None else decoder.feed(chunk)
                for item in items:
                    if isinstance(item, KeepAlive):
                        yield item
                        continue
                    saw_data = True
                    if item.startswith(DONE):
                        saw_done = True
                        break
                    for event in self._decode_chunk(item, assembler, request_id):
                        yield event
                if chunk is None:
                    break
                ended = saw_done or assembler.finish_reason is not None
                if delay := pacing.delay_after(read_seconds, len(items), ended=ended):
                    await asyncio.sleep(delay)
        finally:
            await response.aclose()

        if not saw_data:
            raise EmptyResponse("the stream carried no data", status=200, request_id=request_id)
        if assembler.finish_reason is None:
            raise assembler.interrupted(
                "eof" if not saw_done else "no_finish",
                "the stream ended before the answer finished" if not saw_done else "",
                request_id=request_id,
            )
        if not saw_done:
            raise assembler.interrupted("eof", "the stream ended without [DONE]", request_id=request_id)
        if assembler.finish_reason in INTERRUPTING_FINISH_REASONS:
            raise assembler.interrupted(assembler.finish_reason, request_id=request_id)
        if assembler.usage is not None:
            yield UsageReport(assembler.usage)
        yield StreamEnd(
            finish_reason=assembler.finish_reason,
            model=assembler.model,
            request_id=request_id,
            completion_id=assembler.completion_id,
            usage=assembler.usage,
        )

    @staticmethod
    def _decode_chunk(item: str, assembler: StreamAssembler, request_id: str | None) -> list[StreamEvent]:
        failure: DeepSeekError | None = None
        data: Any = None
        try:
            data = json.loads(item)
        except ValueError:
            failure = assembler.interrupted(
                "stream_error", f"undecodable stream chunk: {item[:80]!r}", request_id=request_id
            )
        if failure is not None:
            raise failure
        if not isinstance(data, dict):
            raise assembler.interrupted("stream_error", "stream chunk is not an object", request_id=request_id)
        if data.get("error"):
            raise assembler.interrupted("stream_error", server_message(item), request_id=request_id)
        return assembler.feed(data)
