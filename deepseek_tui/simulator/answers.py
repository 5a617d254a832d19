"""What the simulated model says: deterministic, Markdown-rich answers, reasoning, tool calls, FIM.

Everything here is a pure function of the request (plus the answer options), so the same request
always gets the same text; only ids and timestamps differ between responses.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass, field
from typing import Any, Literal

from .tokens import split_tokens
from .validation import IMAGE_TOKENS, ChatRequest, FimRequest

AnswerStyle = Literal["markdown", "fence"]

_TOOL_WORDS = ("weather", "tool")
_TOPICS = ("clarity", "structure", "examples", "edge cases", "performance", "testing", "naming", "safety")
_FUNCTION_NAMES = ("summarize", "explain", "answer", "outline", "describe", "sketch")
_ALPHANUMERIC = string.ascii_letters + string.digits
_CLOSING_FENCE = ["\n```", "\n"]


@dataclass(frozen=True)
class AnswerOptions:
    answer_tokens: int | None = None
    answer_style: AnswerStyle = "markdown"


@dataclass
class PlannedToolCall:
    id: str
    name: str
    arguments: str
    fragments: list[str]


@dataclass
class Plan:
    """The full output before `max_tokens`/`stop` are applied; text is pre-split into tokens."""

    reasoning: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    tool_calls: list[PlannedToolCall] = field(default_factory=list)


class _Seed:
    """Deterministic choices derived from a hash of the request."""

    def __init__(self, material: Any) -> None:
        text = json.dumps(material, sort_keys=True, ensure_ascii=False, default=str)
        self.digest = hashlib.sha256(text.encode()).digest()

    def pick(self, options: tuple[str, ...], slot: int) -> str:
        return options[self.digest[slot % len(self.digest)] % len(options)]

    def alphanumeric(self, length: int, salt: str) -> str:
        stream = hashlib.sha256(self.digest + salt.encode()).digest() * 2
        return "".join(_ALPHANUMERIC[byte % len(_ALPHANUMERIC)] for byte in stream[:length])


def short_quote(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            return message.get("content") or ""
    return ""


def plan_chat(request: ChatRequest, options: AnswerOptions) -> Plan:
    seed = _Seed([request.rules.name, request.thinking, request.messages, request.tools, request.json_mode])
    question = _last_user_text(request.messages)
    quote = short_quote(question)
    turn = sum(1 for m in request.messages if m["role"] == "user")
    last = request.messages[-1]

    rounds = _tool_rounds_since_user(request.messages)
    tool_calls = _choose_tool_calls(request, question, seed, rounds) if last["role"] in ("user", "tool") else []
    if tool_calls:
        names = ", ".join(f"`{call.name}`" for call in tool_calls)
        if rounds:
            reasoning = (
                f"The tools answered. For “{quote}” I still need {names}, so I will call it next and then answer."
            )
        else:
            reasoning = (
                f"The user asks “{quote}”. I cannot answer that from memory, but the tool {names} can. "
                f"I will call it with the arguments taken from the question and then answer with its result."
            )
        return Plan(_tokens_if(request.thinking, reasoning), [], tool_calls)

    tool_results = _trailing_tool_results(request.messages)
    if tool_results:
        body = _tool_result_answer(quote, tool_results, request)
        reasoning = (
            f"The tool returned “{short_quote(tool_results[-1][1], 80)}”. That is enough to answer “{quote}”, "
            f"so I will summarise the result, list the key facts and show them in a small table."
        )
    elif request.json_mode:
        body = _json_answer(quote, turn, seed)
        reasoning = f"The user wants JSON about “{quote}”. I will reply with a single JSON object."
    elif request.prefix is not None:
        body = _prefix_continuation(request.prefix, quote, seed)
        reasoning = (
            f"The answer already starts with a given prefix. I will continue it for “{quote}” without repeating it."
        )
    else:
        body = _markdown_answer(quote, turn, request.rules.name, seed, request.images)
        reasoning = _reasoning(quote, turn, seed)
    content = _shape_content(body, options, seed)
    return Plan(_tokens_if(request.thinking, reasoning), content, [])


def _tokens_if(thinking: bool, text: str) -> list[str]:
    return split_tokens(text) if thinking else []


def _reasoning(quote: str, turn: int, seed: _Seed) -> str:
    topic = seed.pick(_TOPICS, 3)
    return (
        f"The user wrote “{quote}”. This is turn {turn} of the conversation. "
        f"I should give a clear answer: a short overview, a few bullet points, a small table and a code example. "
        f"The main thing to get right here is {topic}. "
        f"Let me check the facts once more before writing. Everything is consistent, so I can write the answer now."
    )


def _markdown_answer(quote: str, turn: int, model: str, seed: _Seed, images: int = 0) -> str:
    first, second, third = (seed.pick(_TOPICS, slot) for slot in (0, 1, 2))
    function = seed.pick(_FUNCTION_NAMES, 4)
    seen = (
        f"The request carries {images} image{'s' if images != 1 else ''}: the simulator counts "
        f"{IMAGE_TOKENS} tokens for each but cannot look at them.\n\n"
        if images
        else ""
    )
    return (
        f"## Answer, turn {turn}\n\n"
        f"You asked: “{quote}”.\n\n"
        f"{seen}"
        f"Here is a structured reply from the **DeepSeek simulator**. It is deterministic, so the same "
        f"request always gets the same answer — handy for tests.\n\n"
        f"### Key points\n\n"
        f"- **{first.capitalize()}**: start with the simplest version that works.\n"
        f"- **{second.capitalize()}**: keep each part small and named for what it does.\n"
        f"- **{third.capitalize()}**: a little UTF-8 never hurts: café, naïve, 深度求索 ✓\n\n"
        f"### Summary\n\n"
        f"| Item | Value |\n"
        f"|------|-------|\n"
        f"| Model | `{model}` |\n"
        f"| Turn | {turn} |\n"
        f"| Focus | {first} |\n\n"
        f"### Example\n\n"
        f"```python\n"
        f"def {function}(question: str) -> str:\n"
        f'    """Return a one-line answer for the question."""\n'
        f'    return f"You asked: {{question!r}}"\n\n\n'
        f"print({function}({json.dumps(quote, ensure_ascii=False)}))\n"
        f"```\n\n"
        f"That is the whole answer for turn {turn}."
    )


def _json_answer(quote: str, turn: int, seed: _Seed) -> str:
    answer = {
        "question": quote,
        "turn": turn,
        "answer": f"A deterministic JSON reply about {seed.pick(_TOPICS, 0)}.",
        "points": [seed.pick(_TOPICS, slot) for slot in (1, 2, 3)],
        "ok": True,
    }
    return json.dumps(answer, indent=2, ensure_ascii=False)


def _prefix_continuation(prefix: str, quote: str, seed: _Seed) -> str:
    if prefix.count("```") % 2 == 1:  # the prefix opened a code fence: finish the code and close it
        function = seed.pick(_FUNCTION_NAMES, 4)
        opening = "" if prefix.endswith("\n") or not prefix else "\n"
        return f"{opening}def {function}() -> str:\n    return {json.dumps(quote, ensure_ascii=False)}\n```\n"
    spacer = "" if not prefix or prefix[-1].isspace() else " "
    return (
        f"{spacer}and this continues the given prefix for “{quote}”.\n\n"
        f"- **{seed.pick(_TOPICS, 0).capitalize()}** comes first.\n"
        f"- **{seed.pick(_TOPICS, 1).capitalize()}** comes next.\n"
    )


def _trailing_tool_results(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(tool name, result) for the tool messages since the last user message, when the history
    ends with tool messages (none otherwise)."""
    if not messages or messages[-1]["role"] != "tool":
        return []
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            if isinstance(call, dict):
                names[call.get("id", "")] = (call.get("function") or {}).get("name", "tool")
    results: list[tuple[str, str]] = []
    for message in reversed(messages):
        if message["role"] == "user":
            break
        if message["role"] == "tool":
            results.append((names.get(message.get("tool_call_id", ""), "tool"), message.get("content") or ""))
    return list(reversed(results))


