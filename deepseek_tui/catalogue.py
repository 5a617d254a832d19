"""The model catalogue: everything the app knows about each DeepSeek model, as data.

No other module tests model names. Code asks the catalogue ("how is thinking switched for this
model?", "what does a cache miss cost right now?") and the answers come from `models.toml`, a
data file shipped with the package, overridden or extended by the `[models.<id>]` tables of the
config file (same fields). Retired model names are data too: they are never sent, `get()` answers
with their successor. What `GET /models` lists is laid over the catalogue (`use_listing`): an id
the catalogue does not know gets `conservative_spec()`, a catalogue id the server no longer lists
is not offered.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from importlib import resources
from typing import Any, Literal

ThinkingSwitch = Literal["model", "parameter", "none"]
"""How thinking is turned on: by choosing another model id (the V3.x chat/reasoner pair), by the
`thinking` request object (V4), or not at all."""

PassbackRule = Literal["never", "tool_loop", "tool_turns", "with_tools"]
"""Which assistant messages carry their `reasoning_content` back to the API (reference §6, §12):
never (R1 … V3.2-Exp, a 400 if sent); tool_loop (V3.2: only those after the last user message);
tool_turns (V4: every turn that called tools, in all later requests); with_tools (V4.1: when the
request carries `tools`, every earlier turn that has reasoning; without tools, none)."""

Currency = Literal["USD", "CNY"]

SAMPLING_PARAMETERS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")

FIM_MAX_TOKENS = 4096
"""The API's limit on `max_tokens` for FIM completions (all FIM-capable models; reference §7.1)."""

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

DATA_FILE = "models.toml"


class CatalogueError(ValueError):
    """Model data (the shipped file or a config `[models.*]` table) that cannot be used."""


# --- prices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prices:
    """Price per 1M tokens in one currency; None where the price is not known."""

    cache_hit: float | None = None
    cache_miss: float | None = None
    output: float | None = None


@dataclass(frozen=True)
class PeakWindow:
    """A daily UTC time window [start, end) during which peak prices apply."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class PeakSchedule:
    """When peak prices apply: UTC windows on some weekdays (0 = Monday)."""

    days: frozenset[int] = frozenset()
    windows: tuple[PeakWindow, ...] = ()

    def window_at(self, when: datetime) -> PeakWindow | None:
        utc = when.astimezone(UTC)
        if utc.weekday() not in self.days:
            return None
        return next((w for w in self.windows if w.contains(utc.time())), None)

    def peak_ends(self, when: datetime) -> datetime | None:
        """When the peak window in force at `when` ends (UTC), or None outside peak hours."""
        window = self.window_at(when)
        if window is None:
            return None
        utc = when.astimezone(UTC)
        return datetime.combine(utc.date(), window.end, tzinfo=UTC)

    def days_text(self) -> str:
        """ "Mon-Fri", or the days listed one by one when they are not a run."""
        days = sorted(self.days)
        if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            return f"{WEEKDAYS[days[0]]}-{WEEKDAYS[days[-1]]}"
        return ", ".join(WEEKDAYS[d] for d in days)


@dataclass(frozen=True)
class Pricing:
    """Off-peak prices per currency; peak prices during the schedule's windows."""

    off_peak: Mapping[str, Prices] = field(default_factory=dict)
    peak: Mapping[str, Prices] = field(default_factory=dict)
    schedule: PeakSchedule | None = None

    def currencies(self) -> list[str]:
        return list(dict.fromkeys([*self.off_peak, *self.peak]))

    def is_peak(self, when: datetime) -> bool:
        return bool(self.peak) and self.schedule is not None and self.schedule.window_at(when) is not None

    def peak_ends(self, when: datetime) -> datetime | None:
        return self.schedule.peak_ends(when) if self.is_peak(when) and self.schedule else None

    def prices_at(self, currency: str, when: datetime) -> Prices | None:
        """Prices in force when a request completed (billing follows the completion time);
        None when nothing is known in that currency for that moment."""
        return (self.peak if self.is_peak(when) else self.off_peak).get(currency)

    def peak_factor(self, currency: str) -> float | None:
        """How many times the off-peak price peak is (None when either side is unknown)."""
        peak, off = self.peak.get(currency), self.off_peak.get(currency)
        if peak is None or off is None or not peak.output or not off.output:
            return None
        return peak.output / off.output


