"""Short human labels for messages, money and tokens (pure functions; used by the UI and pipe mode)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from deepseek_tui.catalogue import Catalogue, ModelSpec
from deepseek_tui.conversation.model import Conversation, Message, ToolRun
from deepseek_tui.conversation.pricing import cost_of
from deepseek_tui.usage import Usage

if TYPE_CHECKING:
    from deepseek_tui.client.results import Balance

CURRENCY_SIGNS = {"USD": "$", "CNY": "¥"}
NO_BREAK = "\u00a0"
"""Between a number and its unit ("0.2 s"), so a label that wraps keeps them on one line."""
UNKNOWN_COST = "cost unknown"
"""Where a price is not known: said as such, never guessed."""


def money(amount: float | None, currency: str | None) -> str:
    if amount is None or currency is None:
        return ""
    sign = CURRENCY_SIGNS.get(currency, f"{currency} ")
    if amount == 0:
        return f"{sign}0"
    if amount < 0.01:
        return f"{sign}{amount:.5f}"
    return f"{sign}{amount:.4f}" if amount < 1 else f"{sign}{amount:.2f}"


def tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 10_000 else f"{count:,}"


def mode_label(catalogue: Catalogue, model: str, thinking: bool, effort: str | None = None) -> str:
    """ "chat" or "reasoner" (with the effort where the model takes one)."""
    spec = catalogue.get(model)
    if not spec.thinks(thinking, effort):
        return "chat"
    if spec.efforts and catalogue.retired(model) is None:  # a retired name's replies had no effort
        return f"reasoner·{spec.resolve_effort(effort) or spec.default_effort}"
    return "reasoner"


ESTIMATED = "≈"
"""Marks figures estimated offline (a reply that ended before DeepSeek reported its usage)."""


def usage_label(usage: Usage | None, *, compact: bool = False, estimated: bool = False) -> str:
    """Prompt tokens with the cache-hit share, completion tokens with the thinking part.

    `compact` is the status line's form: ↑prompt N% hit ↓completion (thinking is in the
    answer's label). `estimated` figures start with ≈ and have no cache share (unknown).
    """
    if usage is None:
        return ""
    cached = usage.cache_hit_tokens / usage.prompt_tokens if usage.prompt_tokens else 0.0
    prompt, completion = tokens(usage.prompt_tokens), tokens(usage.completion_tokens)
    if compact:
        text = f"{ESTIMATED}↑{prompt} ↓{completion}" if estimated else f"↑{prompt} {cached:.0%} hit ↓{completion}"
    elif estimated:
        text = f"{ESTIMATED} in {prompt} · out {completion}"
    else:
        text = f"in {prompt} ({cached:.0%} cached) · out {completion}"
    if usage.reasoning_tokens and not compact:
        text += f" ({tokens(usage.reasoning_tokens)} thinking)"
    return text


def thought_title(message: Message) -> str:
    seconds = message.reasoning_seconds
    if seconds is None:
        return "Thought"
    return f"Thought for {seconds:.0f}{NO_BREAK}s" if seconds >= 1 else f"Thought for <1{NO_BREAK}s"


STATUS_NOTES = {
    "partial": "interrupted",
    "cancelled": "cancelled",
    "failed": "failed",
    "streaming": "streaming…",
}


def answer_meta(
    message: Message,
    catalogue: Catalogue,
    branch: tuple[int, int] | None = None,
    conversation: Conversation | None = None,
) -> str:
    """The label line above an answer: model, mode, tokens, cost, time, state, branch.

    An answer that ends a tool loop (given its `conversation`) says how many rounds of tool
    calls it took, and its tokens and cost are those of every request of the loop.
    """
    parts = [message.model or "?", mode_label(catalogue, message.model or "", message.thinking, message.effort)]
    replies = conversation.exchange(message.id) if conversation is not None and message.id in conversation else []
    rounds = sum(1 for reply in replies[:-1] if reply.tool_calls)
    calls_cancelled = (
        bool(message.tool_calls)
        and conversation is not None
        and any(
            result.tool_run is not None and result.tool_run.outcome == "cancelled"
            for result in conversation.tool_results(message.id).values()
        )
    )  # the loop was stopped at this reply's calls: it ends the loop
    ends_loop = not message.tool_calls or calls_cancelled or message.status != "complete"  # calls cut off: not run
    if rounds and ends_loop:
        parts.append(f"{rounds} tool round{'s' if rounds != 1 else ''}")
        parts += exchange_usage(replies)
    elif message.usage is not None:
        parts.append(usage_label(message.usage, estimated=message.usage_estimated))
        parts.append(message_cost(message))
    if message.completed_at is not None:
        seconds = (message.completed_at - message.created_at).total_seconds()
        parts.append(f"{seconds:.1f}{NO_BREAK}s")
    if message.finish_reason == "length":
        parts.append("cut off at max_tokens")
    if message.status in STATUS_NOTES:
        parts.append(STATUS_NOTES[message.status])
    elif calls_cancelled:
        parts.append(STATUS_NOTES["cancelled"])
    if branch and branch[1] > 1:
        parts.append(f"‹{branch[0]}/{branch[1]}›")
    return " · ".join(parts)


def exchange_usage(replies: list[Message]) -> list[str]:
    """Tokens and cost of all the requests of a tool loop, e.g. ["in 3.2k … · out 410", "$0.0012 (3 requests)"]."""
    used = [reply for reply in replies if reply.usage is not None]
    if not used:
        return []
    total = used[0].usage
    for reply in used[1:]:
        total = total + reply.usage  # type: ignore[operator]
    estimated = any(reply.usage_estimated for reply in used)
    currencies = {reply.currency for reply in used}
    requests = f"({len(used)} requests)"
    if any(reply.cost is None for reply in used) or len(currencies) != 1:
        cost = UNKNOWN_COST
    else:
        cost = money(sum(reply.cost or 0.0 for reply in used), used[0].currency)
        cost = f"{ESTIMATED}{cost}" if estimated else cost
    return [usage_label(total, estimated=estimated), f"{cost} {requests}"]


TOOL_STATES = {
    "ok": "✓",
    "error": "✗ error",
    "refused": "refused",
    "cancelled": "cancelled",
    "skipped": "not run (tool round limit)",
}


def tool_call_title(label: str, run: ToolRun | None, *, asking: bool = False, running: bool = False) -> str:
    """The line of a tool call block: what ran and how it went, e.g. "⚙ demo · calculate · ✓ 0.01 s"."""
    if run is None:
        state = "waiting for your answer" if asking else ("running…" if running else "not answered")
        return f"⚙ {label} · {state}"
    parts = [f"⚙ {label}", TOOL_STATES.get(run.outcome, run.outcome)]
    if run.seconds is not None and run.outcome in ("ok", "error"):
        parts[-1] += f" {run.seconds:.2f} s" if run.seconds < 10 else f" {run.seconds:.0f} s"
    if run.full_chars is not None:
        parts.append(f"output cut to the size limit ({run.full_chars:,} characters)")
    return " · ".join(parts)


def message_cost(message: Message) -> str:
    """The reply's cost, "≈" first when part of it is estimated; "cost unknown" when it has
    usage but no price was known ("" without usage)."""
    if message.usage is None:
        return ""
    if message.cost is None:
        return UNKNOWN_COST
    label = money(message.cost, message.currency)
    return f"{ESTIMATED}{label}" if message.usage_estimated else label


def conversation_cost(conversation: Conversation, currency: str) -> str:
    """The status line's "Σ $0.0123": what every branch cost; "+ unknown" when some reply's cost
    is not known (no price was known for it)."""
    total = conversation.total_cost(currency)
    unpriced = any(m.usage is not None and m.cost is None for m in conversation.messages)
    sign = ESTIMATED if conversation.cost_is_estimated() else ""
    if total is None:
        return f"Σ {UNKNOWN_COST}" if unpriced else f"Σ {money(0.0, currency)}"
    return f"Σ {sign}{money(total, currency)}" + (" + unknown" if unpriced else "")


def peak_label(spec: ModelSpec, currency: str, when: datetime) -> str:
    """ "peak ×2 until 10:00 UTC" while peak prices are in force for this model, else ""."""
    pricing = spec.pricing
    ends = pricing.peak_ends(when) if pricing is not None else None
    if pricing is None or ends is None:
        return ""
    factor = pricing.peak_factor(currency)
    times = f" ×{factor:g}" if factor else ""
    return f"peak{times} until {ends:%H:%M} UTC"


def user_meta(branch: tuple[int, int] | None = None) -> str:
    if branch and branch[1] > 1:
        return f"You ‹{branch[0]}/{branch[1]}›"
    return "You"


def balance_label(balance: "Balance") -> str:
    parts = [f"{CURRENCY_SIGNS.get(info.currency, info.currency + ' ')}{info.total:.2f}" for info in balance.infos]
    label = "bal " + " ".join(parts) if parts else "bal ?"
    return label if balance.is_available else label + " (insufficient)"


def empty_answer_note(message: Message) -> str:
    """What to show in place of an answer that has no text ("" when nothing needs saying)."""
    if not message.content and message.finish_reason == "length":
        return "*The reply ran out of max_tokens before it said anything (thinking can use the whole budget).*"
    return ""


CONTINUE_HINT = "F5 continues it."


def error_note(message: Message) -> str:
    """Why an answer stopped early, for the line under it ("" when it ended normally); a partial
    answer (dropped, cut short, aborted by DeepSeek) says that it can be continued."""
    if message.status in ("partial", "failed") and message.error:
        if message.status == "partial" and "F5" not in message.error:
            return f"{message.error} {CONTINUE_HINT}"
        return message.error
    return ""


def usage_and_cost(usage: Usage | None, spec: ModelSpec, currency: str, when: datetime) -> tuple[str, str]:
    """(usage label, cost label) of one request; empty strings without usage, "cost unknown"
    when no price is known."""
    if usage is None:
        return "", ""
    cost = cost_of(usage, spec, currency, when)
    return usage_label(usage), money(cost.total, cost.currency) if cost is not None else UNKNOWN_COST
