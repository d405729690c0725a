"""Is a keyless server (Ollama, a local llama.cpp or vLLM) up right now? A cheap check: a TCP connection to
the host and port of its base URL with a short timeout, remembered for a few seconds. Blocking: call it off
the UI thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_S = 1.0
CACHE_S = 10.0
"""A result is reused this long (the picker asks again when it gets focus, the r key asks at once)."""


@dataclass(frozen=True, slots=True)
class Reach:
    """`ok`: something accepts connections there now; otherwise `why` says what went wrong, in a few words."""

    ok: bool
    why: str = ""


def server_address(base_url: str) -> tuple[str, int] | None:
    """(host, port) of `base_url` (the scheme's default port if none is given); None if it has no host."""
    try:
        parts = urlsplit(base_url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def probe(host: str, port: int, timeout: float = TIMEOUT_S) -> Reach:
    """Open and close one TCP connection to host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return Reach(True)
    except ConnectionRefusedError:
        return Reach(False, "not running")
    except TimeoutError:
        return Reach(False, f"no answer within {timeout:g} s")
    except socket.gaierror:
        return Reach(False, "unknown host")
    except OSError as error:
        return Reach(False, (error.strerror or "unreachable").lower())


_lock = threading.Lock()
_cache: dict[tuple[str, int], tuple[float, Reach]] = {}


def check(base_url: str, *, fresh: bool = False, clock: Callable[[], float] = time.monotonic) -> Reach:
    """Whether the server of `base_url` is up, from the cache when the last answer is recent (`fresh` asks
    again). Blocks up to `TIMEOUT_S` (plus name resolution)."""
    address = server_address(base_url)
    if address is None:
        return Reach(False, "no host in base_url")
    now = clock()
    with _lock:
        cached = _cache.get(address)
    if cached is not None and not fresh and now - cached[0] < CACHE_S:
        return cached[1]
    reach = probe(*address)
    with _lock:
        _cache[address] = (clock(), reach)
    return reach


def forget() -> None:
    """Drop every remembered answer (tests)."""
    with _lock:
        _cache.clear()