# --- model facts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """What the app needs to know to talk to one model id."""

    id: str
    generation: str
    """Human label of the model generation, e.g. "V4.1-Flash"."""
    context_window: int
    default_max_tokens: int
    """Output budget the API applies when `max_tokens` is left out (without thinking)."""
    max_output_tokens: int
    thinking_switch: ThinkingSwitch
    thinking_default: bool
    """Thinking state when the request says nothing."""
    thinking_partner: str | None = None
    """For thinking_switch == "model": the model id of the other mode (chat <-> reasoner)."""
    default_max_tokens_thinking: int | None = None
    default_max_tokens_effort: Mapping[str, int] = field(default_factory=dict)
    """Default output budget at particular efforts (e.g. max: 128K)."""
    efforts: tuple[str, ...] = ()
    """Accepted `reasoning_effort` values; empty when the model takes none."""
    effort_aliases: Mapping[str, str] = field(default_factory=dict)
    """Other names the API accepts for an effort (e.g. medium -> high)."""
    default_effort: str | None = None
    thinking_off_effort: str | None = None
    """The effort that means "no thinking" (V4.1: none)."""
    thinking_ignores: tuple[str, ...] = SAMPLING_PARAMETERS
    """Request fields accepted but ignored in thinking mode (not sent by us)."""
    thinking_rejects: tuple[str, ...] = ()
    """Request fields the API rejects with an error in thinking mode."""
    thinking_top_p_floor: float | None = None
    """In thinking mode a lower `top_p` is raised to this."""
    fixed_without_thinking: Mapping[str, float] = field(default_factory=dict)
    """Sampling fields the API fixes without thinking (not sent), with their value."""
    thinking_tool_choices: tuple[str, ...] | None = None
    """`tool_choice` values allowed in thinking mode (None: any)."""
    json_output: bool = True
    tools: bool = True
    prefix_completion: bool = True
    fim: bool = False
    """FIM (beta /completions) in non-thinking mode."""
    vision: bool = False
    """Image content parts in user and tool messages."""
    image_tokens: int = 0
    """Prompt tokens one image costs (an upper bound: the API caps each image at this)."""
    max_request_bytes: int | None = None
    """The largest request body the API takes (None: not known, not checked)."""
    reasoning_passback: PassbackRule = "never"
    pricing: Pricing | None = None
    note: str = ""
    known: bool = True
    """False for conservative defaults made up for a model only `/models` listed."""

    # --- thinking and effort ----------------------------------------------------------------

    def resolve_effort(self, effort: str | None) -> str | None:
        """The effort the API will use for `effort` (aliases resolved); None if it takes no such one."""
        if effort is None:
            return None
        effort = self.effort_aliases.get(effort, effort)
        return effort if effort in self.efforts else None

    def accepts_effort(self, effort: str) -> bool:
        return self.resolve_effort(effort) is not None

    @property
    def thinking_efforts(self) -> tuple[str, ...]:
        """The efforts that think (all but the one that turns thinking off)."""
        return tuple(e for e in self.efforts if e != self.thinking_off_effort)

    def turns_thinking_off(self, effort: str | None) -> bool:
        return self.thinking_off_effort is not None and self.resolve_effort(effort) == self.thinking_off_effort

    def thinks(self, thinking: bool, effort: str | None = None) -> bool:
        """Whether a request to this model with this thinking wish (and effort) actually thinks."""
        if self.thinking_switch == "parameter":
            return thinking and not self.turns_thinking_off(effort)
        return self.thinking_default

    def thinking_params(self, thinking: bool, effort: str | None = None) -> dict[str, Any]:
        """Request fields that select the thinking mode for this model."""
        if self.thinking_switch != "parameter":
            return {}
        on = self.thinks(thinking, effort)
        params: dict[str, Any] = {"thinking": {"type": "enabled" if on else "disabled"}}
        if on and self.efforts:
            chosen = self.resolve_effort(effort) or self.default_effort
            if chosen:
                params["reasoning_effort"] = chosen
        return params

    def default_output_budget(self, thinking: bool, effort: str | None = None) -> int:
        """The `max_tokens` the API applies when the request leaves it out."""
        if not self.thinks(thinking, effort):
            return self.default_max_tokens
        chosen = self.resolve_effort(effort) or self.default_effort
        if chosen is not None and chosen in self.default_max_tokens_effort:
            return self.default_max_tokens_effort[chosen]
        return self.default_max_tokens_thinking or self.default_max_tokens

    # --- what a request may carry -------------------------------------------------------------

    def inert_settings(self, thinking: bool, effort: str | None = None) -> dict[str, str]:
        """Settings that have no effect in this mode, each with the reason (for the UI)."""
        inert: dict[str, str] = {}
        thinks = self.thinks(thinking, effort)
        if thinks:
            for name in self.thinking_ignores:
                inert[name] = "ignored by the API in thinking mode"
            for name in self.thinking_rejects:
                inert[name] = "rejected by the API in thinking mode"
        else:
            for name, value in self.fixed_without_thinking.items():
                inert[name] = f"fixed at {value:g} by the API without thinking"
        if not self.efforts:
            inert["reasoning_effort"] = "this model takes no reasoning effort"
        elif not thinks and self.thinking_off_effort is None:
            inert["reasoning_effort"] = "only used in thinking mode"
        if not self.json_output:
            inert["json_output"] = "this model has no JSON output mode"
        return inert

    def sent_top_p(self, top_p: float | None, thinks: bool) -> float | None:
        """The `top_p` to send (None: leave it out)."""
        if top_p is None or (not thinks and "top_p" in self.fixed_without_thinking):
            return None
        if thinks and self.thinking_top_p_floor is not None:
            return max(top_p, self.thinking_top_p_floor)
        return top_p

    def allows_tool_choice(self, choice: str | Mapping[str, Any], thinks: bool) -> bool:
        if not thinks or self.thinking_tool_choices is None:
            return True
        return isinstance(choice, str) and choice in self.thinking_tool_choices

    def clamp_max_tokens(self, value: int | None) -> int | None:
        if value is None:
            return None
        return max(1, min(int(value), self.max_output_tokens))


