"""One client per profile for the app's lifetime, and the per-run cache of each profile's chat models.

The clients live on the loop they are used from: in the TUI, the network thread's (`chat.network`); the
catalogue fetches there too when given the thread, and can be awaited from the UI's loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botticelli.config import Profile, has_key
from botticelli.targets import open_client

if TYPE_CHECKING:
    from botticelli.chat.network import NetworkThread
    from botticelli.providers.client import OpenAICompatibleClient

log = logging.getLogger("botticelli.chat")

ClientFactory = Callable[[Profile], "OpenAICompatibleClient"]


class ClientPool:
    """Opens a profile's client on first use and keeps it (pooled connections) until `aclose`."""

    def __init__(self, factory: ClientFactory = open_client) -> None:
        self._factory = factory
        self._clients: dict[str, OpenAICompatibleClient] = {}

    def get(self, profile: Profile) -> OpenAICompatibleClient:
        """The profile's client; raises AuthError when its key is missing (ConfigError when unsafe)."""
        client = self._clients.get(profile.name)
        if client is None:
            client = self._factory(profile)
            self._clients[profile.name] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.aclose()
            except Exception:  # closing must never stop the others from closing
                log.debug("closing a client failed", exc_info=True)


@dataclass(frozen=True, slots=True)
class ModelList:
    """A profile's chat models: live from `GET /models`, or its configured list when that failed."""

    models: tuple[str, ...]
    live: bool
    note: str = ""
    """Why the list is the offline one (`offline list`, `offline list: set GROQ_API_KEY`)."""


class ModelCatalog:
    """Fetches `/models` once per profile per run; concurrent callers share the one request."""

    def __init__(self, pool: ClientPool, network: NetworkThread | None = None) -> None:
        """`network`: where the pool's clients live (the fetch runs there); None: the caller's loop."""
        self._pool = pool
        self._network = network
        self._lists: dict[str, ModelList] = {}
        self._pending: dict[str, asyncio.Task[ModelList]] = {}

    def cached(self, profile: Profile) -> ModelList | None:
        return self._lists.get(profile.name)

    def fallback(self, profile: Profile, note: str = "offline list") -> ModelList:
        models = profile.models or ((profile.default_model,) if profile.default_model else ())
        return ModelList(tuple(models), live=False, note=note)

    async def models(self, profile: Profile) -> ModelList:
        if profile.name in self._lists:
            return self._lists[profile.name]
        if not has_key(profile):
            result = self.fallback(profile, f"offline list: {profile.missing_key_hint()}")
            self._lists[profile.name] = result
            return result
        task = self._pending.get(profile.name)
        if task is None:
            fetch = self._fetch(profile)
            task = asyncio.ensure_future(self._network.wait(fetch) if self._network is not None else fetch)
            self._pending[profile.name] = task
        try:
            result = await asyncio.shield(task)
        finally:
            if task.done():
                self._pending.pop(profile.name, None)
        self._lists[profile.name] = result
        return result

    async def _fetch(self, profile: Profile) -> ModelList:
        from botticelli.providers.errors import ProviderError
        from botticelli.providers.models import chat_models

        try:
            listed = await self._pool.get(profile).list_models()
        except ProviderError as exc:
            log.info("%s: /models failed: %s", profile.name, exc.summary())
            return self.fallback(profile, f"offline list: {exc.kind.replace('_', ' ')}")
        except Exception as exc:  # a broken server must not break the picker
            log.info("%s: /models failed: %r", profile.name, exc)
            return self.fallback(profile)
        ids = tuple(m.id for m in chat_models(listed))
        if not ids:
            return self.fallback(profile, "offline list: /models listed no chat model")
        return ModelList(ids, live=True)
