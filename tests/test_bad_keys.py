"""A malformed key (a control or non-ASCII character) is refused before any request, from every source.

Issue 13 items 1 and 2: the key comes from GROQ_API_KEY, from `api_key` in config.toml or from `api_key_cmd`;
`ask`, `ask --json`, `models`, `profiles --check` and `bench` must each end in one line naming where the key came
from and what is wrong with it, exit 3, with no byte of the key anywhere (stdout, stderr, JSON, the session
database) and no request on the wire (a recording loopback server proves it).
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from botticelli.config import KeySourceError, Profile, has_key, key_status, resolve_api_key
from botticelli.safety import RedactingFilter, secret_forms
from faults import Recorder, cli_inprocess, cli_subprocess, write_config

SECRET = "BADKEYsecret"  # any fragment of the key counts as a leak
BAD_KEYS = {
    "newline": (f"gsk_{SECRET}1234567890\nx", "contains a line break (a control character)"),
    "escape": (f"gsk_{SECRET}1234567890\x1b[2J", "contains a control character"),
    "non-ascii": (f"gsk_{SECRET}1234567890\u00e9", "contains a non-ASCII character"),
}


def leaks(*texts: str | bytes) -> list[str]:
    found = []
    for text in texts:
        blob = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
        if SECRET.encode() in blob:
            found.append(blob[:200].decode("utf-8", "replace"))
    return found


def answer_ok(path: str, authorization: str) -> tuple[int, dict[str, Any]]:
    if path.endswith("/models"):
        return 200, {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "x"}]}
    return 200, {"id": "c", "object": "chat.completion", "model": "m",
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}


@pytest.fixture(scope="module")
def _server() -> Iterator[Recorder]:
    with Recorder(answer_ok) as recorder:
        yield recorder


@pytest.fixture
def server(_server: Recorder) -> Recorder:
    _server.seen.clear()
    return _server


def profile_toml(base_url: str, key_line: str) -> str:
    return (
        'default_profile = "bad"\n\n[profiles.bad]\n'
        f'base_url = "{base_url}"\ndefault_model = "m"\nmax_retries = 3\n{key_line}\n'
    )


def key_command(key: str) -> str:
    script = f"import sys; sys.stdout.buffer.write({key.encode()!r})"
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"


def configure(source: str, key: str, base_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point profile `bad` at `base_url` with `key` from `source`; returns how the message names the source."""
    if source == "env":
        monkeypatch.setenv("BAD_API_KEY", key)
        write_config(profile_toml(base_url, 'api_key_env = "BAD_API_KEY"'))
        return "BAD_API_KEY"
    if source == "config":
        write_config(profile_toml(base_url, f"api_key = {json.dumps(key)}"))
        return "api_key in config.toml"
    write_config(profile_toml(base_url, f"api_key_cmd = {json.dumps(key_command(key))}"))
    return "api_key_cmd"


COMMANDS = {
    "ask": ["ask", "hello"],
    "ask --json": ["ask", "--json", "hello"],
    "ask --session": ["ask", "--session", "new", "--json", "hello"],
    "models": ["models"],
    "bench": ["bench", "-t", "bad:m", "--runs", "1", "--warmup", "0"],
    "bench --json": ["bench", "--json", "-t", "bad:m", "--runs", "1", "--warmup", "0"],
}


# api_key_cmd's key is the first line it prints (like `pass`), so a line break cannot reach the key from there.
CASES = [(source, flaw) for source in ("env", "config", "cmd") for flaw in BAD_KEYS
         if (source, flaw) != ("cmd", "newline")]


@pytest.mark.parametrize(("source", "flaw"), CASES)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_malformed_key_is_refused_before_any_request(
    server: Recorder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    source: str, flaw: str, command: str,
) -> None:
    key, problem = BAD_KEYS[flaw]
    named = configure(source, key, server.base_url, monkeypatch)
    result = cli_inprocess(COMMANDS[command], capsys)
    assert result.code == 3, result.err
    expected = f"error: bad: the API key from {named} {problem} ("
    assert expected in result.err.splitlines()[-1], result.err
    assert server.seen == []  # refused before any request: nothing reached the server, nothing was retried
    data_dir = Path(sys.modules["botticelli.paths"].data_dir())
    stored = [p.read_bytes() for p in data_dir.rglob("*") if p.is_file()]
    assert not leaks(result.out, result.err, *stored)
    if "--json" in command:
        document = json.loads(result.out)
        error = document["error"] if "error" in document else document["runs"][0]["error"]
        assert (error["kind"], error["code"]) == ("auth", "invalid_api_key")
        assert error["message"] == f"the API key from {named} {problem}"


def test_profiles_check_shows_the_problem_and_checks_nothing(
    server: Recorder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key, problem = BAD_KEYS["newline"]
    configure("env", key, server.base_url, monkeypatch)
    for args in (["profiles", "--check"], ["profiles", "--check", "--json"]):
        result = cli_inprocess(args, capsys)
        assert result.code == 0
        assert not leaks(result.out, result.err)
    rows = {row["name"]: row for row in json.loads(result.out)}
    assert rows["bad"]["usable"] is False
    assert f"the API key from BAD_API_KEY {problem}" in rows["bad"]["key"]
    assert rows["bad"]["check"]["skipped"] is True
    assert server.seen == []


def test_a_real_process_refuses_a_key_with_a_newline(server: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's repro, `GROQ_API_KEY=$'gsk_…\\nx' botticelli ask`, through a real process."""
    write_config(profile_toml(server.base_url, 'api_key_env = "GROQ_API_KEY"'))
    key, problem = BAD_KEYS["newline"]
    result = cli_subprocess(["ask", "hello"], env={"GROQ_API_KEY": key})
    assert result.code == 3
    assert result.err.strip().splitlines() == [
        f"error: bad: the API key from GROQ_API_KEY {problem} (set GROQ_API_KEY again, to the key alone)"
    ]
    assert not leaks(result.out, result.err) and server.seen == []


def test_key_status_and_has_key_see_the_problem_without_showing_the_key() -> None:
    profile = Profile(name="p", base_url="https://api.example.com/v1", api_key_env=("K",))
    env = {"K": BAD_KEYS["non-ascii"][0]}
    status = key_status(profile, env)
    assert status.present is True and status.problem == "contains a non-ASCII character"
    assert has_key(profile, env)  # it is there: the TUI tries it and gets the error below, not "set K"
    assert status.describe() == "unusable (K): contains a non-ASCII character"
    with pytest.raises(KeySourceError) as info:
        resolve_api_key(profile, env)
    assert info.value.exit_code == 3 and info.value.code == "invalid_api_key"
    assert not leaks(info.value.one_line(), repr(info.value), json.dumps(info.value.to_dict()))
    literal = Profile(name="p", base_url="https://api.example.com/v1", api_key=BAD_KEYS["newline"][0])
    assert not leaks(key_status(literal).describe())


@pytest.mark.parametrize("flaw", list(BAD_KEYS))
def test_redaction_masks_the_escaped_forms_of_a_key(flaw: str) -> None:
    key = BAD_KEYS[flaw][0]
    redacting = RedactingFilter([key])
    text = f"raw {key} repr {key!r} json {json.dumps(key)} utf8-json {json.dumps(key, ensure_ascii=False)}"
    assert leaks(text) and not leaks(redacting.redact(text))
    assert key in secret_forms(key) and len(secret_forms(key)) >= 2
