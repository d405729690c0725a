"""`botticelli models`: the models a profile serves, from `GET /models` (cached a day in the data folder)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the chat models a profile serves: context, vision, prices (GET /models)")
    p.add_argument("-p", "--profile", help="profile (default: the configured default)")
    p.add_argument("--all", action="store_true", help="include inactive and non-chat models (speech, guard, ...)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--refresh", action="store_true", help="ask the server again instead of the day-old cache")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_models(args))


async def _models(args: argparse.Namespace) -> int:
    from botticelli.catalog import cached_models, price_for
    from botticelli.config import ConfigError, load_config
    from botticelli.providers.errors import ProviderError
    from botticelli.providers.models import chat_models, model_json
    from botticelli.targets import open_client

    try:
        profile = load_config().profile(args.profile)
        client = open_client(profile)
    except (ConfigError, ProviderError) as exc:
        print(exc.one_line(), file=sys.stderr)
        return exc.exit_code
    try:
        async with client:
            models = await cached_models(profile, client.list_models, refresh=args.refresh)
    except ProviderError as exc:
        print(exc.one_line(), file=sys.stderr)
        return exc.exit_code
    shown = models if args.all else chat_models(models)
    quotes = {m.id: price_for(profile, m.id, models) for m in shown}
    if args.json:
        print(json.dumps([
            {**model_json(m), "price": quotes[m.id].to_dict() if quotes[m.id] else None} for m in shown
        ], ensure_ascii=False))
        return 0
    _print_table(profile, shown, quotes)
    hidden = len(models) - len(shown)
    if hidden and not args.all:
        print(f"({hidden} non-chat or inactive models hidden; --all shows them)", file=sys.stderr)
    return 0


def _price_cell(quote: Any) -> str:
    from botticelli.format import price_pair

    return price_pair(quote.price) if quote else ""


def _print_table(profile: Any, shown: list[Any], quotes: dict[str, Any]) -> None:
    """One line per model: id, context, `vision`, price in/out per 1M tokens, owner, notes."""
    from botticelli.safety import strip_escapes

    width = max((len(m.id) for m in shown), default=10)
    price_width = max((len(_price_cell(q)) for q in quotes.values()), default=0)
    any_vision = any(m.vision for m in shown)
    for m in shown:
        context = f"{m.context_window:>9,}" if m.context_window else " " * 9
        vision = ("vision  " if m.vision else " " * 8) if any_vision else ""
        price = f"{_price_cell(quotes[m.id]):<{price_width}}  " if price_width else ""
        notes = [] if m.chat else ["not chat"]
        if not m.active:
            notes.append("inactive")
        default = "  (default)" if m.id == profile.default_model else ""
        owner = strip_escapes(m.owned_by or "")
        print(f"{strip_escapes(m.id):<{width}}  {context}  {vision}{price}{owner}{default}"
              f"{'  ' + ', '.join(notes) if notes else ''}")
    sources = sorted({q.source for q in quotes.values() if q})
    if sources:
        print(f"(prices: US$ per 1M tokens in/out; from {', '.join(sources)})", file=sys.stderr)
