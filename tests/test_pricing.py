"""Costs and token estimates against the reference §12 (V4.1) price table, computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from deepseek_tui import labels
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.client.events import Usage
from deepseek_tui.conversation import Conversation, cost_of, estimate_request_tokens, estimate_tokens
from deepseek_tui.conversation.pricing import add_request_usage, price_message

USAGE = Usage(
    prompt_tokens=1_200_000,
    completion_tokens=500_000,
    cache_hit_tokens=200_000,
    cache_miss_tokens=1_000_000,
    reasoning_tokens=100_000,
)
NO_HITS = Usage(prompt_tokens=1_000_000, completion_tokens=500_000, cache_miss_tokens=1_000_000)


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    """25 November 2026 is a Wednesday, 28 a Saturday, 30 a Monday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


SATURDAY = 28


def parts(cost) -> tuple[float, float, float, float, str]:
    return (
        round(cost.cache_hit, 6),
        round(cost.cache_miss, 6),
        round(cost.output, 6),
        round(cost.total, 6),
        cost.currency,
    )


@pytest.mark.parametrize(
    ("model", "currency", "when", "expected"),
    [
        # deepseek-flash off-peak $0.003 / $0.15 / $0.60, peak doubled, on weekdays only
        ("deepseek-flash", "USD", at(12), (0.0006, 0.15, 0.3, 0.4506, "USD")),
        ("deepseek-flash", "USD", at(2, 30), (0.0012, 0.3, 0.6, 0.9012, "USD")),
        ("deepseek-flash", "USD", at(2, 30, SATURDAY), (0.0006, 0.15, 0.3, 0.4506, "USD")),
        ("deepseek-flash", "USD", at(4), (0.0006, 0.15, 0.3, 0.4506, "USD")),  # 04:00: peak is over
        # deepseek-v4-pro unchanged: peak ¥0.30 / ¥9 / ¥27 from 06:00 UTC; off-peak again at 10:00
        ("deepseek-v4-pro", "CNY", at(6), (0.06, 9.0, 13.5, 22.56, "CNY")),
        ("deepseek-v4-pro", "CNY", at(10), (0.03, 4.5, 6.75, 11.28, "CNY")),
        ("deepseek-v4-pro", "CNY", at(6, day=SATURDAY), (0.03, 4.5, 6.75, 11.28, "CNY")),
        ("deepseek-v4-pro", "USD", at(9, 59), (0.0088, 1.32, 1.98, 3.3088, "USD")),
        # a retired name costs what its successor costs
        ("deepseek-reasoner", "USD", at(12), (0.0006, 0.15, 0.3, 0.4506, "USD")),
    ],
)
def test_cost_of_matches_the_price_table(model, currency, when, expected) -> None:
    assert parts(cost_of(USAGE, Catalogue().get(model), currency, when)) == expected


def test_cny_flash_is_priced_only_where_the_figures_are_known() -> None:
    flash = Catalogue().get("deepseek-flash")
    # Peak: cache miss ¥2 and output ¥8 are known [3p], the cache-hit price is not.
    assert parts(cost_of(NO_HITS, flash, "CNY", at(7))) == (0.0, 2.0, 4.0, 6.0, "CNY")
    assert cost_of(USAGE, flash, "CNY", at(7)) is None  # it has cache hits: unknown, not a guess
    assert cost_of(NO_HITS, flash, "CNY", at(12)) is None  # no off-peak CNY prices at all
    assert cost_of(NO_HITS, flash, "CNY", at(7, day=SATURDAY)) is None


def test_peak_follows_the_utc_weekday_and_hour_whatever_the_time_zone() -> None:
    beijing = timezone(timedelta(hours=8))
    flash = Catalogue().get("deepseek-flash")
    miss = Usage(cache_miss_tokens=1_000_000)
    wednesday_morning = datetime(2026, 11, 25, 9, 30, tzinfo=beijing)  # 01:30 UTC Wednesday
    saturday_morning = datetime(2026, 11, 28, 9, 30, tzinfo=beijing)  # 01:30 UTC Saturday
    monday_early = datetime(2026, 11, 30, 8, 30, tzinfo=beijing)  # 00:30 UTC Monday: not yet
    assert cost_of(miss, flash, "USD", wednesday_morning).total == pytest.approx(0.30)
    assert cost_of(miss, flash, "USD", saturday_morning).total == pytest.approx(0.15)
    assert cost_of(miss, flash, "USD", monday_early).total == pytest.approx(0.15)


def test_no_prices_means_no_cost() -> None:
    assert cost_of(USAGE, Catalogue().get("some-unknown-model"), "USD", at(12)) is None
    assert cost_of(USAGE, Catalogue().get("deepseek-flash"), "EUR", at(12)) is None


