"""Helpers for the `servers` tier (tests/servers/): names the fixtures share and the CLI run as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

LITELLM_KEY_VAR = "BOTTICELLI_TEST_LITELLM_KEY"
LLAMA_MODEL = "tiny"
LITELLM_MOCK = "mock-gpt"
LITELLM_GROQ = "groq/llama-3.1-8b-instant"
MOCK_ANSWER = "Hello from the LiteLLM proxy mock."
MOCK_INPUT_TOKENS = 8192
LLAMA_CTX = 2048
SMALL_CTX = 256  # llama.cpp rounds -c up to a multiple of 256


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def botticelli(*args: str, timeout: float = 120) -> Ran:
    """Run the real CLI as a user would, in a subprocess with this test's config and data folders."""
    done = subprocess.run([sys.executable, "-m", "botticelli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "NO_COLOR": "1"})
    return Ran(done.returncode, done.stdout, done.stderr)