@dataclass(frozen=True)
class RetiredModel:
    """A model name DeepSeek no longer serves: never sent, its successor answers instead."""

    id: str
    successor: str
    thinking: bool | None
    """The thinking mode the successor runs in; None keeps the mode the name was used with."""
    retired_on: str = ""

    def describe(self) -> str:
        """e.g. "deepseek-flash with thinking on"."""
        if self.thinking is None:
            return self.successor
        return f"{self.successor} with thinking {'on' if self.thinking else 'off'}"


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
        reasoning_passback="with_tools",
        pricing=None,
        note="Listed by /models but not in the catalogue: conservative defaults, price unknown.",
        known=False,
    )


# --- reading the data -------------------------------------------------------------------------

_CHOICES: dict[str, tuple[str, ...]] = {
    "thinking_switch": ("model", "parameter", "none"),
    "reasoning_passback": ("never", "tool_loop", "tool_turns", "with_tools"),
}
_FIELD_KINDS: dict[str, str] = {
    "generation": "str",
    "context_window": "int",
    "default_max_tokens": "int",
    "max_output_tokens": "int",
    "thinking_switch": "choice",
    "thinking_default": "bool",
    "thinking_partner": "str",
    "default_max_tokens_thinking": "int",
    "default_max_tokens_effort": "int_map",
    "efforts": "str_list",
    "effort_aliases": "str_map",
    "default_effort": "str",
    "thinking_off_effort": "str",
    "thinking_ignores": "str_list",
    "thinking_rejects": "str_list",
    "thinking_top_p_floor": "float",
    "fixed_without_thinking": "float_map",
    "thinking_tool_choices": "str_list",
    "json_output": "bool",
    "tools": "bool",
    "prefix_completion": "bool",
    "fim": "bool",
    "vision": "bool",
    "image_tokens": "int",
    "max_request_bytes": "int",
    "reasoning_passback": "choice",
    "note": "str",
}
_TIERS = ("off_peak", "peak")


