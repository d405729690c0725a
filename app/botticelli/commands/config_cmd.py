"""`botticelli config path|show|validate`: where the files are, the effective profiles, and a file check."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botticelli.config import Config, Profile

ACTIONS = ("path", "show", "validate")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "config",
        help="show where the config lives, the effective profiles, or check the file",
        description="path: the config file and data folder; show: the effective profiles (keys are never "
        "shown); validate: check config.toml and report the first problem.",
    )
    p.add_argument("action", choices=ACTIONS, help="what to do")
    p.add_argument("--json", action="store_true", help="show: print a JSON list of profiles (no secrets)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from botticelli.config import ConfigError, load_config

    if args.action == "path":
        return _path()
    try:
        config = load_config()
    except ConfigError as exc:
        print(exc.one_line(), file=sys.stderr)
        return exc.exit_code
    if args.action == "validate":
        return _validate(config)
    if args.json:
        print(json.dumps([_profile_json(config, p) for p in config.profiles.values()], ensure_ascii=False))
    else:
        _print_table(config)
    return 0


def _path() -> int:
    from botticelli import paths

    print(f"config: {paths.config_file()}")
    print(f"data: {paths.data_dir()}")
    return 0


def _validate(config: Config) -> int:
    from botticelli.config import ConfigError, check_key_destination, key_status

    print(f"ok: {config.path} ({len(config.profiles)} profiles)")
    if not config.exists:
        print(f"note: {config.path} does not exist; only the built-in profiles are used", file=sys.stderr)
    for profile in config.profiles.values():
        status = key_status(profile)
        if not profile.needs_key or status.present is False:
            continue
        if status.problem:
            print(f"warning: profile {profile.name}: the API key from {status.source} {status.problem} "
                  "(it is refused before any request; set it again, to the key alone)", file=sys.stderr)
        try:
            check_key_destination(profile, "a key that would be sent")
        except ConfigError as exc:
            print(f"warning: {exc.message} ({exc.hint})", file=sys.stderr)
    return 0


def _key_json(profile: Profile) -> dict[str, Any]:
    from botticelli.config import key_status

    status = key_status(profile)
    return {
        "needed": status.needed,
        "present": status.present if status.needed else None,
        "source": status.source or None,
        "status": status.describe(),
    }


def _profile_json(config: Config, profile: Profile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "default": profile.name == config.default_profile,
        "base_url": profile.base_url,
        "flavor": profile.flavor,
        "default_model": profile.default_model,
        "models": list(profile.models),
        "key": _key_json(profile),
        "timeout_s": profile.timeout_s,
        "connect_timeout_s": profile.connect_timeout_s,
        "max_retries": profile.max_retries,
        "total_timeout_s": profile.total_timeout_s,
        "max_answer_mb": profile.max_answer_mb,
        "headers": sorted(profile.headers),
        "rate_limits": asdict(profile.rate_limits) if profile.rate_limits else None,
        "prices": {model: {"input": price_in, "output": price_out}
                   for model, (price_in, price_out) in profile.prices.items()},
        "simulated": profile.simulated,
        "allow_insecure": profile.allow_insecure,
        "description": profile.description,
        "source": profile.source,
    }


def _print_table(config: Config) -> None:
    from botticelli.config import key_status
    from botticelli.safety import strip_escapes

    state = "" if config.exists else " (not found: built-in profiles only)"
    print(f"config: {config.path}{state}")
    header = ("", "PROFILE", "FLAVOR", "DEFAULT MODEL", "KEY", "BASE URL")
    rows = [header]
    for profile in config.profiles.values():
        key = "simulator, no key" if profile.simulated else key_status(profile).describe()
        rows.append(
            (
                "*" if profile.name == config.default_profile else "",
                profile.name,
                profile.flavor,
                profile.default_model or "-",
                key,
                profile.base_url,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print(strip_escapes("  ".join([*cells, row[-1]]).rstrip()))
    print(f"* default profile: {config.default_profile}")
