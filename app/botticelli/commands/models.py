"""`botticelli models`: the models a profile serves, live from `GET /models`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the chat models a profile serves (live from GET /models)")
    p.add_argument("-p", "--profile", help="profile (default: the configured default)")
    p.add_argument("--all", action="store_true", help="include inactive and non-chat models (speech, guard, ...)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_models(args))


async def _models(args: argparse.Namespace) -> int:
    from botticelli.config import ConfigError, load_config
    from botticelli.providers.errors import ProviderError
    from botticelli.providers.models import chat_models
    from botticelli.safety import strip_escapes
    from botticelli.targets import open_client

    try:
        profile = load_config().profile(args.profile)
        client = open_client(profile)
    except (ConfigError, ProviderError) as exc:
        print(exc.one_line(), file=sys.stderr)
        return exc.exit_code
    try:
        async with client:
            models = await client.list_models()
    except ProviderError as exc:
        print(exc.one_line(), file=sys.stderr)
        return exc.exit_code
    shown = models if args.all else chat_models(models)
    if args.json:
        print(json.dumps([
            {"id": m.id, "owned_by": m.owned_by, "context_window": m.context_window, "active": m.active,
             "chat": m.chat}
            for m in shown
        ], ensure_ascii=False))
        return 0
    width = max((len(m.id) for m in shown), default=10)
    for m in shown:
        context = f"{m.context_window:>9,}" if m.context_window else " " * 9
        notes = [] if m.chat else ["not chat"]
        if not m.active:
            notes.append("inactive")
        default = "  (default)" if m.id == profile.default_model else ""
        owner = strip_escapes(m.owned_by or "")
        print(f"{strip_escapes(m.id):<{width}}  {context}  {owner}{default}{'  ' + ', '.join(notes) if notes else ''}")
    hidden = len(models) - len(shown)
    if hidden and not args.all:
        print(f"({hidden} non-chat or inactive models hidden; --all shows them)", file=sys.stderr)
    return 0
