"""The catalogue as data: the shipped models.toml, config overrides, retired names, the /models
listing, and a cross-check against the simulator's separately written V4.1 rules."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deepseek_tui import clock
from deepseek_tui.catalogue import DATA_FILE, Catalogue, CatalogueError, parse_data
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.model_choice import after_change, current_settings, effort_choice
from deepseek_tui.models_cache import ModelListing, ModelsCache
from deepseek_tui.simulator import MODEL_IDS, MODEL_RULES

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_data_file_holds_todays_models():
    catalogue = Catalogue()
    assert catalogue.ids() == ["deepseek-flash", "deepseek-v4-pro"]
    assert ChatSettings().model == "deepseek-flash"
    flash = catalogue.get("deepseek-flash")
    assert flash.efforts == ("none", "low", "high", "max") and flash.thinking_off_effort == "none"
    assert {a: flash.resolve_effort(a) for a in ("minimal", "medium", "xhigh", "ultra", "bogus")} == {
        "minimal": "low",
        "medium": "high",
        "xhigh": "high",
        "ultra": "max",
        "bogus": None,
    }
    assert flash.vision and not catalogue.get("deepseek-v4-pro").vision
    assert [
        flash.default_output_budget(t, e) for t, e in ((False, None), (True, None), (True, "max"), (True, "none"))
    ] == [8_192, 65_536, 131_072, 8_192]
    assert flash.reasoning_passback == "with_tools"


def test_the_catalogue_agrees_with_the_simulator():
    """Two statements of §12 written apart: the catalogue's data and the simulator's rules."""
    catalogue = Catalogue()
    assert catalogue.ids() == list(MODEL_IDS)
    for model_id, rules in MODEL_RULES.items():
        spec = catalogue.get(model_id)
        assert (spec.context_window, spec.max_output_tokens, spec.vision, spec.fim, spec.thinking_default) == (
            rules.context_tokens,
            rules.max_output_tokens,
            rules.vision,
            rules.supports_fim,
            rules.thinking_by_default,
        )
        assert spec.default_output_budget(False) == rules.default_budget(False, "high")
        assert spec.default_output_budget(True) == rules.default_budget(True, "high")
        assert spec.default_output_budget(True, "max") == rules.default_budget(True, "max")


@pytest.mark.parametrize(
    ("retired", "thinking", "expected"),
    [
        ("deepseek-reasoner", False, ("deepseek-flash", True)),
        ("deepseek-chat", True, ("deepseek-flash", False)),
        ("deepseek-v4-flash", True, ("deepseek-flash", True)),
        ("deepseek-v4-flash-vision-exp", False, ("deepseek-flash", False)),
    ],
)
def test_retired_names_map_to_their_successor(retired, thinking, expected):
    catalogue = Catalogue()
    assert retired not in catalogue and catalogue.retired(retired) is not None
    assert catalogue.get(retired).id == "deepseek-flash"
    choice = current_settings(ChatSettings(model=retired, thinking=thinking), catalogue, where="--model")
    assert (choice.settings.model, choice.settings.thinking) == expected
    assert choice.notice.startswith(f"{retired} was retired by DeepSeek on 2026-")
    assert current_settings(choice.settings, catalogue).notice is None  # told once


def test_effort_choice_and_changes_keep_thinking_consistent():
    catalogue = Catalogue()
    off = ChatSettings(model="deepseek-flash", thinking=False, reasoning_effort="max")
    assert effort_choice(off, catalogue) == (("none", "low", "high", "max"), "none")
    on = after_change(off.updated(reasoning_effort="low"), "reasoning_effort", catalogue)
    assert (on.thinking, on.reasoning_effort) == (True, "low")
    assert effort_choice(on, catalogue)[1] == "low"
    none = after_change(on.updated(reasoning_effort="none"), "reasoning_effort", catalogue)
    assert (none.thinking, none.reasoning_effort) == (False, None)
    alias = after_change(on.updated(reasoning_effort="ultra"), "reasoning_effort", catalogue)
    assert alias.reasoning_effort == "max"
    moved = after_change(ChatSettings(model="deepseek-reasoner"), "model", catalogue)
    assert (moved.model, moved.thinking) == ("deepseek-flash", True)


def test_config_tables_override_with_the_data_file_fields():
    catalogue = Catalogue().with_overrides(
        {
            "deepseek-flash": {"prices": {"CNY": {"off_peak": {"cache_hit": 0.02, "cache_miss": 1.0, "output": 4.0}}}},
            "my-proxy": {"context_window": 1000, "efforts": ["low", "high"], "prices_usd": [0.1, 0.2, 0.3]},
        }
    )
    flash = catalogue.get("deepseek-flash")
    assert flash.pricing.off_peak["CNY"].output == 4.0
    assert flash.pricing.peak["CNY"].cache_hit is None  # what was unknown stays unknown
    assert flash.pricing.off_peak["USD"].output == 0.60
    proxy = catalogue.get("my-proxy")
    assert proxy.known and proxy.context_window == 1000 and proxy.efforts == ("low", "high")
    assert proxy.pricing.off_peak["USD"].cache_miss == 0.2 and not proxy.pricing.peak


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"context_window": "big"}, "context_window must be a positive integer"),
        ({"efforts": "low"}, "efforts must be a list of strings"),
        ({"reasoning_passback": "sometimes"}, "reasoning_passback must be one of"),
        ({"prices": {"USD": {"weekend": {"output": 1}}}}, "must be a table of off_peak and/or peak"),
        ({"prices_usd": [1, 2]}, "must be [cache_hit, cache_miss, output]"),
        ({"prices": {"USD": {"peak": {"output": -1}}}}, "must be a price"),
        ({"efforts": ["low"], "default_effort": "max"}, "default_effort 'max' is not one of its efforts"),
    ],
)
def test_bad_model_tables_are_named(table, message):
    with pytest.raises(CatalogueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Catalogue().with_overrides({"x": table})


def test_a_retired_successor_must_be_a_model():
    document = tomllib.loads((ROOT / "deepseek_tui" / DATA_FILE).read_text())
    document["retired"]["deepseek-chat"]["successor"] = "deepseek-gone"
    with pytest.raises(CatalogueError, match="successor 'deepseek-gone' is not a model"):
        parse_data(document)


def test_the_listing_offers_what_the_server_lists():
    catalogue = Catalogue()
    assert catalogue.offered_ids() == ["deepseek-flash", "deepseek-v4-pro"] and catalogue.unlisted_ids() == []
    catalogue.use_listing(["deepseek-flash", "deepseek-v5", "deepseek-chat"])
    assert catalogue.offered_ids() == ["deepseek-flash", "deepseek-v5"]
    assert catalogue.unlisted_ids() == ["deepseek-v4-pro"]
    newcomer = catalogue.get("deepseek-v5")
    assert not newcomer.known and newcomer.pricing is None and newcomer.context_window == 65_536
    overridden = catalogue.with_overrides({"deepseek-v5": {"context_window": 2_000_000}})
    assert overridden.offered_ids() == ["deepseek-flash", "deepseek-v5"]
    assert overridden.get("deepseek-v5").context_window == 2_000_000


def test_the_models_cache_keeps_a_day_per_base_url(tmp_path, pinned_clock):
    path = tmp_path / "models.json"
    real, demo = ModelsCache("https://api.deepseek.com", path), ModelsCache("http://127.0.0.1:9", path)
    now = pinned_clock.now()
    real.save(ModelListing(("deepseek-flash",), now))
    demo.save(ModelListing(("deepseek-flash", "deepseek-v4-pro"), now))
    assert real.load().ids == ("deepseek-flash",) and demo.load().ids == ("deepseek-flash", "deepseek-v4-pro")
    catalogue = Catalogue()
    assert real.apply_to(catalogue) is True and catalogue.offered_ids() == ["deepseek-flash"]
    pinned_clock.advance(hours=23, minutes=59)
    assert real.apply_to(Catalogue()) is True
    pinned_clock.advance(minutes=2)
    assert real.apply_to(Catalogue()) is False  # a day old: fetch again (the list still applies)
    assert not ModelListing(("x",), now + timedelta(hours=1)).is_fresh(now)  # from the future: not trusted


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"[]",
        b'{"version": 1, "listings": {"https://api.deepseek.com": 5}}',
        b'{"version": 1, "listings": {"https://api.deepseek.com": {"ids": [1]}}}',
    ],
)
def test_a_corrupt_models_cache_is_ignored(tmp_path, content):
    path = tmp_path / "models.json"
    path.write_bytes(content)
    cache = ModelsCache("https://api.deepseek.com", path)
    assert cache.load() is None and cache.apply_to(Catalogue()) is False
    cache.save(ModelListing(("deepseek-flash",), clock.now()))  # replaced by the next fetch
    assert cache.load().ids == ("deepseek-flash",)


def test_the_data_file_is_package_data():
    """A non-editable install has models.toml: setuptools includes *.toml as package data."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "*.toml" in pyproject["tool"]["setuptools"]["package-data"]["*"]


def test_weekday_peak_windows(any_moment, pinned_clock):
    pricing = Catalogue().get("deepseek-flash").pricing
    now = pinned_clock.now()
    assert pricing.is_peak(now) == (any_moment == "weekday-peak")
    if any_moment == "weekday-peak":
        assert pricing.peak_ends(now) == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    else:
        assert pricing.peak_ends(now) is None


def test_settings_that_need_no_change_stay_the_same_object():
    """Callers compare settings by identity to know that nothing changed (no save, no redraw)."""
    settings = ChatSettings(model="deepseek-flash", thinking=True, reasoning_effort="max")
    assert current_settings(settings, Catalogue()).settings is settings
