"""inert_text: nothing that controls a terminal survives, ordinary text is untouched."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from deepseek_tui.inert import InertStream, inert_text, is_inert

FORBIDDEN = (
    {chr(c) for c in range(0x20) if chr(c) not in "\n\t"}
    | {"\x7f"}
    | {chr(c) for c in range(0x80, 0xA0)}
    | {chr(c) for c in range(0x202A, 0x202F)}
    | {chr(c) for c in range(0x2066, 0x206A)}
)

OSC_52 = "\x1b]52;c;SGVsbG8=\x1b\\"
OSC_TITLE = "\x1b]2;PWNED\x1b\\"

hostile_characters = (
    st.sampled_from(list("\x1b\x9b\x9d[]\\;0123456789m?\r\n\t\x07\x08\x00\x7f\u202e\u2066\u200dab 深"))
    | st.characters(codec="utf-8")
    | st.characters(max_codepoint=0xFF)
)
hostile_text = st.text(hostile_characters)
ordinary_text = st.text(
    st.characters(codec="utf-8", exclude_characters="".join(FORBIDDEN) + "\r") | st.sampled_from(["\n", "\t"])
)


def _lone_surrogates(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@given(hostile_text)
@example(OSC_52 + OSC_TITLE)
@example("\x1b\x1b[0m[0m")
@example("a\ud800b")
def test_no_control_survives(text):
    shown = inert_text(text)
    assert not FORBIDDEN & set(shown)
    assert not _lone_surrogates(shown)
    assert is_inert(shown)


@given(ordinary_text)
@example("# Title\n\n- **bold** `code`\n\n| a | b |\n|---|---|\n\n```py\nx = 1\t# tab\n```\n")
@example("深度求索 ✓ café naïve 👨‍👩‍👧 🏴󠁧󠁢󠁳󠁣󠁴󠁿 مرحبا שלום\u200e")
def test_ordinary_text_is_unchanged(text):
    assert inert_text(text) == text
    assert is_inert(text)


@given(hostile_text)
def test_idempotent(text):
    once = inert_text(text)
    assert inert_text(once) == once


@settings(max_examples=300)
@given(hostile_text, st.lists(st.integers(min_value=0, max_value=200), max_size=8))
@example("\x1b]2;PWNED\x1b\\ \x1b[31mred\x1b[0m\r\n", [1, 2, 3, 13, 14, 22, 23])
@example("a\r\nb", [2])
@example("\x1b[" + "1" * 70 + "m", [40])
def test_stream_in_pieces_equals_whole(text, cuts):
    stream = InertStream()
    bounds = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
    shown = "".join(stream.feed(piece) for piece in pieces) + stream.flush()
    assert shown == inert_text(text)


def test_escape_sequences_are_shown_not_obeyed():
    assert inert_text(OSC_52) == "␛]52;c;SGVsbG8=␛\\"
    assert inert_text("set " + OSC_TITLE + " done") == "set ␛]2;PWNED␛\\ done"
    assert inert_text("\x1b]0;title\x07") == "␛]0;title␇"


def test_csi_formatting_is_dropped():
    assert inert_text("\x1b[1;31mred\x1b[0m plain") == "red plain"
    assert inert_text("\x9b2Jcleared") == "cleared"
    assert inert_text("up\x1b[2Aover") == "upover"


def test_line_endings_and_other_controls():
    assert inert_text("one\r\ntwo\r\n") == "one\ntwo\n"
    assert inert_text("rm -rf /\rls      ") == "rm -rf /␍ls      "
    assert inert_text("bell\x07 back\x08 nul\x00 del\x7f") == "bell␇ back␈ nul␀ del␡"
    assert inert_text("c1\x85\x9d") == "c1\ufffd\ufffd"
    assert inert_text("lone \udc80 surrogate") == "lone \ufffd surrogate"


def test_bidi_overrides_are_dropped():
    trojan = "access = \u202e}\u2066if (admin)\u2069\u2066 {"
    assert inert_text(trojan) == "access = }if (admin) {"
