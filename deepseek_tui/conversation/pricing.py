"""What a request cost, from its usage and the catalogue's prices (reference §8.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from deepseek_tui.catalogue import Catalogue, ModelSpec
from deepseek_tui.usage import Usage
from deepseek_tui.conversation.model import Message

PER = 1_000_000
"""Prices are per 1M tokens."""


@dataclass(frozen=True)
class Cost:
    cache_hit: float
    cache_miss: float
    output: float
    """Completion tokens, reasoning included (billed alike)."""
    total: float
    currency: str


def cost_of(usage: Usage, spec: ModelSpec, currency: str, when: datetime) -> Cost | None:
    """The cost of one request that completed at `when` (peak prices follow the completion time).

    None when the model has no prices in that currency.
    """
    if spec.pricing is None or currency not in spec.pricing.base:
        return None
    prices = spec.pricing.prices_at(currency, when)
    hit = usage.cache_hit_tokens * prices.cache_hit / PER
    miss = usage.cache_miss_tokens * prices.cache_miss / PER
    output = usage.completion_tokens * prices.output / PER
    return Cost(hit, miss, output, hit + miss + output, currency)


def add_request_usage(
    message: Message, usage: Usage, catalogue: Catalogue, currency: str, *, estimated: bool = False
) -> None:
    """Add one request's usage and cost to `message` (a continued reply is several requests).

    Each request is priced at its own completion time (`message.completed_at`, set just before),
    in the currency of the reply's earlier requests if they were priced, else in `currency`.
    """
    before_usage, before_cost = message.usage, message.cost
    message.add_usage(usage, estimated=estimated)
    if message.model is None:
        return
    if before_usage is not None and before_cost is None:  # earlier requests unpriced: all or nothing
        price_message(message, catalogue, currency)
        return
    when = message.completed_at or message.created_at
    cost = cost_of(usage, catalogue.get(message.model), message.currency or currency, when)
    if cost is None:
        message.cost = None if before_usage is not None else message.cost
        return
    message.cost = (before_cost or 0.0) + cost.total
    message.currency = cost.currency


def price_message(message: Message, catalogue: Catalogue, currency: str) -> Cost | None:
    """Set `message.cost`/`currency` from its usage, model and completion time; returns the cost."""
    if message.usage is None or message.model is None:
        return None
    when = message.completed_at or message.created_at
    cost = cost_of(message.usage, catalogue.get(message.model), currency, when)
    if cost is not None:
        message.cost = cost.total
        message.currency = cost.currency
    return cost
