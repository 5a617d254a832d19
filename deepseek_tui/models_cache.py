"""The model list `GET /models` gave, kept on disk for a day (no Textual).

Start never waits for the network: the app lays the cached list over the catalogue at once and,
when the cache is missing or older than a day, fetches a new list in the background. The list is
kept per API base URL (the demo's simulator and the real API do not mix). The file lives in the
platform's cache dir and is written atomically; a corrupt cache is ignored and replaced by the next
fetch (it holds nothing that cannot be fetched again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from platformdirs import user_cache_path

from deepseek_tui import clock
from deepseek_tui.atomic import atomic_write_bytes
from deepseek_tui.catalogue import Catalogue
from deepseek_tui.client.errors import DeepSeekError
from deepseek_tui.client.results import ModelInfo
from deepseek_tui.config import APP_NAME

CACHE_NAME = "models.json"
CACHE_VERSION = 1
MAX_AGE = timedelta(days=1)


def default_cache_path() -> Path:
    return user_cache_path(APP_NAME, appauthor=False) / CACHE_NAME


class ModelLister(Protocol):
    async def list_models(self) -> list[ModelInfo]: ...


@dataclass(frozen=True)
class ModelListing:
    ids: tuple[str, ...]
    fetched_at: datetime

    def is_fresh(self, now: datetime) -> bool:
        """Less than a day old (a listing dated in the future is not trusted)."""
        return timedelta(0) <= now - self.fetched_at < MAX_AGE


class ModelsCache:
    """The cached listing of one API base URL."""

    def __init__(self, base_url: str, path: Path | None = None) -> None:
        self.base_url = base_url
        self.path = path or default_cache_path()

    def load(self) -> ModelListing | None:
        """The cached listing, or None when there is none (or the file is unreadable)."""
        entry = self._read().get(self.base_url)
        if entry is None:
            return None
        try:
            ids = entry["ids"]
            fetched_at = datetime.fromisoformat(entry["fetched_at"])
            if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)) or fetched_at.tzinfo is None:
                return None
        except (TypeError, KeyError, ValueError):
            return None
        return ModelListing(tuple(ids), fetched_at)

    def save(self, listing: ModelListing) -> None:
        """Store `listing` for this base URL, keeping the others; raises OSError."""
        listings = self._read()
        listings[self.base_url] = {"ids": list(listing.ids), "fetched_at": listing.fetched_at.isoformat()}
        data = json.dumps({"version": CACHE_VERSION, "listings": listings}, indent=1).encode("utf-8")
        atomic_write_bytes(self.path, data, durable=False)

    def _read(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(document, dict) or document.get("version") != CACHE_VERSION:
            return {}
        listings = document.get("listings")
        return {k: v for k, v in listings.items() if isinstance(v, dict)} if isinstance(listings, dict) else {}

    # --- what the app does with it ------------------------------------------------------------

    def apply_to(self, catalogue: Catalogue) -> bool:
        """Lay the cached listing over `catalogue`; True when it is fresh (no fetch needed)."""
        listing = self.load()
        if listing is None:
            return False
        catalogue.use_listing(listing.ids)
        return listing.is_fresh(clock.now())

    async def refresh(self, client: ModelLister, catalogue: Catalogue) -> bool:
        """Fetch `/models`, lay it over `catalogue` and cache it; False when the fetch failed."""
        try:
            models = await client.list_models()
        except DeepSeekError:
            return False
        listing = ModelListing(tuple(info.id for info in models), clock.now())
        catalogue.use_listing(listing.ids)
        try:
            self.save(listing)
        except OSError:
            pass  # only a cache: the next start fetches again
        return True
