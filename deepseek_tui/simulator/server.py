"""The HTTP side of the simulator: routes, auth, streaming writes, faults, and the Simulator object.

Streams use `Transfer-Encoding: chunked` so that a dropped connection is an incomplete chunked
body (an abrupt EOF to httpx) and a stall is an open connection with no bytes. Every wait goes
through `_pause`, which ends early when the simulator stops.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .answers import AnswerOptions, AnswerStyle, fim_text, plan_chat
from .faults import Fault
from .models import MODEL_IDS
from .tokens import PromptCache, split_tokens
from .validation import (
    COMPLETIONS_OFF_BETA,
    MAX_BODY_BYTES,
    MISSING_AUTH_TEXT,
    ApiError,
    ChatRequest,
    FimRequest,
    body_too_large_message,
    invalid_key_error,
    parse_body,
    validate_chat,
    validate_fim,
)
from .wire import (
    ChunkFactory,
    Output,
    ResponseIdentity,
    Step,
    chat_completion,
    limit_plan,
    limit_text,
    text_completion,
    usage,
)

Request = TypeVar("Request", ChatRequest, FimRequest)

ROUTES: dict[str, tuple[str, str]] = {
    "/chat/completions": ("POST", "chat"),
    "/v1/chat/completions": ("POST", "chat"),
    "/beta/chat/completions": ("POST", "chat"),
    "/beta/completions": ("POST", "fim"),
    "/completions": ("POST", "completions_off_beta"),
    "/v1/completions": ("POST", "completions_off_beta"),
    "/models": ("GET", "models"),
    "/v1/models": ("GET", "models"),
    "/user/balance": ("GET", "balance"),
}

DEFAULT_BALANCE: dict[str, Any] = {
    "is_available": True,
    "balance_infos": [
        {"currency": "CNY", "total_balance": "110.00", "granted_balance": "10.00", "topped_up_balance": "100.00"}
    ],
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class _Stopped(Exception):
    """The simulator is shutting down; abandon the response."""


class Simulator:
    """A local DeepSeek API on 127.0.0.1. Options are plain attributes, read at each request."""

    def __init__(
        self, api_key: str | None = "sk-test", token_rate: float | None = None, keepalives: int = 0, port: int = 0
    ) -> None:
        self.api_key = api_key  # None accepts any bearer key
        self.requested_port = port  # 0: any free port
        self.token_rate = token_rate
        self.keepalives = keepalives
        self.keepalive_interval = 0.05
        self.split_writes = False
        self.split_write_delay = 0.002
        self.crlf = False
        self.openai_usage_chunk = False
        self.answer_tokens: int | None = None
        self.answer_style: AnswerStyle = "markdown"
        self.balance: dict[str, Any] = json.loads(json.dumps(DEFAULT_BALANCE))
        self.listed_models: list[str] = list(MODEL_IDS)
        """What `GET /models` lists (tests change it to imitate a server that moved on)."""
        self.models_release: threading.Event | None = None
        """When set, `GET /models` answers only once this event is set (a slow listing)."""
        self.blank_lines_before_json = 0
        self.max_body_bytes = MAX_BODY_BYTES
        """Larger request bodies are answered 413 without being read (§12: at most 48 MiB)."""
        self.requests: list[RecordedRequest] = []
        self.held_content: str | None = None
        """While a stream waits at a `Fault.hold`: the answer text it sent before (tests wait until
        the app shows all of it, so that nothing moves on screen while they look)."""
        self.handler_errors: list[BaseException] = []
        self._faults: deque[Fault] = deque()
        self._cache = PromptCache()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _Server(self, self.requested_port)
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="deepseek-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # wakes handlers blocked on idle keep-alive reads
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (still known after stop(), so tests can check that it refuses)."""
        if self._port is None:
            raise RuntimeError("the simulator has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- test controls ---------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Queue a fault; each one is used by the next chat or FIM request."""
        with self._lock:
            self._faults.append(fault)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def reset_cache(self) -> None:
        self._cache.clear()

    # -- internals used by the handler -------------------------------------------------------

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _track(self, connection: socket.socket, active: bool) -> None:
        with self._lock:
            (self._connections.add if active else self._connections.discard)(connection)

    def _hold(self, release: threading.Event | None, sent_content: str | None = None) -> None:
        """Wait until `release` is set; `sent_content`: the answer sent so far, when a stream waits."""
        self.held_content = sent_content
        try:
            while release is not None and not release.wait(0.05):
                if self._stopping.is_set():
                    raise _Stopped
        finally:
            self.held_content = None

    def _pause(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise _Stopped
        if self._stopping.is_set():
            raise _Stopped


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, simulator: Simulator, port: int) -> None:
        self.simulator = simulator
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Never print (the demo runs under a TUI); keep unexpected errors for tests to inspect.
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, (ConnectionError, _Stopped)):
            self.simulator.handler_errors.append(error)


