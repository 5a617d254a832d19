"""The SSE decoder on its own: framing, splits, comments, line endings."""

from __future__ import annotations

import json

import pytest

from deepseek_tui.client.sse import DONE, KEEP_ALIVE, SSEDecoder, iter_sse

CHUNK = json.dumps(
    {"id": "x", "choices": [{"index": 0, "delta": {"content": "héllo ✓ 你好"}, "finish_reason": None}]},
    ensure_ascii=False,
)
STREAM = (f": keep-alive\n\ndata: {CHUNK}\n\n: keep-alive\n\ndata: {CHUNK}\n\ndata: [DONE]\n\n").encode()
EXPECTED = [KEEP_ALIVE, CHUNK, KEEP_ALIVE, CHUNK, DONE]


def decode_in_pieces(data: bytes, size: int) -> list:
    decoder = SSEDecoder()
    items = []
    for start in range(0, len(data), size):
        items.extend(decoder.feed(data[start : start + size]))
    items.extend(decoder.close())
    return items


def test_whole_stream_in_one_read() -> None:
    assert list(iter_sse([STREAM])) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_any_split_including_inside_utf8_sequences(size: int) -> None:
    assert decode_in_pieces(STREAM, size) == EXPECTED


@pytest.mark.parametrize("newline", [b"\r\n", b"\r", b"\n"])
@pytest.mark.parametrize("size", [1, 2, 9, 1000])
def test_line_endings(newline: bytes, size: int) -> None:
    data = STREAM.replace(b"\n", newline)
    assert decode_in_pieces(data, size) == EXPECTED


def test_crlf_split_between_cr_and_lf_does_not_end_a_multiline_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"\n\r") == ["a\nb"]
    assert decoder.feed(b"\n") == []


def test_data_without_space_and_only_one_space_stripped() -> None:
    assert list(iter_sse([b'data:{"a":1}\n\ndata:  two\n\n'])) == ['{"a":1}', " two"]


def test_multiline_data_is_joined_with_newlines() -> None:
    assert list(iter_sse([b'data: {\ndata: "a": 1\ndata: }\n\n'])) == ['{\n"a": 1\n}']


def test_blank_lines_alone_dispatch_nothing() -> None:
    assert list(iter_sse([b"\n\n\r\n\n"])) == []


def test_comments_anywhere_including_inside_an_event() -> None:
    items = list(iter_sse([b"data: a\n: keep-alive\ndata: b\n\n:\n\n"]))
    assert items == [KEEP_ALIVE, "a\nb", KEEP_ALIVE]


def test_other_fields_are_ignored() -> None:
    items = list(iter_sse([b"event: message\nid: 7\nretry: 10\ndata: x\n\nid: 8\n\n"]))
    assert items == ["x"]


def test_data_field_without_colon_is_empty_data() -> None:
    assert list(iter_sse([b"data\ndata: x\n\n"])) == ["\nx"]


def test_done_without_trailing_blank_line_is_dispatched_at_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: [DONE]\n") == []
    assert decoder.close() == [DONE]


def test_unterminated_last_line_is_dropped_at_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"trunc') == []
    assert decoder.close() == []


def test_utf8_bom_at_start_is_skipped_even_when_split() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"\xbfdata: x\n\n") == ["x"]


def test_feed_lines_accepts_pre_split_lines() -> None:
    decoder = SSEDecoder()
    assert decoder.feed_lines([": keep-alive", "", "data: x", "", "data: [DONE]", ""]) == [
        KEEP_ALIVE,
        "x",
        DONE,
    ]
