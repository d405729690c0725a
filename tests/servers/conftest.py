"""The `servers` tier: real llama-server and LiteLLM proxy processes on loopback, started once per session.

`make test-servers` first runs scripts/servers_setup.py, which builds or reuses llama-server, the tiny model and
LiteLLM's venv and writes `servers.json` in the user cache folder; these fixtures read it. Ports come from
18600-18699. Every process started here is stopped when the session ends.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import platformdirs
import pytest

from helpers_bench import write_config
from helpers_servers import (
    LITELLM_GROQ,
    LITELLM_KEY_VAR,
    LITELLM_MOCK,
    LLAMA_CTX,
    LLAMA_MODEL,
    MOCK_ANSWER,
    MOCK_INPUT_TOKENS,
    SMALL_CTX,
)

PORTS = range(18600, 18700)
LITELLM_KEY = "sk-botticelli-servers-tier"
START_TIMEOUT_S = 120.0


def manifest_path() -> Path:
    override = os.environ.get("BOTTICELLI_SERVERS_CACHE")
    root = Path(override) if override else Path(platformdirs.user_cache_dir("botticelli"))
    return root / "servers.json"


@pytest.fixture(scope="session")
def manifest() -> dict[str, str]:
    path = manifest_path()
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make test-servers` (it builds the servers first)")
    return json.loads(path.read_text())


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@dataclass
class Server:
    """One running server process and where it listens."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start(name: str, cmd: list[str], port: int, ready_path: str, folder: Path,
          env: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Server:
    """Start `cmd` and wait until GET ready_path answers 200; fail with the log's tail if it never does."""
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder)
    server = Server(name, process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", headers=headers, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    pytest.fail(f"{name} did not answer {ready_path} within {START_TIMEOUT_S:.0f} s:\n{server.log_tail()}")


def llama_cmd(manifest: dict[str, str], port: int, ctx: int) -> list[str]:
    return [
        manifest["llama_server"], "-m", manifest["model"], "--alias", LLAMA_MODEL,
        "--host", "127.0.0.1", "--port", str(port), "-c", str(ctx), "-np", "1", "-t", "1",
        "--no-webui", "--seed", "14",
    ]


@pytest.fixture(scope="session")
def llama(manifest: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """llama-server with the tiny random model, 2048 tokens of context."""
    port = free_port()
    server = start("llama-server", llama_cmd(manifest, port, LLAMA_CTX), port, "/health",
                   tmp_path_factory.mktemp("llama"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llama_small(manifest: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """llama-server with only SMALL_CTX tokens of context, for the overflow."""
    port = free_port()
    server = start("llama-server-small", llama_cmd(manifest, port, SMALL_CTX), port, "/health",
                   tmp_path_factory.mktemp("llama-small"))
    yield server
    server.stop()


LITELLM_CONFIG = f"""\
model_list:
  - model_name: {LITELLM_MOCK}
    litellm_params:
      model: openai/{LITELLM_MOCK}
      api_key: unused
      mock_response: "{MOCK_ANSWER}"
    model_info:
      max_input_tokens: {MOCK_INPUT_TOKENS}
  - model_name: {LITELLM_GROQ}
    litellm_params:
      model: {LITELLM_GROQ}
      api_key: unused
      mock_response: "Hello from a mocked Groq model behind LiteLLM."
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
litellm_settings:
  telemetry: false
"""


@pytest.fixture(scope="session")
def litellm(manifest: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The LiteLLM proxy with two mock_response models, a master key, offline (no hub, local cost map)."""
    folder = tmp_path_factory.mktemp("litellm")
    config = folder / "config.yaml"
    config.write_text(LITELLM_CONFIG)
    port = free_port()
    env = {
        **os.environ, "LITELLM_MASTER_KEY": LITELLM_KEY, "HF_HUB_OFFLINE": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True", "NO_DOCS": "True",
    }
    cmd = [manifest["litellm"], "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    server = start("litellm", cmd, port, "/health/liveliness", folder, env=env)
    yield server
    server.stop()


@pytest.fixture
def servers_config(llama: Server, litellm: Server, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config with profiles `llama` (keyless) and `litellm` (key from LITELLM_KEY_VAR), llama the default."""
    monkeypatch.setenv(LITELLM_KEY_VAR, LITELLM_KEY)
    return write_config({
        "llama": {"base_url": llama.base_url, "flavor": "openai", "default_model": LLAMA_MODEL},
        "litellm": {"base_url": litellm.base_url, "flavor": "openai", "default_model": LITELLM_MOCK,
                    "api_key_env": LITELLM_KEY_VAR},
    })
