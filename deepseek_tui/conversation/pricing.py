"""What a request cost, from its usage and the catalogue's prices (reference §8.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from deepseek_tui.catalogue import Catalogue, ModelSpec
from deepseek_tui.conversation.model import Message
from deepseek_tui.usage import Usage

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

    None when it cannot be known: the model has no prices in that currency at that moment, or a
    price the usage needs is unknown (a part with no tokens needs none). Never a guess.
    """
    prices = spec.pricing.prices_at(currency, when) if spec.pricing is not None else None
    if prices is None:
        return None
    amounts = []
    for tokens, price in (
        (usage.cache_hit_tokens, prices.cache_hit),
        (usage.cache_miss_tokens, prices.cache_miss),
        (usage.completion_tokens, prices.output),
    ):
        if tokens and price is None:
            return None
        amounts.append(tokens * (price or 0.0) / PER)
    hit, miss, output = amounts
    return Cost(hit, miss, output, hit + miss + output, currency)


def add_request_usage(
    message: Message, usage: Usage, catalogue: Catalogue, currency: str, *, estimated: bool = False
) -> None:
    """Add one request's usage and cost to `message` (a continued reply is several requests).

    Each request is priced at its own completion time (`message.completed_at`, set just before),
    in the currency of the reply's earlier requests if they were priced, else in `currency`. The
    cost is all or nothing: once one request of the reply could not be priced, the reply's cost
    stays unknown. Costs already recorded are only ever added to, never priced again.
    """
    first_request = message.usage is None
    message.add_usage(usage, estimated=estimated)
    if message.model is None or (not first_request and message.cost is None):
        return
    when = message.completed_at or message.created_at
    cost = cost_of(usage, catalogue.get(message.model), message.currency or currency, when)
    if cost is None:
        message.cost = None
        return
    message.cost = (message.cost or 0.0) + cost.total
    message.currency = cost.currency


def price_message(message: Message, catalogue: Catalogue, currency: str) -> Cost | None:
    """Price a reply's usage as one request completed at its completion time; returns the cost.

    For building a reply that has no recorded cost yet (tests, scenes). A reply that already
    has a cost keeps it: a recorded cost is history and is never priced again.
    """
    if message.usage is None or message.model is None or message.cost is not None:
        return None
    when = message.completed_at or message.created_at
    cost = cost_of(message.usage, catalogue.get(message.model), currency, when)
    if cost is not None:
        message.cost = cost.total
        message.currency = cost.currency
    return cost