def test_price_message_uses_the_completion_time() -> None:
    conv = Conversation()
    conv.add_user("q")
    message = conv.start_assistant("deepseek-flash", thinking=False)
    message.created_at = at(9, 59)
    conv.finish_assistant(message.id, usage=Usage(completion_tokens=1_000_000), completed_at=at(10))
    cost = price_message(message, Catalogue(), "USD")
    assert cost.total == pytest.approx(0.60)
    assert (message.cost, message.currency) == (pytest.approx(0.60), "USD")


def test_a_recorded_cost_is_never_priced_again() -> None:
    """An old session's costs are history: today's prices must not rewrite them."""
    conv = Conversation()
    conv.add_user("q")
    old = conv.start_assistant("deepseek-reasoner", thinking=True)  # a reply from the V3.2 days
    conv.finish_assistant(old.id, usage=Usage(completion_tokens=1_000_000), completed_at=at(12))
    old.cost, old.currency = 2.19, "USD"
    assert price_message(old, Catalogue(), "USD") is None
    assert old.cost == 2.19
    # Continuing it adds only the new request, at today's price of the successor.
    old.completed_at = at(12, 5)
    add_request_usage(old, Usage(completion_tokens=1_000_000), Catalogue(), "USD")
    assert old.cost == pytest.approx(2.19 + 0.60)


def test_a_reply_with_an_unpriced_request_stays_unknown() -> None:
    conv = Conversation()
    conv.add_user("q")
    reply = conv.start_assistant("deepseek-flash", thinking=False)
    conv.finish_assistant(reply.id, completed_at=at(12))
    add_request_usage(reply, NO_HITS, Catalogue(), "CNY")  # off-peak CNY: unknown
    assert reply.cost is None
    reply.completed_at = at(7)  # continued at peak, where this usage could be priced
    add_request_usage(reply, NO_HITS, Catalogue(), "CNY")
    assert reply.cost is None  # half known is not known
    assert labels.message_cost(reply) == "cost unknown"


@pytest.mark.parametrize(
    ("when", "currency", "expected"),
    [
        (at(7, 30), "USD", "peak ×2 until 10:00 UTC"),
        (at(1), "USD", "peak ×2 until 04:00 UTC"),
        (at(7, 30), "CNY", "peak until 10:00 UTC"),  # no off-peak CNY price: no factor
        (at(12), "USD", ""),
        (at(7, 30, SATURDAY), "USD", ""),
    ],
)
def test_peak_label(when, currency, expected) -> None:
    assert labels.peak_label(Catalogue().get("deepseek-flash"), currency, when) == expected


def test_peak_label_follows_the_clock(any_moment, pinned_clock) -> None:
    label = labels.peak_label(Catalogue().get("deepseek-v4-pro"), "USD", pinned_clock.now())
    assert label == {"weekday-peak": "peak ×2 until 10:00 UTC"}.get(any_moment, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a" * 10, 3),  # 10 × 0.3
        ("hello world", 4),  # 11 × 0.3 = 3.3 → 4
        ("你好世界", 3),  # 4 × 0.6 = 2.4 → 3
        ("日本語のテキスト", 5),  # 8 × 0.6 = 4.8
        ("한국어", 2),  # 3 × 0.6 = 1.8
        ("привет", 3),  # 6 × 0.4 = 2.4
        ("😀😀", 2),  # 2 × 1.0
        ("ab你😀", 3),  # 0.6 + 0.6 + 1.0 = 2.2
    ],
)
def test_estimate_tokens(text: str, expected: int) -> None:
    assert estimate_tokens(text) == expected


def test_estimate_request_tokens_counts_messages_calls_and_tools() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "a" * 100},  # 4 + 30
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "b" * 10,  # 4 + 3
                "tool_calls": [{"function": {"name": "f" * 10, "arguments": "{}"}}],
            },  # 4+3+1
        ],
        "tools": [{"x": 1}],  # '[{"x": 1}]' = 10 chars → 3
    }
    assert estimate_request_tokens(body) == 34 + 7 + 8 + 3


def test_the_conversation_total_says_what_is_unknown() -> None:
    conv = Conversation()
    assert labels.conversation_cost(conv, "USD") == "Σ $0"
    conv.add_user("q")
    priced = conv.start_assistant("deepseek-flash", thinking=False)
    conv.finish_assistant(priced.id, usage=NO_HITS, completed_at=at(12))
    price_message(priced, Catalogue(), "USD")
    assert labels.conversation_cost(conv, "USD") == "Σ $0.4500"
    conv.add_user("q2")
    unpriced = conv.start_assistant("deepseek-v9-mystery", thinking=False)
    conv.finish_assistant(unpriced.id, usage=NO_HITS, completed_at=at(12))
    price_message(unpriced, Catalogue(), "USD")
    assert labels.conversation_cost(conv, "USD") == "Σ $0.4500 + unknown"
    only_unknown = Conversation()
    only_unknown.add_user("q")
    reply = only_unknown.start_assistant("deepseek-v9-mystery", thinking=False)
    only_unknown.finish_assistant(reply.id, usage=NO_HITS)
    assert labels.conversation_cost(only_unknown, "USD") == "Σ cost unknown"
