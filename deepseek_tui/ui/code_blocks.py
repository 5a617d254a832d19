"""Fenced code blocks of a Markdown text (for "copy a code block")."""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark")


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str

    @property
    def label(self) -> str:
        first = next((line for line in self.code.splitlines() if line.strip()), "")
        lines = self.code.count("\n") + (0 if self.code.endswith("\n") else 1)
        return f"{self.language or 'text'} · {lines} lines · {first.strip()[:50]}"


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every fenced or indented code block, in order (an unclosed fence runs to the end)."""
    return [
        CodeBlock(language=(token.info or "").split(maxsplit=1)[0] if token.info else "", code=token.content)
        for token in _PARSER.parse(markdown)
        if token.type in ("fence", "code_block")
    ]
