"""`deepseek-tui balance` and `deepseek-tui models`: account facts as text or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deepseek_tui import clock
from deepseek_tui.catalogue import Catalogue, ModelSpec, Prices, Pricing
from deepseek_tui.client import DeepSeekClient
from deepseek_tui.client.results import Balance, ModelInfo
from deepseek_tui.config import AppConfig
from deepseek_tui.pipe.console import Console
from deepseek_tui.pipe.exits import ExitCode
from deepseek_tui.pipe.runner import ClientFactory, run_with_client
from deepseek_tui.labels import CURRENCY_SIGNS

UNKNOWN_MODEL_NOTE = "not in catalogue: conservative defaults"
NOT_LISTED_NOTE = "not listed by /models (catalogue or config only)"
TOP_UP_URL = "https://platform.deepseek.com/top_up"


# --- balance -----------------------------------------------------------------------------------


def run_balance(
    config: AppConfig, console: Console, *, as_json: bool = False, client_factory: ClientFactory | None = None
) -> int:
    async def command(client: DeepSeekClient) -> int:
        balance = await client.balance()
        console.output(json.dumps(balance_json(balance), indent=2) + "\n" if as_json else balance_text(balance))
        return ExitCode.OK

    return run_with_client(config, console, command, client_factory)


def balance_json(balance: Balance) -> dict[str, Any]:
    """Amounts as decimal strings, exactly as the API gave them."""
    return {
        "is_available": balance.is_available,
        "balances": [
            {
                "currency": info.currency,
                "total": str(info.total),
                "granted": str(info.granted),
                "topped_up": str(info.topped_up),
            }
            for info in balance.infos
        ],
    }


def balance_text(balance: Balance) -> str:
    if balance.is_available:
        lines = ["available: yes"]
    else:
        lines = [f"available: no (top up at {TOP_UP_URL})"]
    for info in balance.infos:
        lines.append(f"{info.currency} {info.total} (granted {info.granted}, topped up {info.topped_up})")
    if not balance.infos:
        lines.append("no balance reported")
    return "\n".join(lines) + "\n"


# --- models ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRow:
    spec: ModelSpec
    listed: bool
    """Reported by `/models` (False: known only from the catalogue or the config)."""


def run_models(
    config: AppConfig, console: Console, *, as_json: bool = False, client_factory: ClientFactory | None = None
) -> int:
    async def command(client: DeepSeekClient) -> int:
        rows = merge_models(await client.list_models(), config.catalogue())
        now = clock.now()
        if as_json:
            console.output(json.dumps(models_json(rows, config.currency, now), indent=2) + "\n")
        else:
            console.output(models_text(rows, config.currency, now))
        return ExitCode.OK

    return run_with_client(config, console, command, client_factory)


def merge_models(listed: list[ModelInfo], catalogue: Catalogue) -> list[ModelRow]:
    """The models `/models` reports (in its order), then catalogue models it did not report."""
    listed_ids = [info.id for info in listed]
    rows = [ModelRow(catalogue.get(model_id), listed=True) for model_id in dict.fromkeys(listed_ids)]
    rows += [ModelRow(spec, listed=False) for spec in catalogue.specs() if spec.id not in listed_ids]
    return rows


def thinking_text(spec: ModelSpec) -> str:
    if spec.thinking_switch == "model":
        mode = "always thinks" if spec.thinking_default else "never thinks"
        partner = f"; switch to {spec.thinking_partner}" if spec.thinking_partner else ""
        return f"by model id ({mode}{partner})"
    if spec.thinking_switch == "parameter":
        return f"by the thinking parameter (default {'on' if spec.thinking_default else 'off'})"
    return "no thinking switch"


def features(spec: ModelSpec) -> list[str]:
    flags = {"json": spec.json_output, "tools": spec.tools, "prefix": spec.prefix_completion, "fim": spec.fim}
    return [name for name, present in flags.items() if present]


def price(amount: float, currency: str) -> str:
    """A per-1M price with as many decimals as it has (at least two)."""
    text = f"{amount:.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{CURRENCY_SIGNS.get(currency, currency + ' ')}{whole}.{decimals.ljust(2, '0')}"


def _prices_text(prices: Prices, currency: str) -> str:
    return (
        f"cache hit {price(prices.cache_hit, currency)} · cache miss {price(prices.cache_miss, currency)}"
        f" · output {price(prices.output, currency)}"
    )


def _windows(pricing: Pricing) -> list[str]:
    return [f"{w.start:%H:%M}-{w.end:%H:%M}" for w in pricing.peak_windows]


def models_text(rows: list[ModelRow], currency: str, now: datetime) -> str:
    blocks = []
    for row in rows:
        spec = row.spec
        lines = [f"{spec.id} ({spec.generation})"]
        if not spec.known:
            lines.append(f"  {UNKNOWN_MODEL_NOTE}")
        if not row.listed:
            lines.append(f"  {NOT_LISTED_NOTE}")
        lines.append(
            f"  context {spec.context_window:,} tokens · max output {spec.max_output_tokens:,}"
            f" (default {spec.default_max_tokens:,})"
        )
        efforts = ", ".join(spec.efforts) + f" (default {spec.default_effort})" if spec.efforts else "none"
        lines.append(f"  thinking: {thinking_text(spec)} · efforts: {efforts}")
        lines.append(f"  features: {', '.join(features(spec)) or 'none'}")
        pricing = spec.pricing
        if pricing is None or currency not in pricing.base:
            lines.append(f"  prices: unknown in {currency}")
        else:
            lines.append(f"  prices per 1M tokens ({currency}): {_prices_text(pricing.base[currency], currency)}")
            if pricing.peak and currency in pricing.peak:
                state = "now" if pricing.is_peak(now) else "not now"
                lines.append(
                    f"  peak pricing {', '.join(_windows(pricing))} UTC ({state}):"
                    f" {_prices_text(pricing.peak[currency], currency)}"
                )
        if spec.note and spec.known:
            lines.append(f"  note: {spec.note}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _prices_json(prices: Prices) -> dict[str, float]:
    return {"cache_hit": prices.cache_hit, "cache_miss": prices.cache_miss, "output": prices.output}


def models_json(rows: list[ModelRow], currency: str, now: datetime) -> list[dict[str, Any]]:
    result = []
    for row in rows:
        spec = row.spec
        prices: dict[str, Any] | None = None
        if spec.pricing is not None and currency in spec.pricing.base:
            prices = {"currency": currency, "per_tokens": 1_000_000, **_prices_json(spec.pricing.base[currency])}
            if spec.pricing.peak and currency in spec.pricing.peak:
                prices["peak"] = {
                    **_prices_json(spec.pricing.peak[currency]),
                    "windows_utc": _windows(spec.pricing),
                    "in_effect_now": spec.pricing.is_peak(now),
                }
        result.append(
            {
                "id": spec.id,
                "listed_by_api": row.listed,
                "in_catalogue": spec.known,
                "generation": spec.generation,
                "context_window": spec.context_window,
                "max_output_tokens": spec.max_output_tokens,
                "default_max_tokens": spec.default_max_tokens,
                "thinking": {
                    "switch": spec.thinking_switch,
                    "default": spec.thinking_default,
                    "partner": spec.thinking_partner,
                    "description": thinking_text(spec),
                },
                "efforts": list(spec.efforts),
                "default_effort": spec.default_effort,
                "features": features(spec),
                "prices": prices,
                "note": UNKNOWN_MODEL_NOTE if not spec.known else spec.note,
            }
        )
    return result
