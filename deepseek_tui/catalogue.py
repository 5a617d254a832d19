"""The model catalogue: everything the app knows about each DeepSeek model, as data.

No other module tests model names. Code asks the catalogue ("how is thinking switched for this
model?", "what does a cache miss cost?") and the answers come from `BUILTIN_MODELS`, overridden or
extended by the `[models.<id>]` tables of the config file. A model that only `/models` reports gets
`conservative_spec()`.

Facts come from ../shared/reference/deepseek-api.md §0, §2.2, §6, §8 (V3.2 and V4 eras).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from typing import Any, Iterable, Literal, Mapping

ThinkingSwitch = Literal["model", "parameter", "none"]
"""How thinking is turned on: by choosing another model id (V3.x chat/reasoner pair), by the
`thinking` request object (V4), or not at all."""

PassbackRule = Literal["never", "tool_loop", "tool_turns"]
"""When an assistant message's `reasoning_content` goes back to the API (reference §6):
never (R1 … V3.2-Exp, a 400 if sent); tool_loop (V3.2: only assistant messages after the last
user message, i.e. inside the current tool loop); tool_turns (V4: every assistant turn that called
tools, in all later requests)."""

Currency = Literal["USD", "CNY"]

SAMPLING_PARAMETERS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")

FIM_MAX_TOKENS = 4096
"""The API's limit on `max_tokens` for FIM completions (all FIM-capable models; reference §7.1)."""


@dataclass(frozen=True)
class Prices:
    """Price per 1M tokens in one currency."""

    cache_hit: float
    cache_miss: float
    output: float


