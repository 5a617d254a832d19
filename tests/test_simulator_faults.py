"""Simulator fault injection and transport behaviour, seen from a plain httpx client."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from deepseek_tui.simulator import Fault, Simulator

AUTH = {"Authorization": "Bearer sk-test"}
BODY = {
    "model": "deepseek-flash",
    "thinking": {"type": "disabled"},
    "messages": [{"role": "user", "content": "Tell me a story"}],
}


def read_stream(sim, body=BODY, timeout=5.0, path="/chat/completions"):
    """(data lines received, exception raised while reading or None)."""
    lines: list[str] = []
    try:
        with httpx.stream("POST", sim.url + path, json={**body, "stream": True}, headers=AUTH, timeout=timeout) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    lines.append(line[len("data: ") :])
    except httpx.HTTPError as error:
        return lines, error
    return lines, None


def test_drop_closes_mid_stream_without_done(simulator):
    simulator.inject(Fault.drop(after_chunks=3))
    lines, error = read_stream(simulator)
    assert isinstance(error, httpx.RemoteProtocolError)
    assert len(lines) == 3 and "[DONE]" not in lines
    assert all(json.loads(line)["choices"][0]["finish_reason"] is None for line in lines)
    assert read_stream(simulator)[0][-1] == "[DONE]"  # the fault was used up
    assert simulator.handler_errors == []


def test_drop_on_a_non_streaming_request_truncates_the_body(simulator):
    simulator.inject(Fault.drop())
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(simulator.url + "/chat/completions", json=BODY, headers=AUTH, timeout=5)


def test_stall_keeps_the_connection_open_without_bytes(simulator):
    simulator.inject(Fault.stall(after_chunks=2, seconds=30))
    lines, error = read_stream(simulator, timeout=httpx.Timeout(5.0, read=1.0))
    assert isinstance(error, httpx.ReadTimeout)  # not the abrupt close at the end of the stall
    assert len(lines) == 2
    started = time.monotonic()
    simulator.stop()  # the stalled handler must wake up
    assert time.monotonic() - started < 10  # far less than the 30 s stall, whatever the load


def test_short_stall_then_abrupt_close(simulator):
    simulator.inject(Fault.stall(after_chunks=1, seconds=0.3))
    started = time.monotonic()
    lines, error = read_stream(simulator)
    assert time.monotonic() - started >= 0.3
    assert isinstance(error, httpx.RemoteProtocolError) and len(lines) == 1


def test_hold_waits_for_its_release_and_tells_what_it_sent(simulator):
    from ui_support import wait_blocking

    release = threading.Event()
    simulator.inject(Fault.hold(after_chunks=5, release=release))
    assert simulator.held_content is None
    with httpx.stream(
        "POST", simulator.url + "/chat/completions", json={**BODY, "stream": True}, headers=AUTH, timeout=5
    ) as response:
        events = (line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: "))
        first = [next(events) for _ in range(5)]
        wait_blocking(lambda: simulator.held_content is not None)
        sent = "".join(json.loads(event)["choices"][0]["delta"].get("content") or "" for event in first)
        assert sent and simulator.held_content == sent  # the role chunk and four tokens
        release.set()
        rest = list(events)
    assert rest[-1] == "[DONE]" and simulator.held_content is None


def test_blank_200(simulator):
    simulator.inject(Fault.blank_200(lines=4))
    response = httpx.post(simulator.url + "/chat/completions", json=BODY, headers=AUTH, timeout=5)
    assert response.status_code == 200 and response.text == "\n" * 4


def test_insufficient_resource_keeps_partial_output_usage_and_done(simulator):
    simulator.inject(Fault.insufficient_resource(after_chunks=4))
    lines, error = read_stream(simulator)
    assert error is None and lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert len(chunks) == 5
    finish = chunks[-1]
    assert finish["choices"][0]["finish_reason"] == "insufficient_system_resource"
    assert finish["usage"]["completion_tokens"] == 3

    simulator.inject(Fault.insufficient_resource(after_chunks=6))
    reply = httpx.post(simulator.url + "/chat/completions", json=BODY, headers=AUTH).json()
    assert reply["choices"][0]["finish_reason"] == "insufficient_system_resource"
    assert reply["usage"]["completion_tokens"] == 5 and reply["choices"][0]["message"]["content"]


def test_aborted_keeps_partial_output_usage_and_done(simulator):
    simulator.inject(Fault.aborted(after_chunks=4))
    lines, error = read_stream(simulator)
    assert error is None and lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert len(chunks) == 5
    assert chunks[-1]["choices"][0]["finish_reason"] == "aborted"
    assert chunks[-1]["usage"]["completion_tokens"] == 3

    simulator.inject(Fault.aborted(after_chunks=6))
    reply = httpx.post(simulator.url + "/chat/completions", json=BODY, headers=AUTH).json()
    assert reply["choices"][0]["finish_reason"] == "aborted"
    assert reply["usage"]["completion_tokens"] == 5 and reply["choices"][0]["message"]["content"]


def test_stream_error_event_inside_a_200_stream(simulator):
    simulator.inject(Fault.stream_error(after_chunks=2, message="Upstream failure"))
    lines, error = read_stream(simulator)
    assert error is None and len(lines) == 3
    assert json.loads(lines[-1])["error"]["message"] == "Upstream failure"


@pytest.mark.parametrize(
    ("code", "message", "error_type"),
    [
        (402, "Insufficient Balance", "unknown_error"),
        (429, "Rate Limit Reached", "unknown_error"),
        (500, "Server Error", "unknown_error"),
        (503, "Server Overloaded", "unknown_error"),
        (400, "Invalid Format", "invalid_request_error"),
    ],
)
def test_status_faults_use_the_error_envelope(simulator, code, message, error_type):
    simulator.inject(Fault.status(code))
    response = httpx.post(simulator.url + "/chat/completions", json=BODY, headers=AUTH)
    assert response.status_code == code
    assert response.json() == {
        "error": {"message": message, "type": error_type, "param": None, "code": "invalid_request_error"}
    }


def test_faults_are_fifo_and_only_used_by_completion_routes(simulator):
    simulator.inject(Fault.status(401))
    simulator.inject(Fault.status(503, "Busy"))
    assert httpx.get(simulator.url + "/models", headers=AUTH).status_code == 200
    first = httpx.post(simulator.url + "/chat/completions", json=BODY, headers=AUTH)
    assert first.status_code == 401
    assert first.json()["error"]["message"] == "Authentication Fails, Your api key: ****test is invalid"
    fim = httpx.post(
        simulator.url + "/beta/completions", json={"model": "deepseek-flash", "prompt": "x = "}, headers=AUTH
    )
    assert fim.status_code == 503 and fim.json()["error"]["message"] == "Busy"
    assert httpx.post(simulator.url + "/chat/completions", json=BODY, headers=AUTH).status_code == 200


def test_raw_bytes_arrive_as_separate_pieces(simulator):
    chunks = [b'data: {"choices":[{"delta":{"content":"caf\xc3', b'\xa9"}}]}\n', b"\n", b"data: [DONE]\n\n"]
    # Pieces read apart only if the reader reads each before the next is sent: a loaded
    # machine can take a while to get back to it, so they are sent far apart.
    simulator.inject(
        Fault.raw(status=200, headers={"Content-Type": "text/event-stream", "X-Test": "1"}, chunks=chunks, delay=0.3)
    )
    with httpx.stream("POST", simulator.url + "/chat/completions", json=BODY, headers=AUTH) as response:
        pieces = list(response.iter_raw())
        assert response.headers["x-test"] == "1"
    assert pieces == chunks


def test_token_rate_paces_the_stream(simulator):
    simulator.token_rate = 100
    simulator.answer_tokens = 20
    started = time.monotonic()
    lines, _ = read_stream(simulator)
    assert time.monotonic() - started >= 0.19
    assert len(lines) == 20 + 3


def test_stop_does_not_hang_on_idle_or_stalled_connections():
    sim = Simulator(api_key="sk-test").start()
    client = httpx.Client(timeout=10)
    assert client.post(sim.url + "/chat/completions", json=BODY, headers=AUTH).status_code == 200  # idle keep-alive
    sim.inject(Fault.stall(after_chunks=0, seconds=60))
    outcome: list[object] = []
    reader = threading.Thread(target=lambda: outcome.append(read_stream(sim, timeout=10)[1]))
    reader.start()
    end = time.monotonic() + 10
    while sim.pending_faults:  # the stalled request has arrived and taken its fault
        assert time.monotonic() < end, "the request did not arrive"
        time.sleep(0.01)
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 10  # far less than the 60 s stall, whatever the load
    reader.join(timeout=5)
    assert not reader.is_alive() and isinstance(outcome[0], httpx.RemoteProtocolError)
    client.close()


def test_token_rate_also_delays_a_whole_response(simulator):
    simulator.token_rate = 100
    simulator.answer_tokens = 20
    started = time.monotonic()
    reply = httpx.post(simulator.url + "/chat/completions", json=BODY, headers=AUTH, timeout=5).json()
    assert time.monotonic() - started >= 0.19 and reply["usage"]["completion_tokens"] == 20


def test_blank_200_on_a_stream_request_is_an_event_stream_of_blank_lines(simulator):
    simulator.inject(Fault.blank_200(lines=2))
    lines, error = read_stream(simulator)
    assert error is None and lines == []