def _value(where: str, name: str, kind: str, value: Any) -> Any:
    def bad(expected: str) -> CatalogueError:
        return CatalogueError(f"{where}.{name} must be {expected}, not {value!r}")

    if kind == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if kind == "choice":
        if value not in _CHOICES[name]:
            raise bad("one of " + ", ".join(_CHOICES[name]))
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad("a positive integer")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        return tuple(value)
    if not isinstance(value, Mapping):
        raise bad("a table")
    item_kind = {"str_map": "str", "int_map": "int", "float_map": "float"}[kind]
    return {str(k): _value(f"{where}.{name}", str(k), item_kind, v) for k, v in value.items()}


def _prices(where: str, value: Any) -> Prices:
    """`{cache_hit = …, cache_miss = …, output = …}` (missing = unknown) or `[hit, miss, output]`."""
    if isinstance(value, list):
        if len(value) != 3:
            raise CatalogueError(f"{where} must be [cache_hit, cache_miss, output]")
        value = dict(zip(("cache_hit", "cache_miss", "output"), value, strict=True))
    if not isinstance(value, Mapping):
        raise CatalogueError(f"{where} must be a table of cache_hit, cache_miss, output")
    figures: dict[str, float] = {}
    for key, amount in value.items():
        if key not in ("cache_hit", "cache_miss", "output"):
            raise CatalogueError(f"{where}: unknown price {key!r}")
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
            raise CatalogueError(f"{where}.{key} must be a price (a number ≥ 0)")
        figures[key] = float(amount)
    return Prices(**figures)


def _pricing(
    where: str, table: Mapping[str, Any], base: Pricing | None, schedule: PeakSchedule | None
) -> Pricing | None:
    """Apply `prices = {USD = {off_peak = …, peak = …}}` and `prices_usd/_cny = [...]` to `base`."""
    off_peak = dict(base.off_peak) if base else {}
    peak = dict(base.peak) if base else {}
    changed = False
    prices = table.get("prices")
    if prices is not None:
        if not isinstance(prices, Mapping):
            raise CatalogueError(f"{where}.prices must be a table of currencies")
        for currency, tiers in prices.items():
            if not isinstance(tiers, Mapping) or not set(tiers) <= set(_TIERS):
                raise CatalogueError(f"{where}.prices.{currency} must be a table of off_peak and/or peak")
            for tier, target in (("off_peak", off_peak), ("peak", peak)):
                if tier in tiers:
                    target[currency] = _prices(f"{where}.prices.{currency}.{tier}", tiers[tier])
                    changed = True
    for key in ("prices_usd", "prices_cny"):  # the short form: off-peak (base) prices
        if key in table:
            off_peak[key[-3:].upper()] = _prices(f"{where}.{key}", table[key])
            changed = True
    if not changed:
        return base
    return Pricing(off_peak=off_peak, peak=peak, schedule=(base.schedule if base else None) or schedule)


