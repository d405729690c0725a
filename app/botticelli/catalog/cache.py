"""The catalogue of each profile, cached in the data folder with an expiry.

One JSON file per profile (`catalogue/<profile>.json`): when it was fetched, from which base URL, and the
models in the `/models` entry shape, read back through the same untrusted-JSON parser as a live answer. A file
that is missing, expired, for another URL, too large or corrupt is ignored (and rewritten by the next fetch).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from botticelli.config import Profile
from botticelli.providers.models import catalogue_entry, parse_models
from botticelli.providers.types import ModelInfo

CACHE_TTL_S = 24 * 3600.0
"""A day: providers add models and change prices rarely; `models --refresh` fetches sooner."""
MAX_CACHE_BYTES = 8 * 1024 * 1024
"""The HF router's whole list is ~100 KB; a larger file is not one we wrote."""
_VERSION = 1


class CatalogueCache:
    """Per-profile catalogue files under `folder`."""

    def __init__(self, folder: Path, ttl_s: float = CACHE_TTL_S, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.ttl_s = ttl_s
        self.clock = clock

    def path(self, profile: Profile) -> Path:
        return self.folder / f"{profile.name}.json"

    def load(self, profile: Profile) -> list[ModelInfo] | None:
        """The cached models of `profile`, or None when there is no fresh, valid cache for its base URL."""
        try:
            with self.path(profile).open("rb") as file:
                data = file.read(MAX_CACHE_BYTES + 1)
        except OSError:
            return None
        if len(data) > MAX_CACHE_BYTES:
            return None
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError):
            return None
        if not isinstance(payload, dict) or payload.get("version") != _VERSION:
            return None
        fetched = payload.get("fetched_at")
        if type(fetched) not in (int, float) or not 0 <= self.clock() - fetched <= self.ttl_s:
            return None
        if payload.get("base_url") != profile.base_url or not isinstance(payload.get("data"), list):
            return None
        return parse_models(payload)

    def save(self, profile: Profile, models: list[ModelInfo]) -> None:
        """Write the catalogue atomically; a folder that cannot be written only costs the cache."""
        payload = {"version": _VERSION, "fetched_at": self.clock(), "base_url": profile.base_url,
                   "data": [catalogue_entry(m) for m in models]}
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.folder, suffix=".tmp",
                                             delete=False) as file:
                tmp = file.name
                file.write(text)
            os.replace(tmp, self.path(profile))
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def default_cache() -> CatalogueCache:
    """The cache in the data folder (`BOTTICELLI_DATA_DIR` overrides it)."""
    from botticelli.paths import data_dir

    return CatalogueCache(data_dir() / "catalogue")


async def cached_models(profile: Profile, fetch: Callable[[], Awaitable[list[ModelInfo]]], *,
                        refresh: bool = False, cache: CatalogueCache | None = None) -> list[ModelInfo]:
    """The profile's catalogue: from the cache while fresh, else `fetch()` (then cached). Fetch errors propagate."""
    cache = cache or default_cache()
    if not refresh and (models := cache.load(profile)) is not None:
        return models
    models = await fetch()
    cache.save(profile, models)
    return models
