"""DeepSeekClient failure handling against the simulator: typed errors, retries, timeouts,
interruptions, cancellation and key redaction."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from contextlib import aclosing
from typing import Any

import pytest

from deepseek_tui.client import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    ContentDelta,
    DeepSeekClient,
    DeepSeekError,
    EmptyResponse,
    InsufficientBalance,
    InvalidParameters,
    KeepAlive,
    RateLimited,
    ReasoningDelta,
    RetryPolicy,
    RetryScheduled,
    ServerError,
    ServerOverloaded,
    StreamEnd,
    StreamInterrupted,
    Timeouts,
    UnexpectedStatus,
    UnsupportedModel,
)
from deepseek_tui.simulator import Fault

FAST_TIMEOUTS = Timeouts(connect=2.0, idle=2.0, deadline=30.0)  # a guard: no test here is about it
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
BODY = {
    "model": "deepseek-flash",
    "thinking": {"type": "disabled"},
    "messages": [{"role": "user", "content": "Hello there"}],
}
THINKING_BODY = {
    "model": "deepseek-flash",
    "thinking": {"type": "enabled"},
    "messages": [{"role": "user", "content": "Hello there"}],
}
SSE_HEADERS = {"content-type": "text/event-stream"}


def make_client(simulator, key: str = "sk-test", **kwargs: Any) -> DeepSeekClient:
    kwargs.setdefault("timeouts", FAST_TIMEOUTS)
    kwargs.setdefault("retry", FAST_RETRY)
    return DeepSeekClient(key, simulator.url, **kwargs)


@pytest.fixture
async def client(simulator):
    async with make_client(simulator) as client:
        yield client


async def run_stream(client: DeepSeekClient, body: dict = BODY) -> tuple[list, DeepSeekError | None]:
    events: list = []
    try:
        async for event in client.stream_chat(body):
            events.append(event)
    except DeepSeekError as error:
        return events, error
    return events, None


def text_of(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


def completion_requests(simulator) -> list:
    return [r for r in simulator.requests if r.path.endswith("completions")]


def sse(*payloads: bytes | str) -> list[bytes]:
    out = []
    for payload in payloads:
        if isinstance(payload, str):
            payload = payload.encode()
        out.append(payload if payload.startswith(b":") else b"data: " + payload + b"\n\n")
    return out


def chunk(content: str | None = None, finish: str | None = None) -> str:
    return json.dumps(
        {
            "id": "c0ffee00-0000-4000-8000-000000000000",
            "object": "chat.completion.chunk",
            "model": "deepseek-chat",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
        }
    )


# --- HTTP status errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequest), (401, AuthenticationFailed), (402, InsufficientBalance), (422, InvalidParameters)],
)
async def test_client_errors_are_typed_and_never_retried(client, simulator, status, cls) -> None:
    simulator.inject(Fault.status(status, message=f"problem {status}"))
    events, error = await run_stream(client)
    assert type(error) is cls and error.status == status
    assert error.message == f"problem {status}"
    assert error.remedy and error.remedy in str(error) and f"problem {status}" in str(error)
    assert not error.retryable
    assert events == []
    assert len(completion_requests(simulator)) == 1


@pytest.mark.parametrize(("status", "cls"), [(429, RateLimited), (500, ServerError), (503, ServerOverloaded)])
async def test_retryable_statuses_are_retried_then_raised(client, simulator, status, cls) -> None:
    for _ in range(3):
        simulator.inject(Fault.status(status))
    events, error = await run_stream(client)
    assert type(error) is cls and error.retryable and error.remedy in str(error)
    retries = [e for e in events if isinstance(e, RetryScheduled)]
    assert [r.attempt for r in retries] == [1, 2]
    assert all(0 < r.delay <= 0.05 and str(status) in r.reason for r in retries)
    assert len(completion_requests(simulator)) == 3


async def test_retry_after_header_sets_the_minimum_delay(simulator) -> None:
    envelope = b'{"error":{"message":"Rate Limit Reached","type":"rate_limit_error","param":null,"code":"invalid_request_error"}}'
    simulator.inject(
        Fault.raw(status=429, headers={"content-type": "application/json", "retry-after": "0.2"}, chunks=[envelope])
    )
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=1.0)
    async with make_client(simulator, retry=policy) as client:
        events, error = await run_stream(client)
    assert error is None
    assert isinstance(events[0], RetryScheduled) and events[0].delay == pytest.approx(0.2)
    assert "Rate Limit Reached" in events[0].reason


async def test_unknown_status_is_unexpected_status(client, simulator) -> None:
    simulator.inject(Fault.raw(status=418, headers={"content-type": "text/plain"}, chunks=[b"I'm a teapot"]))
    _, error = await run_stream(client)
    assert type(error) is UnexpectedStatus and error.status == 418 and error.message == "I'm a teapot"


async def test_429_then_success_gives_one_answer(client, simulator) -> None:
    clean, _ = await run_stream(client)
    simulator.inject(Fault.status(429))
    events, error = await run_stream(client)
    assert error is None
    assert isinstance(events[0], RetryScheduled) and events[0].attempt == 1
    assert text_of(events) == text_of(clean)
    assert sum(isinstance(e, StreamEnd) for e in events) == 1
    assert len(completion_requests(simulator)) == 3  # clean run + failed + retried


async def test_non_streaming_chat_retries_and_types_errors(client, simulator) -> None:
    simulator.inject(Fault.status(503))
    result = await client.chat(BODY)
    assert result.content
    assert len(completion_requests(simulator)) == 2
    simulator.inject(Fault.status(402))
    with pytest.raises(InsufficientBalance):
        await client.chat(BODY)
    assert len(completion_requests(simulator)) == 3


async def test_non_streaming_insufficient_resource_keeps_the_partial_answer(client, simulator) -> None:
    simulator.inject(Fault.insufficient_resource(after_chunks=4))
    with pytest.raises(StreamInterrupted) as caught:
        await client.chat(BODY)
    assert caught.value.reason == "insufficient_system_resource"
    assert caught.value.partial_content and caught.value.usage is not None
    assert len(completion_requests(simulator)) == 1


async def test_non_streaming_stall_times_out_and_is_retried(simulator) -> None:
    simulator.inject(Fault.stall(seconds=5))
    # The idle limit is far below the stall and far above a loaded machine's slowest answer.
    async with make_client(simulator, timeouts=Timeouts(connect=2, idle=1, deadline=10)) as client:
        result = await client.chat(BODY)
    assert result.content
    assert len(completion_requests(simulator)) == 2


async def test_wrong_key_is_authentication_failed(simulator) -> None:
    async with make_client(simulator, key="sk-wrong0000000000000000000000abcd") as client:
        _, error = await run_stream(client)
        with pytest.raises(AuthenticationFailed):
            await client.balance()
    assert isinstance(error, AuthenticationFailed)
    assert "****abcd" in error.message
    assert "sk-wrong0000000000000000000000abcd" not in str(error) + repr(error)


# --- blank 200, interruptions -----------------------------------------------------------------


async def test_blank_200_stream_is_retried(client, simulator) -> None:
    simulator.inject(Fault.blank_200(lines=4))
    events, error = await run_stream(client)
    assert error is None and text_of(events)
    assert isinstance(events[0], RetryScheduled) and "Empty" in events[0].reason
    assert len(completion_requests(simulator)) == 2


async def test_blank_200_non_streaming_is_retried_then_empty_response(client, simulator) -> None:
    simulator.inject(Fault.blank_200(lines=3))
    assert (await client.chat(BODY)).content
    for _ in range(3):
        simulator.inject(Fault.blank_200(lines=3))
    with pytest.raises(EmptyResponse) as caught:
        await client.chat(BODY)
    assert caught.value.retryable
    assert len(completion_requests(simulator)) == 2 + 3


async def test_drop_after_output_is_interrupted_without_retry(client, simulator) -> None:
    simulator.inject(Fault.drop(after_chunks=3))
    events, error = await run_stream(client)
    assert isinstance(error, StreamInterrupted) and error.reason == "eof"
    assert error.partial_content and error.partial_content == text_of(events)
    assert not error.retryable
    assert not any(isinstance(e, RetryScheduled) for e in events)
    assert len(completion_requests(simulator)) == 1


async def test_drop_before_any_output_is_retried(client, simulator) -> None:
    clean, _ = await run_stream(client)
    simulator.inject(Fault.drop(after_chunks=1))  # only the role chunk went out
    events, error = await run_stream(client)
    assert error is None and text_of(events) == text_of(clean)
    assert any(isinstance(e, RetryScheduled) for e in events)


async def test_drop_in_reasoning_keeps_partial_reasoning(client, simulator) -> None:
    simulator.inject(Fault.drop(after_chunks=4))
    events, error = await run_stream(client, THINKING_BODY)
    assert isinstance(error, StreamInterrupted)
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert reasoning and error.partial_reasoning == reasoning and error.partial_content == ""


async def test_insufficient_resource_yields_deltas_then_raises(client, simulator) -> None:
    simulator.inject(Fault.insufficient_resource(after_chunks=3))
    events, error = await run_stream(client)
    assert isinstance(error, StreamInterrupted) and error.reason == "insufficient_system_resource"
    assert text_of(events) and error.partial_content == text_of(events)
    assert error.usage is not None
    assert not any(isinstance(e, StreamEnd) for e in events)
    assert len(completion_requests(simulator)) == 1


async def test_aborted_keeps_the_partial_answer_without_retry(client, simulator) -> None:
    """finish_reason "aborted" (V4.1) is an interrupted answer: what arrived is kept."""
    simulator.inject(Fault.aborted(after_chunks=3))
    events, error = await run_stream(client)
    assert isinstance(error, StreamInterrupted) and error.reason == "aborted"
    assert text_of(events) and error.partial_content == text_of(events)
    assert error.usage is not None and "aborted" in error.cause
    assert not any(isinstance(e, StreamEnd) for e in events)
    simulator.inject(Fault.aborted(after_chunks=4))
    with pytest.raises(StreamInterrupted) as caught:
        await client.chat(BODY)
    assert caught.value.reason == "aborted" and caught.value.partial_content
    assert len(completion_requests(simulator)) == 2


async def test_a_retired_model_name_is_explained(client, simulator) -> None:
    _, error = await run_stream(client, {**BODY, "model": "deepseek-reasoner"})
    assert isinstance(error, UnsupportedModel) and isinstance(error, BadRequest)
    assert error.passed == "deepseek-reasoner" and error.supported == ("deepseek-flash", "deepseek-v4-pro")
    assert "deepseek-flash or deepseek-v4-pro" in error.remedy
    assert len(completion_requests(simulator)) == 1  # a 400 is not retried


async def test_error_object_inside_a_200_stream(client, simulator) -> None:
    simulator.inject(Fault.stream_error(after_chunks=3, message="Server busy, try later"))
    events, error = await run_stream(client)
    assert isinstance(error, StreamInterrupted) and error.reason == "stream_error"
    assert error.message == "Server busy, try later"
    assert error.partial_content == text_of(events)
    assert len(completion_requests(simulator)) == 1


async def test_done_without_finish_reason_is_interrupted(client, simulator) -> None:
    simulator.inject(Fault.raw(headers=SSE_HEADERS, chunks=sse(chunk("Hi"), "[DONE]")))
    events, error = await run_stream(client)
    assert isinstance(error, StreamInterrupted) and error.partial_content == "Hi"


async def test_finish_without_done_is_interrupted(client, simulator) -> None:
    simulator.inject(Fault.raw(headers=SSE_HEADERS, chunks=sse(chunk("Hi"), chunk("", "stop"))))
    _, error = await run_stream(client)
    assert isinstance(error, StreamInterrupted) and error.reason == "eof"


# --- timeouts ---------------------------------------------------------------------------------


async def test_stall_hits_the_idle_timeout(simulator) -> None:
    simulator.inject(Fault.stall(after_chunks=3, seconds=5))
    async with make_client(simulator, timeouts=Timeouts(connect=2, idle=1, deadline=10)) as client:
        events, error = await run_stream(client)
    # Not the end of the stall (that would be an abrupt close, "eof"): the client gave up.
    assert isinstance(error, StreamInterrupted) and error.reason == "idle_timeout"
    assert error.partial_content == text_of(events) != ""
    assert len(completion_requests(simulator)) == 1


async def test_keep_alives_reset_the_idle_timer(simulator) -> None:
    keepalives = [b": keep-alive\n\n"] * 12
    chunks = keepalives + sse(chunk("Hi"), chunk("", "stop"), "[DONE]")
    simulator.inject(Fault.raw(headers=SSE_HEADERS, chunks=chunks, delay=0.1))
    # 14 gaps of 0.1 s: the stream lasts longer than the idle limit, each gap far less.
    async with make_client(simulator, timeouts=Timeouts(connect=2, idle=1, deadline=10)) as client:
        started = time.monotonic()
        events, error = await run_stream(client)
        assert time.monotonic() - started > 1  # longer than the idle limit, yet no timeout
    assert error is None and text_of(events) == "Hi"


async def test_silence_longer_than_idle_fails_even_before_the_first_byte(simulator) -> None:
    simulator.inject(
        Fault.raw(
            headers=SSE_HEADERS, chunks=[b": keep-alive\n\n", *sse(chunk("Hi"), chunk("", "stop"), "[DONE]")], delay=0.6
        )
    )
    async with make_client(
        simulator, timeouts=Timeouts(connect=2, idle=0.3, deadline=10), retry=RetryPolicy(max_attempts=1)
    ) as client:
        events, error = await run_stream(client)
    assert isinstance(error, StreamInterrupted) and error.reason == "idle_timeout"


async def test_overall_deadline_despite_keep_alives(simulator) -> None:
    # Keep-alives for 10 s; the idle limit is above the deadline, so only the deadline can end it.
    simulator.inject(Fault.raw(headers=SSE_HEADERS, chunks=[b": keep-alive\n\n"] * 200, delay=0.05))
    async with make_client(simulator, timeouts=Timeouts(connect=2, idle=5, deadline=1.5)) as client:
        events, error = await run_stream(client)
    assert isinstance(error, StreamInterrupted) and error.reason == "deadline"
    assert any(isinstance(e, KeepAlive) for e in events)


# --- cancellation -----------------------------------------------------------------------------


class TrickleServer:
    """A never-ending DeepSeek-style stream, one content chunk every 20 ms, over a real socket;
    tells when the client hangs up (the simulator does not expose that)."""

    def __init__(self) -> None:
        self.hung_up = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> "TrickleServer":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
        watcher = asyncio.create_task(reader.read())  # b"" (or an error) once the client closes
        try:
            while not watcher.done():
                writer.write(b"data: " + chunk("tick ").encode() + b"\n\n")
                await writer.drain()
                await asyncio.wait([watcher], timeout=0.02)
        except ConnectionError:
            pass
        finally:
            self.hung_up.set()
            watcher.cancel()
            writer.close()


async def test_cancelling_the_consumer_closes_the_stream_at_once() -> None:
    async with TrickleServer() as server, DeepSeekClient("sk-test", server.url, timeouts=FAST_TIMEOUTS) as client:
        deltas = 0
        two_deltas = asyncio.Event()

        async def consume() -> None:
            nonlocal deltas
            async for event in client.stream_chat(BODY):
                deltas += isinstance(event, ContentDelta)
                if deltas == 2:
                    two_deltas.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(two_deltas.wait(), 10)
        assert not server.hung_up.is_set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The stream never ends and the client stays open: only closing the stream hangs up.
        await asyncio.wait_for(server.hung_up.wait(), 10)


async def test_aclose_on_the_iterator_closes_the_stream_at_once() -> None:
    async with TrickleServer() as server, DeepSeekClient("sk-test", server.url, timeouts=FAST_TIMEOUTS) as client:
        async with aclosing(client.stream_chat(BODY)) as events:
            async for event in events:
                if isinstance(event, ContentDelta):
                    break
            assert not server.hung_up.is_set()
        # The stream never ends and the client stays open: only closing the stream hangs up.
        await asyncio.wait_for(server.hung_up.wait(), 10)


# --- connection failures and secrecy --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_is_retried_then_connection_failed() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    async with DeepSeekClient("sk-test", url, timeouts=FAST_TIMEOUTS, retry=FAST_RETRY) as client:
        events, error = await run_stream(client)
        with pytest.raises(ConnectionFailed):
            await client.list_models()
    assert isinstance(error, ConnectionFailed) and error.retryable
    assert [e.attempt for e in events if isinstance(e, RetryScheduled)] == [1, 2]


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


async def test_the_key_never_appears_in_errors_or_logs(simulator, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_key = "sk-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    errors: list[BaseException] = []
    async with make_client(simulator, key=wrong_key) as client:
        errors.append((await run_stream(client))[1])  # 401 echoing ****b1a0
    async with make_client(simulator, timeouts=Timeouts(connect=2, idle=1, deadline=10)) as client:
        for _ in range(3):
            simulator.inject(Fault.status(429, message="slow down"))
        errors.append((await run_stream(client))[1])
        simulator.inject(Fault.stall(after_chunks=2, seconds=3))
        errors.append((await run_stream(client))[1])
        simulator.inject(Fault.stream_error(after_chunks=2, message="boom"))
        errors.append((await run_stream(client))[1])
    for key in ("sk-test", wrong_key):
        unreachable = f"http://127.0.0.1:{_free_port()}"
        async with DeepSeekClient(key, unreachable, timeouts=FAST_TIMEOUTS, retry=FAST_RETRY) as client:
            errors.append((await run_stream(client))[1])
            try:
                await client.balance()
            except DeepSeekError as exc:
                errors.append(exc)
    assert len(errors) == 8 and all(isinstance(e, DeepSeekError) for e in errors), errors
    for error in errors:
        for link in _chain(error):
            texts = [str(link), repr(link), *map(str, link.args), *map(repr, link.args)]
            for key in ("sk-test", wrong_key):
                assert not any(key in text for text in texts), (type(link), texts)
    client_logs = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("deepseek_tui.simulator")
    )
    assert "sk-test" not in client_logs and wrong_key not in client_logs
    assert "Retrying" in client_logs  # the client did log, just not the key
    assert "****b1a0" in str(errors[0])