def spec_from_table(
    model_id: str,
    table: Mapping[str, Any],
    base: ModelSpec | None = None,
    schedule: PeakSchedule | None = None,
    where: str | None = None,
) -> ModelSpec:
    """A spec from a `[models.<id>]` table: `base` (or conservative defaults) with its fields replaced."""
    where = where or f"models.{model_id}"
    start = base or conservative_spec(model_id)
    changes: dict[str, Any] = {"known": True, "id": model_id}
    for key, value in table.items():
        if key in _FIELD_KINDS:
            changes[key] = _value(where, key, _FIELD_KINDS[key], value)
        elif key not in ("prices", "prices_usd", "prices_cny"):
            raise CatalogueError(f"{where}: unknown field {key!r}")
    pricing = _pricing(where, table, start.pricing, schedule)
    if pricing is not start.pricing:
        changes["pricing"] = pricing
    if base is None and "note" not in table:
        changes["note"] = ""
    spec = dataclasses.replace(start, **changes)
    if spec.default_effort is not None and spec.efforts and spec.default_effort not in spec.efforts:
        raise CatalogueError(f"{where}.default_effort {spec.default_effort!r} is not one of its efforts")
    return spec


def _schedule(table: Any) -> PeakSchedule:
    where = f"{DATA_FILE} [peak]"
    if not isinstance(table, Mapping):
        raise CatalogueError(f"{where} must be a table")
    try:
        days = frozenset(WEEKDAYS.index(day) for day in table.get("days", ()))
        windows = []
        for text in table.get("windows", ()):
            start, end = text.split("-")
            windows.append(PeakWindow(time.fromisoformat(start), time.fromisoformat(end)))
    except (ValueError, AttributeError, TypeError) as exc:
        raise CatalogueError(f'{where}: days are Mon…Sun, windows "HH:MM-HH:MM" ({exc})') from None
    return PeakSchedule(days, tuple(windows))


@dataclass(frozen=True)
class _Data:
    specs: tuple[ModelSpec, ...]
    retired: tuple[RetiredModel, ...]


def parse_data(document: Mapping[str, Any]) -> _Data:
    """The catalogue held by a `models.toml` document."""
    schedule = _schedule(document.get("peak", {}))
    models = document.get("models", {})
    specs = tuple(
        spec_from_table(model_id, table, schedule=schedule, where=f"{DATA_FILE} models.{model_id}")
        for model_id, table in models.items()
    )
    live = {spec.id for spec in specs}
    retired = []
    for model_id, table in document.get("retired", {}).items():
        successor = table.get("successor")
        if successor not in live:
            raise CatalogueError(f"{DATA_FILE} retired.{model_id}: successor {successor!r} is not a model")
        thinking = table.get("thinking")
        if thinking is not None and not isinstance(thinking, bool):
            raise CatalogueError(f"{DATA_FILE} retired.{model_id}.thinking must be true or false")
        retired.append(RetiredModel(model_id, successor, thinking, str(table.get("retired_on", ""))))
    return _Data(specs, tuple(retired))


@functools.cache
def builtin_data() -> _Data:
    """The data file shipped with the package (read once)."""
    text = resources.files("deepseek_tui").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_data(tomllib.loads(text))


# --- the catalogue ----------------------------------------------------------------------------


