"""Text from outside (a model, a session file, an import, a server) made safe to draw in a terminal.

A terminal acts on control characters: `ESC ] 52 ; c ; <base64> ESC \\` rewrites the clipboard,
`ESC ] 2 ; … ESC \\` the window title, a lone carriage return lets later text overwrite earlier
text, and bidi overrides make text read differently from what it is. `inert_text` returns text
that does none of this and hides nothing:

- newline and tab stay; CR LF becomes a newline;
- a whole CSI sequence (`ESC [ … final`, or the one-byte C1 CSI), the formatting that pasted
  terminal output carries (colours, cursor moves), is dropped;
- every other C0 control, ESC included, and DEL become their visible symbol from the Unicode
  Control Pictures block (ESC shows as ␛), so OSC, DCS and the like are shown, not obeyed;
- C1 controls (U+0080–U+009F) and lone surrogates (possible in session files) become U+FFFD;
- bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are dropped.

The result contains none of those code points, so `inert_text` is idempotent, and ordinary text
(any language, emoji, tabs, newlines, Markdown) comes back unchanged.

`InertStream` does the same for text that arrives in pieces (pipe mode's answer on a terminal).
"""

from __future__ import annotations

import re

CSI_MAX_PARAMETERS = 64
CSI_MAX_INTERMEDIATES = 16

_CSI_BODY = f"[\x30-\x3f]{{0,{CSI_MAX_PARAMETERS}}}[\x20-\x2f]{{0,{CSI_MAX_INTERMEDIATES}}}"
_CSI = re.compile(f"(?:\x1b\\[|\x9b){_CSI_BODY}[\x40-\x7e]")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_STREAM_HOLD = re.compile(f"(?:\r|\x1b|(?:\x1b\\[|\x9b){_CSI_BODY})\\Z")
"""A piece that ends like this may continue in the next one (CR LF, a CSI cut in two)."""
_HOLD_WINDOW = 2 + CSI_MAX_PARAMETERS + CSI_MAX_INTERMEDIATES

REPLACEMENT = "\ufffd"
DEL_PICTURE = "\u2421"


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return DEL_PICTURE
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return ""
    return REPLACEMENT  # C1 controls, lone surrogates


def inert_text(text: str) -> str:
    """`text` with every terminal control made visible or dropped (see the module docstring)."""
    if not _UNSAFE.search(text):
        return text
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    if "\x1b" in text or "\x9b" in text:
        text = _CSI.sub("", text)
    return _UNSAFE.sub(_visible, text)


def is_inert(text: str) -> bool:
    """True when `text` has nothing `inert_text` would change."""
    return not _UNSAFE.search(text)


class InertStream:
    """`inert_text` for text that arrives in pieces.

    A CR or an escape sequence cut between two pieces is held back until the next piece shows
    how it ends, so the pieces joined give exactly `inert_text` of the whole text. `flush()`
    returns what is held at the end.
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        if not text:
            return ""
        tail = _STREAM_HOLD.search(text, max(len(text) - _HOLD_WINDOW, 0))
        cut = tail.start() if tail else len(text)
        self._held = text[cut:]
        return inert_text(text[:cut])

    def flush(self) -> str:
        held, self._held = self._held, ""
        return inert_text(held)


__all__ = ["InertStream", "inert_text", "is_inert"]