def _tool_result_answer(quote: str, results: list[tuple[str, str]], request: ChatRequest) -> str:
    rows = "".join(f"| `{name}` | {short_quote(result, 50).replace('|', '/')} |\n" for name, result in results)
    name, result = results[-1]
    return (
        f"## Result\n\n"
        f"You asked: “{quote}”. The tool `{name}` returned:\n\n"
        f"> {short_quote(result, 200)}\n\n"
        f"- Based on that result, the answer is: **{short_quote(result, 80)}**.\n"
        f"- {len(results)} tool result(s) were used.\n\n"
        f"| Tool | Result |\n"
        f"|------|--------|\n"
        f"{rows}"
    )


def _shape_content(body: str, options: AnswerOptions, seed: _Seed) -> list[str]:
    """Apply the benchmark options: a forced length and/or one long fenced block."""
    wanted = options.answer_tokens
    if options.answer_style == "fence":
        return _long_fence(wanted if wanted is not None else 400, seed)
    pieces = split_tokens(body)
    if wanted is None:
        return pieces
    section = 1
    while len(pieces) < wanted:
        pieces += split_tokens(
            f"\n\n### More detail {section}\n\n"
            f"- Point {section}.1 about {seed.pick(_TOPICS, section)} with `inline code` and *emphasis*.\n"
            f"- Point {section}.2: the simulator keeps writing until the requested length.\n\n"
            f"Paragraph {section} adds plain prose so that long answers wrap over several lines in a terminal."
        )
        section += 1
    return pieces[:wanted]