class Catalogue:
    """Model specs by id: built-ins, config overrides, retired names, and what `/models` lists."""

    def __init__(self, specs: Iterable[ModelSpec] | None = None, retired: Iterable[RetiredModel] | None = None) -> None:
        if specs is None:
            data = builtin_data()
            specs, retired = data.specs, data.retired if retired is None else retired
        self._specs: dict[str, ModelSpec] = {spec.id: spec for spec in specs}
        self._retired: dict[str, RetiredModel] = {r.id: r for r in retired or ()}
        self._listing: tuple[str, ...] | None = None

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._specs

    def ids(self) -> list[str]:
        return list(self._specs)

    def specs(self) -> list[ModelSpec]:
        return list(self._specs.values())

    def get(self, model_id: str) -> ModelSpec:
        """The spec for `model_id`: a retired name gets its successor's, an unknown id conservative defaults."""
        if model_id in self._specs:
            return self._specs[model_id]
        retired = self._retired.get(model_id)
        if retired is not None and retired.successor in self._specs:
            return self._specs[retired.successor]
        return conservative_spec(model_id)

    def retired(self, model_id: str) -> RetiredModel | None:
        """The retirement record of a name DeepSeek no longer serves (None for a live id)."""
        return None if model_id in self._specs else self._retired.get(model_id)

    def retired_models(self) -> list[RetiredModel]:
        return list(self._retired.values())

    def schedule(self) -> PeakSchedule | None:
        return next((s.pricing.schedule for s in self._specs.values() if s.pricing and s.pricing.schedule), None)

    # --- what the server lists --------------------------------------------------------------

    def use_listing(self, model_ids: Iterable[str]) -> None:
        """Lay `GET /models` over the catalogue: unknown ids get conservative specs; catalogue
        ids it does not list are no longer offered. Retired names it may still list are ignored."""
        listing = [m for m in dict.fromkeys(model_ids) if m not in self._retired or m in self._specs]
        for model_id in listing:
            if model_id not in self._specs:
                self._specs[model_id] = conservative_spec(model_id)
        self._listing = tuple(listing)

    @property
    def listing(self) -> tuple[str, ...] | None:
        """The ids `/models` listed, in its order (None until a listing is known)."""
        return self._listing

    def offered_ids(self) -> list[str]:
        """The models to offer: what the server lists, or the whole catalogue until that is known."""
        return list(self._listing) if self._listing is not None else self.ids()

    def unlisted_ids(self) -> list[str]:
        """Catalogue ids the server no longer lists (retired by DeepSeek since our data was written)."""
        if self._listing is None:
            return []
        return [m for m in self._specs if m not in self._listing]

    # --- config overrides -------------------------------------------------------------------

    def with_overrides(self, tables: Mapping[str, Mapping[str, Any]]) -> "Catalogue":
        """A new catalogue with `[models.<id>]` config tables applied.

        A table for a known id replaces just the fields it names; a new id starts from the
        conservative defaults. Prices: `prices = {USD = {off_peak = {…}, peak = {…}}}` as in the
        data file, or the short `prices_usd = [hit, miss, output]` / `prices_cny` (off-peak).
        Tables naming a retired id are skipped (see `ignored_overrides`).
        """
        merged = Catalogue(self._specs.values(), self._retired.values())
        schedule = self.schedule()
        for model_id, table in tables.items():
            if model_id in self._retired and model_id not in self._specs:
                continue
            merged._specs[model_id] = spec_from_table(model_id, table, merged._specs.get(model_id), schedule)
        if self._listing is not None:
            merged.use_listing(self._listing)
        return merged

    def ignored_overrides(self, tables: Mapping[str, Any]) -> list[str]:
        """Config table ids that `with_overrides` skips because they name retired models."""
        return [m for m in tables if self.retired(m) is not None]

    # --- the one mode operation ---------------------------------------------------------------

    def toggle_thinking(self, model_id: str, thinking: bool) -> tuple[str, bool]:
        """Chat <-> reasoner: the (model, thinking) pair for the other mode.

        A "model" switch changes the model id (V3.x chat <-> reasoner); a "parameter" switch
        keeps the model and flips the `thinking` flag. A model with no switch stays as it is. A
        retired name answers with its successor.
        """
        spec = self.get(model_id)
        if spec.thinking_switch == "model" and spec.thinking_partner:
            partner = self.get(spec.thinking_partner)
            return partner.id, partner.thinking_default
        if spec.thinking_switch == "parameter":
            return spec.id, not thinking
        return spec.id, spec.thinking_default

    def set_thinking(self, model_id: str, thinking: bool) -> tuple[str, bool]:
        """The (model, thinking) pair that thinks (or not) as asked, as close to `model_id`."""
        spec = self.get(model_id)
        if spec.thinks(thinking) == thinking:
            return spec.id, thinking
        return self.toggle_thinking(spec.id, thinking)