@dataclass(frozen=True)
class PeakWindow:
    """A daily UTC time window [start, end) during which peak prices apply."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Pricing:
    """Base prices per currency; during a peak window `peak` prices apply instead."""

    base: Mapping[str, Prices]
    peak: Mapping[str, Prices] = field(default_factory=dict)
    peak_windows: tuple[PeakWindow, ...] = ()

    def prices_at(self, currency: str, when: datetime) -> Prices:
        """Prices in force when a request completed (billing follows the completion time)."""
        if self.peak and self.peak_windows:
            utc = when.astimezone(timezone.utc).time()
            if any(window.contains(utc) for window in self.peak_windows):
                return self.peak[currency]
        return self.base[currency]

    def is_peak(self, when: datetime) -> bool:
        utc = when.astimezone(timezone.utc).time()
        return bool(self.peak) and any(w.contains(utc) for w in self.peak_windows)


@dataclass(frozen=True)
class ModelSpec:
    """What the app needs to know to talk to one model id."""

    id: str
    generation: str
    """Human label of the model generation, e.g. "V3.2" or "V4"."""
    context_window: int
    default_max_tokens: int
    max_output_tokens: int
    thinking_switch: ThinkingSwitch
    thinking_default: bool
    """Thinking state when the request says nothing (reasoner: always on; V4: on)."""
    thinking_partner: str | None = None
    """For thinking_switch == "model": the model id of the other mode (chat <-> reasoner)."""
    efforts: tuple[str, ...] = ()
    """Accepted `reasoning_effort` values; empty when the model takes none."""
    default_effort: str | None = None
    thinking_ignores: tuple[str, ...] = SAMPLING_PARAMETERS
    """Request fields accepted but ignored in thinking mode (not sent by us)."""
    thinking_rejects: tuple[str, ...] = ()
    """Request fields the API rejects with an error in thinking mode."""
    json_output: bool = True
    tools: bool = True
    prefix_completion: bool = True
    fim: bool = False
    """FIM (beta /completions) in non-thinking mode."""
    reasoning_passback: PassbackRule = "never"
    pricing: Pricing | None = None
    note: str = ""
    known: bool = True
    """False for conservative defaults made up for a model only `/models` listed."""

    # --- thinking -------------------------------------------------------------------------

    def thinking_params(self, thinking: bool, effort: str | None = None) -> dict[str, Any]:
        """Request fields that select the thinking mode for this model."""
        if self.thinking_switch != "parameter":
            return {}
        params: dict[str, Any] = {"thinking": {"type": "enabled" if thinking else "disabled"}}
        if thinking and self.efforts:
            chosen = effort if effort in self.efforts else self.default_effort
            if chosen:
                params["reasoning_effort"] = chosen
        return params

    def thinks(self, thinking: bool) -> bool:
        """Whether a request to this model with the given thinking wish actually thinks."""
        if self.thinking_switch == "parameter":
            return thinking
        return self.thinking_default

    def inert_settings(self, thinking: bool) -> dict[str, str]:
        """Settings that have no effect in this mode, each with the reason (for the UI)."""
        inert: dict[str, str] = {}
        if self.thinks(thinking):
            for name in self.thinking_ignores:
                inert[name] = "ignored by the API in thinking mode"
            for name in self.thinking_rejects:
                inert[name] = "rejected by the API in thinking mode"
        if not self.thinks(thinking) or not self.efforts:
            inert["reasoning_effort"] = (
                "this model takes no reasoning effort"
                if not self.efforts
                else "only used in thinking mode"
            )
        if not self.json_output:
            inert["json_output"] = "this model has no JSON output mode"
        return inert

    def clamp_max_tokens(self, value: int | None) -> int | None:
        if value is None:
            return None
        return max(1, min(int(value), self.max_output_tokens))


# --- built-in data ----------------------------------------------------------------------------

_V32_PRICING = Pricing(
    base={
        "CNY": Prices(cache_hit=0.2, cache_miss=2.0, output=3.0),
        "USD": Prices(cache_hit=0.028, cache_miss=0.28, output=0.42),
    }
)

# From 2026-08-16 16:00 UTC: off-peak is the base price, peak (01:00-04:00, 06:00-10:00 UTC) doubles.
_V4_PEAK_WINDOWS = (PeakWindow(time(1, 0), time(4, 0)), PeakWindow(time(6, 0), time(10, 0)))

_V4_FLASH_PRICING = Pricing(
    base={
        "CNY": Prices(cache_hit=0.05, cache_miss=1.5, output=4.5),
        "USD": Prices(cache_hit=0.007, cache_miss=0.22, output=0.66),
    },
    peak={
        "CNY": Prices(cache_hit=0.10, cache_miss=3.0, output=9.0),
        "USD": Prices(cache_hit=0.014, cache_miss=0.44, output=1.32),
    },
    peak_windows=_V4_PEAK_WINDOWS,
)

_V4_PRO_PRICING = Pricing(
    base={
        "CNY": Prices(cache_hit=0.15, cache_miss=4.5, output=13.5),
        "USD": Prices(cache_hit=0.022, cache_miss=0.66, output=1.98),
    },
    peak={
        "CNY": Prices(cache_hit=0.30, cache_miss=9.0, output=27.0),
        "USD": Prices(cache_hit=0.044, cache_miss=1.32, output=3.96),
    },
    peak_windows=_V4_PEAK_WINDOWS,
)

_V4_COMMON: dict[str, Any] = dict(
    generation="V4",
    context_window=1_048_576,
    default_max_tokens=32_768,  # not documented; our default when the user sets none
    max_output_tokens=393_216,
    thinking_switch="parameter",
    thinking_default=True,
    efforts=("low", "high", "max"),
    default_effort="high",
    thinking_rejects=(),
    fim=True,
    reasoning_passback="tool_turns",
)

BUILTIN_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="deepseek-chat",
        generation="V3.2",
        context_window=131_072,
        default_max_tokens=4_096,
        max_output_tokens=8_192,
        thinking_switch="model",
        thinking_default=False,
        thinking_partner="deepseek-reasoner",
        thinking_rejects=("logprobs", "top_logprobs"),
        fim=True,
        reasoning_passback="tool_loop",
        pricing=_V32_PRICING,
        note="Legacy name; DeepSeek routes it to V4-Flash (non-thinking) since 2026-04-24.",
    ),
    ModelSpec(
        id="deepseek-reasoner",
        generation="V3.2",
        context_window=131_072,
        default_max_tokens=32_768,
        max_output_tokens=65_536,
        thinking_switch="model",
        thinking_default=True,
        thinking_partner="deepseek-chat",
        thinking_rejects=("logprobs", "top_logprobs"),
        fim=False,
        reasoning_passback="tool_loop",
        pricing=_V32_PRICING,
        note="Legacy name; DeepSeek routes it to V4-Flash (thinking) since 2026-04-24.",
    ),
    ModelSpec(id="deepseek-v4-flash", pricing=_V4_FLASH_PRICING, **_V4_COMMON),
    ModelSpec(id="deepseek-v4-pro", pricing=_V4_PRO_PRICING, **_V4_COMMON),
)


def conservative_spec(model_id: str) -> ModelSpec:
    """Defaults for a model we know nothing about: small limits, no thinking switch, no prices."""
    return ModelSpec(
        id=model_id,
        generation="unknown",
        context_window=65_536,
        default_max_tokens=4_096,
        max_output_tokens=8_192,
        thinking_switch="none",
        thinking_default=False,
        fim=False,
        reasoning_passback="tool_turns",
        pricing=None,
        note="Listed by /models but not in the catalogue: conservative defaults.",
        known=False,
    )


class CatalogueError(ValueError):
    """A `[models.*]` table in the config that cannot be applied."""


class Catalogue:
    """Model specs by id: built-ins, config overrides, and models seen only in `/models`."""

    def __init__(self, specs: Iterable[ModelSpec] = BUILTIN_MODELS) -> None:
        self._specs: dict[str, ModelSpec] = {spec.id: spec for spec in specs}

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._specs

    def ids(self) -> list[str]:
        return list(self._specs)

    def specs(self) -> list[ModelSpec]:
        return list(self._specs.values())

    def get(self, model_id: str) -> ModelSpec:
        """The spec for `model_id`; an unknown id gets conservative defaults."""
        return self._specs.get(model_id) or conservative_spec(model_id)

    def add_listed(self, model_ids: Iterable[str]) -> list[str]:
        """Register models that `/models` reported; returns the ids that were new."""
        added = []
        for model_id in model_ids:
            if model_id not in self._specs:
                self._specs[model_id] = conservative_spec(model_id)
                added.append(model_id)
        return added

    def with_overrides(self, tables: Mapping[str, Mapping[str, Any]]) -> "Catalogue":
        """A new catalogue with `[models.<id>]` config tables applied.

        A table for a known id replaces just the fields it names; a new id starts from the
        conservative defaults. Prices are given as `prices_usd = [hit, miss, output]` and/or
        `prices_cny = [...]` (base prices; peak pricing stays as built in).
        """
        merged = Catalogue(self._specs.values())
        names = {f.name for f in dataclasses.fields(ModelSpec)}
        for model_id, table in tables.items():
            base = merged._specs.get(model_id) or conservative_spec(model_id)
            changes: dict[str, Any] = {"known": True}
            base_prices = dict(base.pricing.base) if base.pricing else {}
            for key, value in table.items():
                if key in ("prices_usd", "prices_cny"):
                    try:
                        hit, miss, out = (float(v) for v in value)
                    except (TypeError, ValueError) as exc:
                        raise CatalogueError(
                            f"models.{model_id}.{key} must be [cache_hit, cache_miss, output]"
                        ) from exc
                    base_prices[key[-3:].upper()] = Prices(hit, miss, out)
                elif key in names and key not in ("id", "pricing", "known"):
                    if isinstance(value, list):
                        value = tuple(value)
                    changes[key] = value
                else:
                    raise CatalogueError(f"models.{model_id}: unknown field {key!r}")
            if base_prices:
                old = base.pricing
                changes["pricing"] = Pricing(
                    base=base_prices,
                    peak=old.peak if old else {},
                    peak_windows=old.peak_windows if old else (),
                )
            merged._specs[model_id] = dataclasses.replace(base, id=model_id, **changes)
        return merged

    # --- the one mode operation ---------------------------------------------------------------

    def toggle_thinking(self, model_id: str, thinking: bool) -> tuple[str, bool]:
        """Chat <-> reasoner: the (model, thinking) pair for the other mode.

        V3.x switches the model id (deepseek-chat <-> deepseek-reasoner); V4 keeps the model and
        flips the `thinking` flag. A model with no thinking switch stays as it is.
        """
        spec = self.get(model_id)
        if spec.thinking_switch == "model" and spec.thinking_partner:
            partner = self.get(spec.thinking_partner)
            return partner.id, partner.thinking_default
        if spec.thinking_switch == "parameter":
            return model_id, not thinking
        return model_id, spec.thinking_default

    def set_thinking(self, model_id: str, thinking: bool) -> tuple[str, bool]:
        """The (model, thinking) pair that thinks (or not) as asked, as close to `model_id`."""
        spec = self.get(model_id)
        if spec.thinks(thinking) == thinking:
            return model_id, thinking
        return self.toggle_thinking(model_id, thinking)