def _long_fence(tokens: int, seed: _Seed) -> list[str]:
    function = seed.pick(_FUNCTION_NAMES, 4)
    lines = [
        f"def {function}_{index}(value: int) -> int:\n    return value * {index} + {index % 7}\n\n"
        for index in range(tokens // 8 + 4)
    ]
    body = split_tokens("```python\n" + "".join(lines))
    if tokens <= len(_CLOSING_FENCE):
        return body[:tokens]
    return body[: tokens - len(_CLOSING_FENCE)] + list(_CLOSING_FENCE)


def _tool_rounds_since_user(messages: list[dict[str, Any]]) -> int:
    """How many replies with tool calls came after the last user message."""
    rounds = 0
    for message in reversed(messages):
        if message["role"] == "user":
            break
        if message["role"] == "assistant" and message.get("tool_calls"):
            rounds += 1
    return rounds


def _mentions(function: dict[str, Any], text: str) -> bool:
    """The text names the function: its name (or with spaces for `_`), or the last word of its name
    (e.g. "date" for `current_date`), as whole words."""
    name = function["name"].lower()
    words = [w for w in re.split(r"[_\-]+", name) if w]
    candidates = {name, name.replace("_", " ")}
    if words and len(words[-1]) >= 4:
        candidates.add(words[-1])
    return any(re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text) for c in candidates)


def _choose_tool_calls(request: ChatRequest, question: str, seed: _Seed, rounds: int) -> list[PlannedToolCall]:
    """The calls of this reply: the tools the question names, in parallel.

    "A then B" calls the tools named in A, and after their results those named in B (one round
    each); a question that says "repeat" calls the last ones again after every result (a model
    that never stops calling, for round limits).
    """
    if not request.tools or request.tool_choice == "none":
        return []
    functions = [tool["function"] for tool in request.tools]
    segments = re.split(r"\bthen\b", question, flags=re.IGNORECASE)
    if rounds >= len(segments):
        if not re.search(r"\brepeat\b", question, re.IGNORECASE):
            return []
        rounds = len(segments) - 1
    segment = segments[rounds]
    text = segment.lower()
    chosen: list[dict[str, Any]]
    if isinstance(request.tool_choice, dict):
        if rounds:
            return []
        wanted = (request.tool_choice.get("function") or {}).get("name")
        chosen = [f for f in functions if f["name"] == wanted][:1]
    else:
        chosen = [f for f in functions if _mentions(f, text)]
        if not chosen and not rounds and any(word in text for word in _TOOL_WORDS):
            weather = [f for f in functions if "weather" in f["name"].lower()]
            chosen = weather[:1] if "weather" in text and weather else functions[:1]
        if not chosen and not rounds and request.tool_choice == "required":
            chosen = functions[:1]
    calls = []
    for index, function in enumerate(chosen):
        arguments = json.dumps(_arguments_for(function, segment), ensure_ascii=False)
        calls.append(
            PlannedToolCall(
                id=f"call_{index:02d}_{seed.alphanumeric(24, f'{rounds}:{index}' if rounds else str(index))}",
                name=function["name"],
                arguments=arguments,
                fragments=_awkward_fragments(arguments),
            )
        )
    return calls


