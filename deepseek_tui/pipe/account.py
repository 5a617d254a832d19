"""`deepseek-tui balance` and `deepseek-tui models`: account facts as text or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deepseek_tui import clock
from deepseek_tui.catalogue import WEEKDAYS, Catalogue, ModelSpec, Prices, Pricing
from deepseek_tui.client import DeepSeekClient
from deepseek_tui.client.results import Balance, ModelInfo
from deepseek_tui.config import AppConfig
from deepseek_tui.labels import CURRENCY_SIGNS
from deepseek_tui.models_cache import ModelListing, ModelsCache
from deepseek_tui.pipe.console import Console
from deepseek_tui.pipe.exits import ExitCode
from deepseek_tui.pipe.runner import ClientFactory, run_with_client

UNKNOWN_MODEL_NOTE = "not in catalogue: conservative defaults, price unknown"
NOT_LISTED_NOTE = "not listed by /models: retired (or known only from the config), not offered"
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
        catalogue = config.catalogue()
        listed = await client.list_models()
        listing = ModelListing(tuple(info.id for info in listed), clock.now())
        try:
            ModelsCache(config.effective_base_url()).save(listing)  # the TUI starts with it
        except OSError:
            pass
        rows = merge_models(listed, catalogue)
        now = clock.now()
        if as_json:
            document = {"models": models_json(rows, config.currency, now), "retired": retired_json(catalogue)}
            console.output(json.dumps(document, indent=2) + "\n")
        else:
            console.output(models_text(rows, config.currency, now) + retired_text(catalogue))
        return ExitCode.OK

    return run_with_client(config, console, command, client_factory)


def merge_models(listed: list[ModelInfo], catalogue: Catalogue) -> list[ModelRow]:
    """The models `/models` reports (in its order), then catalogue models it did not report."""
    catalogue.use_listing(info.id for info in listed)
    listed_ids = catalogue.offered_ids()
    rows = [ModelRow(catalogue.get(model_id), listed=True) for model_id in listed_ids]
    rows += [ModelRow(catalogue.get(model_id), listed=False) for model_id in catalogue.unlisted_ids()]
    return rows


def thinking_text(spec: ModelSpec) -> str:
    if spec.thinking_switch == "model":
        mode = "always thinks" if spec.thinking_default else "never thinks"
        partner = f"; switch to {spec.thinking_partner}" if spec.thinking_partner else ""
        return f"by model id ({mode}{partner})"
    if spec.thinking_switch == "parameter":
        return f"by the thinking parameter (default {'on' if spec.thinking_default else 'off'})"
    return "no thinking switch"


def efforts_text(spec: ModelSpec) -> str:
    if not spec.efforts:
        return "none"
    text = ", ".join(spec.efforts) + f" (default {spec.default_effort}"
    if spec.thinking_off_effort:
        text += f"; {spec.thinking_off_effort} = no thinking"
    if spec.effort_aliases:
        text += "; also " + ", ".join(f"{a} = {e}" for a, e in spec.effort_aliases.items())
    return text + ")"


def budget_text(spec: ModelSpec) -> str:
    parts = [f"default {spec.default_max_tokens:,}"]
    if spec.default_max_tokens_thinking:
        parts.append(f"thinking {spec.default_max_tokens_thinking:,}")
    parts += [f"effort {effort} {tokens:,}" for effort, tokens in spec.default_max_tokens_effort.items()]
    return "; ".join(parts)


def features(spec: ModelSpec) -> list[str]:
    flags = {
        "json": spec.json_output,
        "tools": spec.tools,
        "prefix": spec.prefix_completion,
        "fim": spec.fim,
        "vision": spec.vision,
    }
    return [name for name, present in flags.items() if present]


def price(amount: float | None, currency: str) -> str:
    """A per-1M price with as many decimals as it has (at least two); "unknown" when not known."""
    if amount is None:
        return "unknown"
    text = f"{amount:.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{CURRENCY_SIGNS.get(currency, currency + ' ')}{whole}.{decimals.ljust(2, '0')}"


def _prices_text(prices: Prices | None, currency: str) -> str:
    if prices is None:
        return "unknown"
    return (
        f"cache hit {price(prices.cache_hit, currency)} · cache miss {price(prices.cache_miss, currency)}"
        f" · output {price(prices.output, currency)}"
    )


def _currencies(pricing: Pricing, currency: str) -> list[str]:
    """The configured currency first (even when unknown), then the others the data has."""
    return list(dict.fromkeys([currency, *pricing.currencies()]))


def _peak_hours(pricing: Pricing) -> str:
    schedule = pricing.schedule
    assert schedule is not None
    return f"{schedule.days_text()} {', '.join(str(w) for w in schedule.windows)} UTC"


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
            f"  context {spec.context_window:,} tokens · max output {spec.max_output_tokens:,} ({budget_text(spec)})"
        )
        lines.append(f"  thinking: {thinking_text(spec)} · efforts: {efforts_text(spec)}")
        lines.append(f"  features: {', '.join(features(spec)) or 'none'}")
        pricing = spec.pricing
        if pricing is None:
            lines.append("  prices: unknown")
        else:
            for code in _currencies(pricing, currency):
                if pricing.peak:
                    lines.append(
                        f"  prices per 1M tokens ({code}): off-peak {_prices_text(pricing.off_peak.get(code), code)}"
                    )
                    lines.append(f"    peak {_prices_text(pricing.peak.get(code), code)}")
                else:
                    lines.append(f"  prices per 1M tokens ({code}): {_prices_text(pricing.off_peak.get(code), code)}")
            if pricing.peak and pricing.schedule is not None:
                state = "now" if pricing.is_peak(now) else "not now"
                lines.append(f"  peak pricing {_peak_hours(pricing)} ({state})")
        if spec.note and spec.known:
            lines.append(f"  note: {spec.note}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def retired_text(catalogue: Catalogue) -> str:
    retired = catalogue.retired_models()
    if not retired:
        return ""
    lines = ["", "retired names (never sent; mapped to their successor):"]
    for record in retired:
        when = f", retired {record.retired_on}" if record.retired_on else ""
        lines.append(f"  {record.id} → {record.describe()}{when}")
    return "\n".join(lines) + "\n"


def _prices_json(prices: Prices | None) -> dict[str, float | None] | None:
    if prices is None:
        return None
    return {"cache_hit": prices.cache_hit, "cache_miss": prices.cache_miss, "output": prices.output}


def models_json(rows: list[ModelRow], currency: str, now: datetime) -> list[dict[str, Any]]:
    result = []
    for row in rows:
        spec = row.spec
        prices: dict[str, Any] | None = None
        if spec.pricing is not None:
            pricing = spec.pricing
            prices = {
                "per_tokens": 1_000_000,
                "currencies": {
                    code: {
                        "off_peak": _prices_json(pricing.off_peak.get(code)),
                        "peak": _prices_json(pricing.peak.get(code)),
                    }
                    for code in _currencies(pricing, currency)
                },
                "peak_hours": None,
            }
            if pricing.peak and pricing.schedule is not None:
                prices["peak_hours"] = {
                    "days": [WEEKDAYS[d] for d in sorted(pricing.schedule.days)],
                    "windows_utc": [str(w) for w in pricing.schedule.windows],
                    "in_effect_now": pricing.is_peak(now),
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
                "default_max_tokens_thinking": spec.default_max_tokens_thinking,
                "default_max_tokens_effort": dict(spec.default_max_tokens_effort),
                "thinking": {
                    "switch": spec.thinking_switch,
                    "default": spec.thinking_default,
                    "partner": spec.thinking_partner,
                    "description": thinking_text(spec),
                },
                "efforts": list(spec.efforts),
                "effort_aliases": dict(spec.effort_aliases),
                "default_effort": spec.default_effort,
                "features": features(spec),
                "prices": prices,
                "note": UNKNOWN_MODEL_NOTE if not spec.known else spec.note,
            }
        )
    return result


def retired_json(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "successor": r.successor, "thinking": r.thinking, "retired_on": r.retired_on}
        for r in catalogue.retired_models()
    ]
