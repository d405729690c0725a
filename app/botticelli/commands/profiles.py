"""`botticelli profiles [--check]`: every profile, whether its key is set, and (with --check) whether it answers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profiles", help="list profiles and whether their keys are set; --check contacts them")
    p.add_argument("--check", action="store_true", help="call GET /models on each usable profile and time it")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_profiles(args))


def key_usable(profile: Any) -> tuple[bool, str]:
    """(usable, text) without ever showing the key; runs `api_key_cmd` and checks the key as a request would."""
    from botticelli.config import ConfigError, resolve_api_key

    if not profile.needs_key:
        return True, "no key needed"
    try:
        key = resolve_api_key(profile)
    except ConfigError as exc:
        return False, f"key error: {exc.message} ({exc.hint})"
    if key:
        return True, "key set"
    return False, f"missing: {profile.missing_key_hint()}"


async def _check(profile: Any) -> dict[str, Any]:
    from botticelli.providers.errors import ProviderError
    from botticelli.providers.models import chat_models
    from botticelli.targets import open_client

    started = time.perf_counter()
    try:
        async with open_client(profile, max_retries=0) as client:
            models = await client.list_models()
    except ProviderError as exc:
        return {"ok": False, "error": exc.summary(), "latency_ms": None, "models": None}
    except Exception as exc:  # a config problem of this profile must not stop the others
        return {"ok": False, "error": str(exc), "latency_ms": None, "models": None}
    latency = (time.perf_counter() - started) * 1000
    return {"ok": True, "error": None, "latency_ms": round(latency, 1), "models": len(chat_models(models))}


async def _profiles(args: argparse.Namespace) -> int:
    from botticelli.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        print(exc.one_line(), file=sys.stderr)
        return exc.exit_code
    rows = []
    for profile in config.profiles.values():
        usable, status = key_usable(profile)
        rows.append({"name": profile.name, "base_url": profile.base_url, "default_model": profile.default_model,
                     "default": profile.name == config.default_profile, "usable": usable, "key": status,
                     "simulated": profile.simulated})
    if args.check:
        checks = await asyncio.gather(*(
            _check(config.profiles[row["name"]]) if row["usable"] else _skipped() for row in rows
        ))
        for row, check in zip(rows, checks, strict=True):
            row["check"] = check
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    width = max(len(r["name"]) for r in rows)
    key_width = max(len(r["key"]) for r in rows)
    for r in rows:
        mark = "*" if r["default"] else " "
        line = f"{mark} {r['name']:<{width}}  {r['key']:<{key_width}}  {r['base_url']}"
        if "check" in r:
            c = r["check"]
            if c.get("skipped"):
                line += "  [not checked]"
            elif c["ok"]:
                line += f"  [ok {c['latency_ms']:.0f}ms, {c['models']} chat models]"
            else:
                line += f"  [failed: {c['error']}]"
        print(line)
    print("* = default profile", file=sys.stderr)
    return 0


async def _skipped() -> dict[str, Any]:
    return {"ok": False, "skipped": True, "error": None, "latency_ms": None, "models": None}