def _arguments_for(function: dict[str, Any], question: str) -> dict[str, Any]:
    parameters = function.get("parameters") or {}
    properties = parameters.get("properties") or {}
    arguments: dict[str, Any] = {}
    numbers = [float(n) for n in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", question)]
    for name, schema in properties.items():
        schema = schema if isinstance(schema, dict) else {}
        kind = schema.get("type", "string")
        if schema.get("enum"):
            arguments[name] = schema["enum"][0]
        elif kind == "integer":
            arguments[name] = int(numbers.pop(0)) if numbers else 3
        elif kind == "number":
            arguments[name] = numbers.pop(0) if numbers else 1.5
        elif kind == "boolean":
            arguments[name] = True
        elif kind == "array":
            arguments[name] = []
        elif kind == "object":
            arguments[name] = {}
        else:
            arguments[name] = _string_argument(name, question)
    return arguments


def _string_argument(name: str, question: str) -> str:
    lowered = name.lower()
    if lowered in ("location", "city", "place"):
        found = re.search(r"\b(?:in|at|for)\s+([A-Z][\w\-]+)", question)
        return found.group(1) if found else "Hangzhou"
    if "date" in lowered or "day" in lowered:
        return "2025-12-01"
    if lowered in ("expression", "expr", "formula"):
        pieces = [m.strip() for m in re.findall(r"[-+*/%().\d\s^×÷]+", question) if re.search(r"\d", m)]
        return max(pieces, key=len) if pieces else short_quote(question, 40)
    if lowered in ("path", "file", "filename"):
        found = re.search(r"(?:^|\s)([~/][^\s\"'`]+)", question)
        return found.group(1).rstrip(".,;?!") if found else "."
    if lowered in ("name", "variable"):
        found = re.search(r"\b[A-Z][A-Z0-9_]{2,}\b", question)
        return found.group(0) if found else short_quote(question, 40)
    return short_quote(question, 40)


def _awkward_fragments(arguments: str) -> list[str]:
    """Split the arguments JSON the way the real stream does: inside keys, values and escapes."""
    if len(arguments) <= 2:
        return [arguments]
    fragments = [arguments[:2]]
    sizes = (5, 3, 7, 2, 6)
    position, step = 2, 0
    while position < len(arguments):
        size = sizes[step % len(sizes)]
        fragments.append(arguments[position : position + size])
        position += size
        step += 1
    return fragments


def fim_text(request: FimRequest) -> str:
    """Deterministic code to put between `prompt` and `suffix`."""
    seed = _Seed([request.rules.name, request.prompt, request.suffix])
    last_line = request.prompt.rstrip("\n").rsplit("\n", 1)[-1]
    indent = last_line[: len(last_line) - len(last_line.lstrip())]
    if last_line.rstrip().endswith(":"):
        indent += "    "
    opening = "" if request.prompt.endswith("\n") else "\n"
    name = seed.pick(_FUNCTION_NAMES, 0)
    return (
        f"{opening}{indent}# filled in by the DeepSeek simulator\n"
        f"{indent}result = {name}_{seed.alphanumeric(4, 'fim').lower()}()\n"
        f"{indent}return result\n"
    )
