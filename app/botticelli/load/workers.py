"""The worker-process side of `--workers N`: run one share of a level and send its records back."""

from __future__ import annotations

import asyncio
import dataclasses

from botticelli.config.profile import Profile
from botticelli.load.share import Share, ShareOutcome, run_share
from botticelli.targets import Target


def portable(profile: Profile) -> Profile:
    """`profile` in a form that pickles (its headers and prices as plain dicts) to cross to a worker process."""
    return dataclasses.replace(profile, headers=dict(profile.headers), prices=dict(profile.prices))


def run_share_in_worker(share: Share, profile: Profile, start_at: float) -> ShareOutcome:
    """Entry point in a spawned process: the share against `profile`, starting at `start_at` (`time.time()`).

    The key is resolved again in the worker from the profile's own source (environment, command or file)."""
    return asyncio.run(run_share(share, Target(profile, share.model), start_at))
