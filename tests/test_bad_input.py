"""Bad input from the user: every case gets one clear line on stderr, the documented exit code, and changes nothing.

Prompts (empty, blank, 1 MB, over the 8 MB limit, binary stdin), profiles and models that do not exist, every
kind of broken config.toml (the file is left byte for byte as it was) and session files that are truncated or of
another format (`sessions import`; the database keeps its row counts).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import faults
from botticelli.config import display_path
from faults import CliResult, Sim, cli_inprocess, cli_subprocess, write_config

echo_server = faults.echo_server  # the shared simulator fixtures
sim = faults.sim

PROFILE = "sim"




def one_error_line(result: CliResult, code: int, starts: str) -> str:
    assert result.code == code, (result.code, result.err)
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith(starts), line
    assert line.endswith(")"), line  # "(what to do)"
    return line


# -- prompts -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["", "   ", " \n\t \n"], ids=["empty", "spaces", "whitespace"])
def test_an_empty_prompt_is_refused_before_any_request(sim: Sim, prompt: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    result = cli_inprocess(["ask", prompt], capsys)
    line = one_error_line(result, 2, "error: ask: the prompt is empty")
    assert "pipe it on stdin" in line and result.out == ""
    as_json = cli_inprocess(["ask", "--json", prompt], capsys)
    assert as_json.code == 2 and json.loads(as_json.out)["error"]["kind"] == "usage"
    assert sim.stats()["chat_requests"] == 0


def test_empty_stdin_is_refused(sim: Sim) -> None:
    result = cli_subprocess(["ask", "-"], stdin=b"")
    one_error_line(result, 2, "error: ask: the prompt is empty")
    assert sim.stats()["chat_requests"] == 0


def test_a_1_mb_prompt_on_stdin_is_sent_whole(sim: Sim) -> None:
    """Decision: 1 MB is a valid prompt (the limit is 8 MB); the simulator gets every byte and answers."""
    prompt = "[[tokens:5]] " + ("lorem ipsum dolor sit amet " * 40_000)[:1_048_576]
    result = cli_subprocess(["ask", "-p", PROFILE, "--json", "-"], stdin=prompt.encode())
    assert result.code == 0, result.err
    assert json.loads(result.out)["error"] is None and json.loads(result.out)["text"]
    (request,) = sim.requests()
    sent = request["body"]["messages"][-1]["content"]
    assert sent == prompt and len(sent) == 1_048_589


def test_a_prompt_over_8_mb_is_refused_clearly(sim: Sim) -> None:
    result = cli_subprocess(["ask", "-p", PROFILE, "-"], stdin=b"a" * (8 * 1024 * 1024 + 1))
    one_error_line(result, 2, "error: ask: stdin is larger than 8 MB (shorten the prompt)")
    assert sim.stats()["chat_requests"] == 0


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"hello\x00world", "error: ask: stdin looks binary: it contains NUL bytes (pipe text instead)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "error: ask: stdin looks binary"),
        (b"caf\xe9 au lait", "error: ask: stdin is not UTF-8 text: bad byte at offset 3 (pipe text instead)"),
        (b"ok \xff\xfe", "error: ask: stdin is not UTF-8 text: bad byte at offset 3"),
    ],
    ids=["NUL", "PNG", "latin-1", "invalid UTF-8"],
)
def test_binary_stdin_is_refused(sim: Sim, data: bytes, says: str) -> None:
    result = cli_subprocess(["ask", "-p", PROFILE, "-"], stdin=data)
    one_error_line(result, 2, says)
    assert result.out == ""
    assert sim.stats()["chat_requests"] == 0


def test_a_non_positive_max_tokens_is_refused(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    result = cli_inprocess(["ask", "-p", PROFILE, "--max-tokens", "0", "hi"], capsys)
    one_error_line(result, 2, "error: ask: --max-tokens must be a positive number, got 0 (pass 1 or more)")


@pytest.mark.parametrize("value", ["5", "-0.5", "nan"])
def test_a_temperature_outside_0_to_2_is_refused_as_in_the_tui(sim: Sim, value: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from botticelli.chat.conversation import parse_temperature

    result = cli_inprocess(["ask", "-p", PROFILE, "--temperature", value, "hi"], capsys)
    one_error_line(result, 2, "error: ask: --temperature must be between 0 and 2")
    assert sim.stats()["chat_requests"] == 0
    with pytest.raises(ValueError):  # the TUI's settings dialog parses with the same rule
        parse_temperature(value)


# -- profiles and models ------------------------------------------------------------------------------------------


def test_an_unknown_profile_names_the_known_ones(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["ask", "-p", "nope", "hi"], ["models", "-p", "nope"]):
        result = cli_inprocess(args, capsys)
        line = one_error_line(result, 2, 'error: config: unknown profile "nope"')
        assert "groq" in line and PROFILE in line
    assert sim.stats()["requests"] == 0


def test_an_unknown_model_exits_5(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    result = cli_inprocess(["ask", "-p", PROFILE, "-m", "no-such-model", "hi [[fault:404]]"], capsys)
    line = one_error_line(result, 5, "error: sim: HTTP 404 model_not_found: The model `no-such-model` does not exist")
    assert line.endswith("(list the available models with `botticelli models`)")


def test_an_unknown_model_exits_5_as_a_real_process(sim: Sim) -> None:
    result = cli_subprocess(["ask", "-p", PROFILE, "-m", "gone-model", "--json", "hi [[fault:404]]"])
    assert result.code == 5
    assert json.loads(result.out)["error"]["kind"] == "model_not_found"


# -- config.toml --------------------------------------------------------------------------------------------------

KEY = "gsk_PLANTEDsecret1234567890abcd"
GOOD = '[profiles.local]\nbase_url = "http://127.0.0.1:8000/v1"\ndefault_model = "m"\n'
# (name, file text, file mode, what the one line must say after the file name)
BAD_CONFIGS = [
    ("bad TOML", GOOD + "timeout_s = = 3\n", 0o600, "line 4, column 13: "),
    ("not UTF-8", GOOD.encode("utf-8") + b'description = "caf\xe9"\n', 0o600, "line 4: not valid UTF-8 text"),
    ("unknown top-level setting", "default_profil = \"groq\"\n" + GOOD, 0o600, "default_profil: unknown setting"),
    ("unknown profile field", GOOD + "timeout = 3\n", 0o600, "profiles.local.timeout: unknown profile field"),
    ("wrong type", GOOD + 'timeout_s = "fast"\n', 0o600, 'profiles.local.timeout_s: expected a number, got "fast"'),
    ("wrong type: max_retries", GOOD + "max_retries = 1.5\n", 0o600, "profiles.local.max_retries: expected a whole"),
    ("bad URL", '[profiles.local]\nbase_url = "127.0.0.1:8000/v1"\n', 0o600,
     'profiles.local.base_url: "127.0.0.1:8000/v1" is not an http(s) URL with a host'),
    ("URL with a key in it", '[profiles.local]\nbase_url = "https://user:pw@h.example/v1"\n', 0o600,
     "profiles.local.base_url: must not contain a user name or password"),
    ("negative timeout", GOOD + "timeout_s = -5\n", 0o600,
     "profiles.local.timeout_s: must be a positive number, got -5"),
    ("zero connect timeout", GOOD + "connect_timeout_s = 0\n", 0o600, "profiles.local.connect_timeout_s: must be a"),
    ("negative retries", GOOD + "max_retries = -1\n", 0o600, "profiles.local.max_retries: must not be negative"),
    ("a billion retries (issue 13 item 7)", GOOD + "max_retries = 1000000000\n", 0o600,
     "profiles.local.max_retries: must be from 0 to 10, got 1000000000 (write max_retries = 2)"),
    ("eleven retries", GOOD + "max_retries = 11\n", 0o600, "profiles.local.max_retries: must be from 0 to 10"),
    ("a timeout of days", GOOD + "timeout_s = 1e6\n", 0o600,
     "profiles.local.timeout_s: must be at most 3600, got 1000000.0"),
    ("a rate limit typo", GOOD + "[profiles.local.rate_limits]\nrequests_per_minute = 10000000000\n", 0o600,
     "profiles.local.rate_limits.requests_per_minute: must be from 1 to 1,000,000,000"),
    ("unknown flavor", GOOD + 'flavor = "anthropic"\n', 0o600, 'profiles.local.flavor: unknown flavor "anthropic"'),
    ("unknown default profile", 'default_profile = "lcoal"\n' + GOOD, 0o600,
     'default_profile: no profile named "lcoal"'),
    ("a key pasted as a variable name", GOOD + f'api_key_env = "{KEY}"\n', 0o600,
     "profiles.local.api_key_env: gsk_…abcd is not an environment variable name"),
    ("plain-text key, world-readable file", GOOD + f'api_key = "{KEY}"\n', 0o644,
     "profiles.local.api_key: the file contains a plain-text api_key but is readable by others (run: chmod 600 "),
    ("plain-text key, group-readable file", GOOD + f'api_key = "{KEY}"\n', 0o640,
     "profiles.local.api_key: the file contains a plain-text api_key but is readable by others"),
]


@pytest.mark.parametrize(("name", "text", "mode", "says"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_a_broken_config_is_one_line_naming_the_file_and_is_never_rewritten(
    name: str, text: str | bytes, mode: int, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config("", mode=mode)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    expected = f"error: config: {display_path(path)}: {says}"
    for args in (["ask", "-p", "local", "hello"], ["config", "validate"], ["config", "show"], ["profiles"],
                 ["models", "-p", "local"]):
        result = cli_inprocess(args, capsys)
        line = one_error_line(result, 2, expected)
        assert KEY not in result.out + result.err and "PLANTED" not in line
        assert result.out == "", args
    assert path.read_bytes() == before
    assert path.stat().st_mode & 0o777 == mode


def test_a_broken_config_through_a_real_process() -> None:
    path = write_config(GOOD + "timeout_s = -5\n")
    before = path.read_bytes()
    result = cli_subprocess(["ask", "-p", "local", "--json", "hello"])
    line = one_error_line(result, 2, f"error: config: {display_path(path)}: profiles.local.timeout_s")
    error = json.loads(result.out)["error"]
    assert error["kind"] == "config" and line == f"error: config: {error['message']} (write timeout_s = 60)"
    assert path.read_bytes() == before


# -- session files ------------------------------------------------------------------------------------------------


def counts() -> tuple[int, int]:
    from botticelli import paths

    with sqlite3.connect(paths.sessions_db()) as db:
        return (db.execute("SELECT count(*) FROM sessions").fetchone()[0],
                db.execute("SELECT count(*) FROM messages").fetchone()[0])


@pytest.fixture
def exported(sim: Sim, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    """A saved session (2 turns) and its exports in every format, plus some files that are not exports."""
    first = cli_inprocess(["ask", "-p", PROFILE, "--session", "new", "--json", "hello [[tokens:5]]"], capsys)
    session_id = json.loads(first.out)["session_id"]
    assert cli_inprocess(["ask", "-p", PROFILE, "--session", session_id, "again [[tokens:5]]"], capsys).code == 0
    files = {}
    for fmt in ("json", "md", "openai"):
        files[fmt] = tmp_path / f"export.{fmt}"
        assert cli_inprocess(["sessions", "export", session_id, "--format", fmt, "-o", str(files[fmt])],
                             capsys).code == 0
    return files


def broken_files(exported: dict[str, Path], tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """(file, what the one line must say) for each kind of bad import."""
    good = exported["json"].read_bytes()
    document = json.loads(good)

    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    wrong_version = dict(document, version=99)
    bad_role = dict(document, messages=[dict(document["messages"][0], role="wizard"), *document["messages"][1:]])
    return {
        "truncated": (write("truncated.json", good[: len(good) // 2]), "invalid JSON at line"),
        "cut after one byte": (write("one.json", good[:1]), "invalid JSON"),
        "empty file": (write("empty.json", b""), "invalid JSON"),
        "markdown export": (exported["md"], "invalid JSON"),
        "openai messages list": (exported["openai"], "expected a JSON object (a botticelli.session export)"),
        "binary": (write("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"), "not UTF-8 text"),
        "a newer version": (write("v99.json", json.dumps(wrong_version).encode()), "version: expected 1, got 99"),
        "an unknown role": (write("role.json", json.dumps(bad_role).encode()), "messages[0].role"),
        "missing file": (tmp_path / "does-not-exist.json", "cannot read"),
    }


def test_bad_session_files_are_refused_and_change_nothing(exported: dict[str, Path], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    before = counts()
    assert before == (1, 4)
    for name, (path, says) in broken_files(exported, tmp_path).items():
        result = cli_inprocess(["sessions", "import", str(path)], capsys)
        line = one_error_line(result, 2, "error: sessions: ")
        assert says in line, (name, line)
        assert result.out == "", name
        assert counts() == before, name
    # The good export still imports: the refusals above were about the files, not the database.
    assert cli_inprocess(["sessions", "import", str(exported["json"])], capsys).code == 0
    assert counts() == (2, 8)


def test_a_truncated_session_file_through_a_real_process(exported: dict[str, Path], tmp_path: Path) -> None:
    good = exported["json"].read_bytes()
    before = counts()
    result = cli_subprocess(["sessions", "import", "-"], stdin=good[: len(good) - 40])
    line = one_error_line(result, 2, "error: sessions: cannot import stdin: invalid JSON at line")
    assert "truncated" in line
    assert counts() == before
