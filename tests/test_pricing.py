"""Costs and token estimates against the reference §8.4/§8.5 tables, computed by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.client.events import Usage
from deepseek_tui.conversation import Conversation, cost_of, estimate_request_tokens, estimate_tokens
from deepseek_tui.conversation.pricing import price_message

USAGE = Usage(
    prompt_tokens=1_200_000, completion_tokens=500_000, cache_hit_tokens=200_000,
    cache_miss_tokens=1_000_000, reasoning_tokens=100_000,
)
NOON = datetime(2026, 9, 1, 12, 0, tzinfo=timezone.utc)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, 1, hour, minute, tzinfo=timezone.utc)


def parts(cost) -> tuple[float, float, float, float, str]:
    return (
        round(cost.cache_hit, 6), round(cost.cache_miss, 6), round(cost.output, 6),
        round(cost.total, 6), cost.currency,
    )


@pytest.mark.parametrize(
    ("model", "currency", "when", "expected"),
    [
        # V3.2: $0.028 / $0.28 / $0.42 and ¥0.2 / ¥2 / ¥3, no time of day
        ("deepseek-chat", "USD", at(3), (0.0056, 0.28, 0.21, 0.4956, "USD")),
        ("deepseek-reasoner", "CNY", at(3), (0.04, 2.0, 1.5, 3.54, "CNY")),
        # v4-flash off-peak $0.007 / $0.22 / $0.66, peak doubled
        ("deepseek-v4-flash", "USD", NOON, (0.0014, 0.22, 0.33, 0.5514, "USD")),
        ("deepseek-v4-flash", "USD", at(2, 30), (0.0028, 0.44, 0.66, 1.1028, "USD")),
        ("deepseek-v4-flash", "CNY", at(4), (0.01, 1.5, 2.25, 3.76, "CNY")),
        # v4-pro peak ¥0.30 / ¥9 / ¥27 from 06:00 UTC; off-peak again at 10:00
        ("deepseek-v4-pro", "CNY", at(6), (0.06, 9.0, 13.5, 22.56, "CNY")),
        ("deepseek-v4-pro", "CNY", at(10), (0.03, 4.5, 6.75, 11.28, "CNY")),
        ("deepseek-v4-pro", "USD", at(9, 59), (0.0088, 1.32, 1.98, 3.3088, "USD")),
    ],
)
def test_cost_of_matches_the_price_tables(model, currency, when, expected) -> None:
    assert parts(cost_of(USAGE, Catalogue().get(model), currency, when)) == expected


def test_peak_follows_utc_whatever_the_time_zone() -> None:
    beijing = timezone(timedelta(hours=8))
    morning = datetime(2026, 9, 1, 9, 30, tzinfo=beijing)  # 01:30 UTC: peak
    cost = cost_of(Usage(cache_miss_tokens=1_000_000), Catalogue().get("deepseek-v4-flash"),
                   "USD", morning)
    assert cost.total == pytest.approx(0.44)


def test_no_prices_means_no_cost() -> None:
    assert cost_of(USAGE, Catalogue().get("some-unknown-model"), "USD", NOON) is None
    assert cost_of(USAGE, Catalogue().get("deepseek-chat"), "EUR", NOON) is None


def test_price_message_uses_the_completion_time() -> None:
    conv = Conversation()
    conv.add_user("q")
    message = conv.start_assistant("deepseek-v4-flash", thinking=False)
    message.created_at = at(9, 59)
    conv.finish_assistant(message.id, usage=Usage(completion_tokens=1_000_000), completed_at=at(10))
    cost = price_message(message, Catalogue(), "USD")
    assert cost.total == pytest.approx(0.66)
    assert (message.cost, message.currency) == (pytest.approx(0.66), "USD")


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
            {"role": "assistant", "content": None, "reasoning_content": "b" * 10,  # 4 + 3
             "tool_calls": [{"function": {"name": "f" * 10, "arguments": "{}"}}]},  # 4+3+1
        ],
        "tools": [{"x": 1}],  # '[{"x": 1}]' = 10 chars → 3
    }
    assert estimate_request_tokens(body) == 34 + 7 + 8 + 3
