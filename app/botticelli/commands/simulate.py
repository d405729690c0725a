"""`botticelli simulate`: run the local OpenAI-compatible simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from typing import Any

FLAVOR_CHOICES = ("groq", "huggingface", "openai")
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def register(subparsers: Any) -> None:
    """Add the `simulate` sub-command."""
    parser = subparsers.add_parser(
        "simulate",
        help="run a local OpenAI-compatible server that mimics Groq, the HF router or OpenAI",
        description="Serve /v1/models and /v1/chat/completions locally, with a provider's quirks, a known speed "
        "and faults on demand (headers x-sim-* or [[...]] directives in the message).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8199, help="port to listen on (default: 8199)")
    parser.add_argument("--flavor", choices=FLAVOR_CHOICES, default="groq",
                        help="whose wire format to reproduce (default: groq)")
    parser.add_argument("--tps", type=float, default=500.0,
                        help="default decode speed in tokens/s; 0 = as fast as possible (default: 500)")
    parser.add_argument("--ttft", type=float, default=0.2,
                        help="default time to first token in seconds (default: 0.2)")
    parser.add_argument("--capacity-tps", type=float, default=0.0, metavar="TPS",
                        help="decode tokens/s shared by all streams, so load saturates (default: 0 = unlimited)")
    parser.add_argument("--max-concurrency", type=int, default=0, metavar="N",
                        help="answers at once; more requests queue before their TTFT (default: 0 = unlimited)")
    parser.add_argument("--max-rps", type=float, default=0.0, metavar="R",
                        help="requests/s above which the answer is a 429 (default: 0 = unlimited)")
    parser.add_argument("--model", action="append", default=[], metavar="ID", dest="models",
                        help="also serve this model id (repeatable); other ids not in the catalogue get a 404")
    parser.set_defaults(run=run)


def _limits(settings: Any) -> str:
    """`, capacity 5000 tok/s, 16 at once, 20 req/s` for the limits that are set."""
    parts = []
    if settings.capacity_tps:
        parts.append(f"capacity {settings.capacity_tps:g} tok/s")
    if settings.max_concurrency:
        parts.append(f"{settings.max_concurrency} at once")
    if settings.max_rps:
        parts.append(f"{settings.max_rps:g} req/s")
    return "".join(f", {p}" for p in parts)


def _banner(flavor: str, tps: float, ttft: float, root: str, limits: str = "") -> str:
    urls = f"{root}/openai/v1 and /v1" if flavor == "groq" else f"{root}/v1"
    speed = "unpaced" if tps == 0 else f"{tps:g} tok/s"
    return (
        f"botticelli simulator ({flavor} flavour, {speed}, TTFT {ttft:g}s{limits}) on {urls} — Ctrl-C to stop\n"
        f"point a profile at it in config.toml:\n"
        f"  [profiles.sim]\n"
        f'  base_url = "{root}/v1"\n'
        f'  default_model = "demo-fast"'
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 0 on Ctrl-C, 2 when the port is taken or a flag is invalid."""
    import asyncio
    import errno

    from botticelli.simulator.server import serve
    from botticelli.simulator.settings import SimSettings

    try:
        settings = SimSettings.from_args(args)
    except ValueError as exc:
        print(f"error: simulate: {exc}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"error: simulate: port {args.port} is out of range (choose 0-65535 with --port)", file=sys.stderr)
        return 2

    async def main() -> None:
        server = await serve(settings, args.host, args.port)
        try:
            print(_banner(settings.flavor, settings.tps, settings.ttft_s, server.root_url, _limits(settings)),
                  file=sys.stderr)
            if args.host not in LOOPBACK:
                print(f"warning: simulate: listening on {args.host}, reachable from other machines",
                      file=sys.stderr)
            await asyncio.Event().wait()
        finally:
            await server.aclose()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE or "address already in use" in str(exc).lower():
            print(f"error: simulate: port {args.port} is in use (choose another with --port)", file=sys.stderr)
        else:
            print(f"error: simulate: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                  file=sys.stderr)
        return 2
    return 0