def _redact(value: str) -> str:
    scheme, _, token = value.partition(" ")
    return f"{scheme} ****{token[-4:]}" if token else "****"


def _sse(payload: Any) -> bytes:
    if isinstance(payload, (bytes, str)):
        text = payload if isinstance(payload, str) else payload.decode()
    else:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"data: {text}".encode()


def _split_points(data: bytes) -> list[int]:
    """Cut points inside the JSON and, when there is one, inside a multibyte UTF-8 character."""
    points = {len(data) // 3, (2 * len(data)) // 3}
    lead = next((i for i, byte in enumerate(data) if byte >= 0xC0), None)
    if lead is not None:
        points.add(lead + 1)
    return sorted(p for p in points if 0 < p < len(data))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "openresty"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.simulator._track(self.connection, True)

    def finish(self) -> None:
        self.server.simulator._track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def sim(self) -> Simulator:
        return self.server.simulator

    # -- entry points --------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.sim.max_body_bytes:
            while length > 0:  # read and drop it: the client is still sending
                length -= len(self.rfile.read(min(1 << 20, length))) or length
            self.sim._record(RecordedRequest(method, path, {}, None))
            self._headers_sent = False
            self._send_error(ApiError(413, body_too_large_message(self.sim.max_body_bytes)))
            return
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {
            name: (_redact(value) if name.lower() == "authorization" else value) for name, value in self.headers.items()
        }
        self.sim._record(RecordedRequest(method, path, headers, body))
        self._headers_sent = False
        try:
            self._route(method, path, raw)
        except _Stopped:
            self._abort()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # a simulator bug: answer 500 so it shows up in the client's tests
            self.sim.handler_errors.append(error)
            if self._headers_sent:
                self._abort()
            else:
                self._send_error(ApiError(500, f"simulator error: {error!r}"))

    def end_headers(self) -> None:
        self._headers_sent = True
        super().end_headers()

    def _route(self, method: str, path: str, raw: bytes) -> None:
        if path not in ROUTES:
            self._send_error(ApiError(404, "Not Found"))
            return
        expected_method, name = ROUTES[path]
        if method != expected_method:
            self._send_error(ApiError(405, "Method Not Allowed"))
            return
        auth_error = self._auth_error()
        if auth_error is not None:
            self._send_error(auth_error)
            return
        if name == "chat":
            self._chat(raw, beta=path.startswith("/beta/"))
        elif name == "fim":
            self._fim(raw)
        elif name == "completions_off_beta":
            self._send_error(ApiError(400, COMPLETIONS_OFF_BETA))
        elif name == "models":
            self.sim._hold(self.sim.models_release)
            data = [{"id": model, "object": "model", "owned_by": "deepseek"} for model in self.sim.listed_models]
            self._send_json(200, {"object": "list", "data": data})
        elif name == "balance":
            self._send_json(200, self.sim.balance)

    def _bearer_key(self) -> str | None:
        value = self.headers.get("Authorization")
        if value is None:
            return None
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else value

    def _auth_error(self) -> ApiError | None:
        key = self._bearer_key()
        if key is None:
            return ApiError(401, MISSING_AUTH_TEXT, plain_text=True)
        if key == self.sim.api_key or (self.sim.api_key is None and key):
            return None
        return invalid_key_error(key)

    # -- completions ---------------------------------------------------------------------------

    def _admit(self, raw: bytes, validate: Callable[[Any, str], Request]) -> tuple[Fault | None, Request | None]:
        """Take the next fault and validate the body; (fault, None) when a response was already sent."""
        fault = self.sim._next_fault()
        if fault is not None and fault.replaces_response:
            self._replace_with(fault, raw)
            return fault, None
        try:
            body, text = parse_body(raw)
            return fault, validate(body, text)
        except ApiError as error:
            self._send_error(error)
            return fault, None

    def _chat(self, raw: bytes, beta: bool) -> None:
        fault, request = self._admit(raw, lambda body, text: validate_chat(body, text, beta))
        if request is None:
            return
        hit_tokens = self.sim._cache.hit_tokens(request.prompt)
        plan = plan_chat(request, AnswerOptions(self.sim.answer_tokens, self.sim.answer_style))
        output = limit_plan(plan, request.max_tokens, request.stop)
        identity = ResponseIdentity(
            request.rules.name, request.rules.system_fingerprint
        )  # aliases answer as their target

        def make_usage(sent: Output) -> dict[str, Any]:
            return usage(request.prompt_tokens, hit_tokens, sent, request.thinking)

        if request.stream:
            factory = ChunkFactory(identity, request.thinking, request.include_usage)
            self._stream(factory, output, make_usage, fault)
        else:

            def render(sent: Output) -> dict[str, Any]:
                return chat_completion(identity, sent, make_usage(sent), request.thinking)

            self._respond_whole(output, render, fault)

    def _fim(self, raw: bytes) -> None:
        fault, request = self._admit(raw, validate_fim)
        if request is None:
            return
        hit_tokens = self.sim._cache.hit_tokens(request.prompt + request.suffix)
        output = limit_text(
            split_tokens(fim_text(request)), request.max_tokens, request.stop, request.prompt if request.echo else None
        )
        identity = ResponseIdentity(request.rules.name, request.rules.system_fingerprint)

        def make_usage(sent: Output) -> dict[str, Any]:
            return usage(request.prompt_tokens, hit_tokens, sent, thinking=False, fim=True)

        if request.stream:
            self._stream(ChunkFactory(identity, False, request.include_usage, fim=True), output, make_usage, fault)
        else:
            self._respond_whole(output, lambda sent: text_completion(identity, sent, make_usage(sent)), fault)

    # -- streaming -----------------------------------------------------------------------------

    def _stream(
        self, factory: ChunkFactory, output: Output, make_usage: Callable[[Output], dict[str, Any]], fault: Fault | None
    ) -> None:
        self._start_chunked("text/event-stream; charset=utf-8")
        for _ in range(self.sim.keepalives):
            self._write_chunk(b": keep-alive" + self._eol * 2)
            self.sim._pause(self.sim.keepalive_interval)

        payloads: list[tuple[dict[str, Any], Step | None]] = []
        first = factory.first()
        if first is not None:
            payloads.append((first, None))
        payloads += [(factory.for_step(step), step) for step in output.steps]

        fault_at = min(fault.after_chunks, len(payloads)) if fault is not None else -1
        sent_steps = 0
        for index in range(len(payloads) + 1):
            if index == fault_at and fault is not None and fault.kind == "hold":
                self.sim._hold(fault.release, "".join(s.text for s in output.steps[:sent_steps] if s.kind == "content"))
            elif index == fault_at and fault is not None:
                self._stream_fault(
                    fault, factory, output.truncated(sent_steps, "insufficient_system_resource"), make_usage
                )
                return
            if index == len(payloads):
                break
            payload, step = payloads[index]
            if index > 0:
                self.sim._pause(1.0 / self.sim.token_rate if self.sim.token_rate else 0.0)
            self._write_event(_sse(payload))
            sent_steps += step is not None

        for chunk in factory.finish(output.finish_reason, make_usage(output), self.sim.openai_usage_chunk):
            self._write_event(_sse(chunk))
        self._write_event(_sse("[DONE]"))
        self._end_chunked()

    def _stream_fault(
        self, fault: Fault, factory: ChunkFactory, partial: Output, make_usage: Callable[[Output], dict[str, Any]]
    ) -> None:
        if fault.kind == "drop":
            self._abort()
        elif fault.kind == "stall":
            self.sim._pause(fault.seconds)
            self._abort()
        elif fault.kind in ("insufficient_resource", "aborted"):
            finish_reason = "aborted" if fault.kind == "aborted" else partial.finish_reason
            for chunk in factory.finish(finish_reason, make_usage(partial), self.sim.openai_usage_chunk):
                self._write_event(_sse(chunk))
            self._write_event(_sse("[DONE]"))
            self._end_chunked()
        elif fault.kind == "stream_error":
            self._write_event(_sse(ChunkFactory.error(fault.message or "Server Error")))
            self._end_chunked()

    # -- whole (non-streaming) responses -----------------------------------------------------------

    def _respond_whole(self, output: Output, render: Callable[[Output], dict[str, Any]], fault: Fault | None) -> None:
        kind = fault.kind if fault is not None else None
        if fault is not None and kind in ("insufficient_resource", "aborted"):
            reason = "aborted" if kind == "aborted" else "insufficient_system_resource"
            output = output.truncated(max(fault.after_chunks - 1, 0), reason)
        if fault is not None and kind == "stall":
            self.sim._pause(fault.seconds)
            self._abort()
            return
        if fault is not None and kind == "stream_error":
            self._send_json(200, ChunkFactory.error(fault.message or "Server Error"))
            return
        if self.sim.token_rate:  # the real server answers only when generation is done
            self.sim._pause(output.completion_tokens / self.sim.token_rate)
        body = json.dumps(render(output), ensure_ascii=False).encode()
        if kind == "drop":
            self._send_headers(200, "application/json", {"Content-Length": str(len(body))})
            self.wfile.write(body[: len(body) // 2])
            self._abort()
            return
        if self.sim.blank_lines_before_json:
            self._start_chunked("application/json")
            for _ in range(self.sim.blank_lines_before_json):
                self._write_chunk(b"\n")
                self.sim._pause(self.sim.keepalive_interval)
            self._write_chunk(body)
            self._end_chunked()
            return
        self._send_bytes(200, "application/json", body)

    def _replace_with(self, fault: Fault, raw: bytes) -> None:
        """Faults that answer instead of the model: an error status, a blank 200, raw bytes."""
        if fault.kind == "status":
            if fault.status_code == 401 and fault.message is None:
                self._send_error(invalid_key_error(self._bearer_key() or self.sim.api_key or "****"))
            else:
                self._send_error(ApiError(fault.status_code, fault.message))
            return
        self.close_connection = True
        if fault.kind == "blank_200":
            try:
                streaming = bool(json.loads(raw).get("stream"))
            except (ValueError, AttributeError):
                streaming = False
            content_type = "text/event-stream; charset=utf-8" if streaming else "application/json"
            self._send_headers(200, content_type, {"Connection": "close"})
            for _ in range(fault.lines):
                self.wfile.write(b"\n")
            return
        headers = dict(fault.headers or {"Content-Type": "text/event-stream; charset=utf-8"})
        self.send_response(fault.status_code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        for index, chunk in enumerate(fault.chunks):
            if index:
                self.sim._pause(fault.delay)
            self.wfile.write(chunk)
            self.wfile.flush()

    # -- byte-level helpers ----------------------------------------------------------------------

    @property
    def _eol(self) -> bytes:
        return b"\r\n" if self.sim.crlf else b"\n"

    def _send_headers(self, status: int, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("x-ds-trace-id", uuid.uuid4().hex)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def _send_bytes(self, status: int, content_type: str, body: bytes) -> None:
        self._send_headers(status, content_type, {"Content-Length": str(len(body))})
        self.wfile.write(body)

    def _send_json(self, status: int, payload: Any) -> None:
        self._send_bytes(status, "application/json", json.dumps(payload, ensure_ascii=False).encode())

    def _send_error(self, error: ApiError) -> None:
        content_type = "text/plain; charset=utf-8" if error.plain_text else "application/json"
        self._send_bytes(error.status, content_type, error.body())

    def _start_chunked(self, content_type: str) -> None:
        self._send_headers(200, content_type, {"Cache-Control": "no-cache", "Transfer-Encoding": "chunked"})

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _write_event(self, event: bytes) -> None:
        data = event + self._eol * 2
        if not self.sim.split_writes:
            self._write_chunk(data)
            return
        start = 0
        for point in [*_split_points(data), len(data)]:
            self._write_chunk(data[start:point])
            start = point
            if point < len(data):
                self.sim._pause(self.sim.split_write_delay)

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def _abort(self) -> None:
        """Hang up without finishing the body: the client sees an abrupt EOF."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
