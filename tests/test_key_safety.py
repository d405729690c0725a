"""API keys never leave their profile: a planted key is looked for in every output Botticelli produces.

The key `gsk_PLANTEDsecret1234567890abcd` is set in GROQ_API_KEY for a `groq` profile pointed at a loopback
simulator, and grepped for in: `ask` stdout/stderr and `--json` (success and every failure kind, including a 401
whose body echoes the key back), `config show` (+ `--json`), `profiles` (+ `--check`), `models`, logs at DEBUG
(root, httpx, httpcore; caplog and a real StreamHandler), tracebacks, session files and exports (and the raw
SQLite bytes), and what servers received: the key goes only in the Authorization header, only to its own
profile's base URL. Where a key is shown at all it is masked, `gsk_…abcd`.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from botticelli.providers.errors import ProviderError
from botticelli.safety import REDACTED_LOGGERS, RedactingFilter
from botticelli.simulator.server import SimServer, running_simulator
from faults import FAST_SIM, SIM_MODEL, Recorder, Sim, cli_inprocess, cli_subprocess, write_config

KEY = "gsk_PLANTEDsecret1234567890abcd"
MASKED = "gsk_…abcd"
SECRET_PART = "PLANTEDsecret"  # any fragment of the key counts as a leak
OTHER_KEY = "sk-OTHERprofilekey00000000000000wxyz"


def leaks(*texts: str | bytes) -> list[str]:
    """Which of `texts` contain any part of the planted key (as text, bytes, or JSON-escaped)."""
    found = []
    for text in texts:
        blob = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
        if SECRET_PART.encode() in blob or KEY[-12:].encode() in blob:
            found.append(blob[:200].decode("utf-8", "replace"))
    return found


# -- what the loopback recording server answers -----------------------------------------------------------------


def answer_ok(path: str, authorization: str) -> tuple[int, dict[str, Any]]:
    """`GET .../models` lists one model; a chat request gets one (non-streamed) completion."""
    if path.endswith("/models"):
        return 200, {"object": "list", "data": [{"id": "rec-model", "object": "model", "owned_by": "rec"}]}
    return 200, {"id": "c1", "object": "chat.completion", "model": "rec-model",
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "recorded ok"},
                              "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


def answer_echo401(path: str, authorization: str) -> tuple[int, dict[str, Any]]:
    """OpenAI's 401 body, with the key from the Authorization header echoed back in full (a careless proxy)."""
    given = authorization.removeprefix("Bearer ")
    return 401, {"error": {"message": f"Incorrect API key provided: {given}. You can find your API key "
                                      "at https://platform.openai.com/account/api-keys.",
                           "type": "invalid_request_error", "code": "invalid_api_key"}}


# -- fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _groq_sim() -> Iterator[SimServer]:
    with running_simulator(**FAST_SIM) as server:
        yield server


@pytest.fixture
def groq_sim(_groq_sim: SimServer) -> Sim:
    sim = Sim(_groq_sim)
    sim.wait_closed()
    sim.reset()
    return sim


@pytest.fixture
def other() -> Iterator[Recorder]:
    with Recorder(answer_ok) as recorder:
        yield recorder


@pytest.fixture
def echo401() -> Iterator[Recorder]:
    with Recorder(answer_echo401) as recorder:
        yield recorder


@pytest.fixture(autouse=True)
def _planted_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GROQ_API_KEY", KEY)
    monkeypatch.setenv("OTHER_API_KEY", OTHER_KEY)
    yield
    # open_client installs a redaction filter on the logging handlers; leave logging as we found it.
    root = logging.getLogger()
    for target in [root, *root.handlers, *(logging.getLogger(n) for n in REDACTED_LOGGERS)]:
        for f in list(target.filters):
            if isinstance(f, RedactingFilter):
                target.removeFilter(f)


def config(groq_url: str, other_url: str | None = None, extra: str = "") -> Path:
    text = (
        'default_profile = "groq"\n\n'
        "[profiles.groq]\n"
        f'base_url = "{groq_url}"\n'
        f'default_model = "{SIM_MODEL}"\n'
        "timeout_s = 2\nconnect_timeout_s = 1\nmax_retries = 0\n"
    )
    if other_url:
        text += (
            "\n[profiles.other]\n"
            f'base_url = "{other_url}"\n'
            'api_key_env = "OTHER_API_KEY"\n'
            'default_model = "rec-model"\n'
            "timeout_s = 2\nconnect_timeout_s = 1\nmax_retries = 0\n"
        )
    return write_config(text + extra)


def groq_url(sim: Sim) -> str:
    return f"{sim.root_url}/openai/v1"  # Groq's own path layout, served by the groq-flavoured simulator


def key_was_sent_only_as_bearer(sim: Sim) -> None:
    """The simulator did receive the key (so the greps above mean something), only in Authorization."""
    seen = sim.requests()
    assert seen, "no request reached the simulator"
    for request in seen:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers["authorization"] == f"Bearer {KEY}"
        others = {k: v for k, v in headers.items() if k != "authorization"}
        assert not leaks(json.dumps(others), json.dumps(request["body"]), request["path"])


# -- ask --------------------------------------------------------------------------------------------------------

FAULTS = ["", "401", "403", "404", "429 retry_after=100", "500", "cut after=3", "malformed after=2",
          "error_event after=2"]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f or "success")
def test_ask_never_prints_the_key(groq_sim: Sim, fault: str, capsys: pytest.CaptureFixture[str]) -> None:
    config(groq_url(groq_sim))
    prompt = f"hello [[tokens:8]] [[fault:{fault}]]" if fault else "hello [[tokens:8]]"
    plain = cli_inprocess(["ask", prompt], capsys)
    as_json = cli_inprocess(["ask", "--json", prompt], capsys)
    assert (plain.code == 0) == (not fault) and as_json.code == plain.code
    assert not leaks(plain.out, plain.err, as_json.out, as_json.err)
    key_was_sent_only_as_bearer(groq_sim)


def test_ask_as_a_real_process_never_prints_the_key(groq_sim: Sim) -> None:
    config(groq_url(groq_sim))
    ok = cli_subprocess(["ask", "hello [[tokens:8]]"])
    rejected = cli_subprocess(["ask", "--json", "hello [[fault:401]]"])
    assert (ok.code, rejected.code) == (0, 3)
    assert "the key was rejected; check GROQ_API_KEY" in rejected.err  # where the key comes from, not the key
    assert not leaks(ok.out_bytes, ok.err, rejected.out_bytes, rejected.err)


def test_a_401_that_echoes_the_key_is_shown_masked(echo401: Recorder) -> None:
    """OpenAI-style `Incorrect API key provided: <key>`: the user sees which key, masked, never the key."""
    config(echo401.base_url)
    plain = cli_subprocess(["ask", "hello"])
    as_json = cli_subprocess(["ask", "--json", "hello"])
    assert plain.code == as_json.code == 3
    assert KEY.encode() in echo401.seen[0]  # the server really did get (and echo) the key
    assert not leaks(plain.out_bytes, plain.err, as_json.out_bytes, as_json.err)
    assert f"Incorrect API key provided: {MASKED}" in plain.err
    assert MASKED in json.loads(as_json.out)["error"]["message"]


async def test_tracebacks_of_provider_errors_never_hold_the_key(echo401: Recorder, groq_sim: Sim) -> None:
    from botticelli.config import load_config
    from botticelli.providers.types import ChatMessage, ChatRequest
    from botticelli.targets import open_client

    for url, fault in ((echo401.base_url, ""), (groq_url(groq_sim), "[[fault:cut after=2]]"),
                       ("http://127.0.0.1:9/v1", "")):
        config(url)
        client = open_client(load_config().profiles["groq"])
        request = ChatRequest(SIM_MODEL, [ChatMessage("user", f"hi {fault}")])
        try:
            async with client, client.stream(request) as stream:
                async for _event in stream:
                    pass
        except ProviderError as exc:
            text = traceback.format_exc()
            assert not leaks(text, repr(exc), str(exc), json.dumps(exc.to_dict()), exc.one_line())
        else:
            pytest.fail(f"{url}: expected a ProviderError")


# -- config, profiles, models ------------------------------------------------------------------------------------


def test_config_show_and_profiles_never_print_the_key(groq_sim: Sim, other: Recorder,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config(groq_url(groq_sim), other.base_url)
    runs = [
        cli_inprocess(["config", "show"], capsys),
        cli_inprocess(["config", "show", "--json"], capsys),
        cli_inprocess(["config", "validate"], capsys),
        cli_inprocess(["profiles"], capsys),
        cli_inprocess(["profiles", "--json"], capsys),
        cli_inprocess(["profiles", "--check"], capsys),
        cli_inprocess(["profiles", "--check", "--json"], capsys),
        cli_inprocess(["models", "-p", "groq"], capsys),
        cli_inprocess(["models", "-p", "groq", "--json"], capsys),
        cli_inprocess(["models", "-p", "other", "--json"], capsys),
    ]
    assert [r.code for r in runs] == [0] * len(runs), [r.err for r in runs]
    for run in runs:
        assert not leaks(run.out, run.err)
        assert "OTHERprofilekey" not in run.out + run.err
    checked = {row["name"]: row for row in json.loads(runs[6].out)}
    assert checked["groq"]["check"]["ok"] and checked["other"]["check"]["ok"]  # both really were contacted
    assert "GROQ_API_KEY" in runs[0].out  # where the key comes from is shown, not the key


def test_a_key_written_in_the_file_is_shown_masked(capsys: pytest.CaptureFixture[str]) -> None:
    write_config(f'[profiles.groq]\napi_key = "{KEY}"\n', mode=0o600)
    table = cli_inprocess(["config", "show"], capsys)
    as_json = cli_inprocess(["config", "show", "--json"], capsys)
    assert table.code == as_json.code == 0
    assert MASKED in table.out
    groq = next(p for p in json.loads(as_json.out) if p["name"] == "groq")
    assert MASKED in groq["key"]["source"]
    assert not leaks(table.out, table.err, as_json.out, as_json.err)


# -- logs ------------------------------------------------------------------------------------------------------


def test_debug_logs_never_hold_the_key(groq_sim: Sim, echo401: Recorder, caplog: pytest.LogCaptureFixture,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Everything at DEBUG (root, httpx, httpcore) while requests run, through caplog and a real handler."""
    config(groq_url(groq_sim))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    loggers = [root, logging.getLogger("httpx"), logging.getLogger("httpcore")]
    old_levels = [lg.level for lg in loggers]
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        assert cli_inprocess(["ask", "hello [[tokens:8]]"], capsys).code == 0
        assert cli_inprocess(["ask", "hello [[fault:401]]"], capsys).code == 3
        config(echo401.base_url)
        assert cli_inprocess(["ask", "hello"], capsys).code == 3
        # What a library might log with the key in play: a header dump, a request repr, an exception.
        logging.getLogger("httpx").debug("request headers: Authorization: Bearer %s", KEY)
        logging.getLogger("httpcore.http11").debug("send_request_headers %r", [(b"authorization", KEY.encode())])
        logging.getLogger("botticelli.providers").debug("using key %s", KEY)
        try:
            raise RuntimeError(f"failed with {KEY}")
        except RuntimeError:
            logging.getLogger("botticelli.providers").exception("request failed")
    finally:
        root.removeHandler(handler)
        for lg, level in zip(loggers, old_levels, strict=True):
            lg.setLevel(level)
    logged = stream.getvalue()
    assert "HTTP Request: POST" in logged  # httpx did log the requests at this level
    assert "request failed" in logged and MASKED in logged
    assert not leaks(logged, caplog.text, *(r.getMessage() for r in caplog.records))


# -- sessions --------------------------------------------------------------------------------------------------


def test_sessions_and_exports_never_hold_the_key(groq_sim: Sim, echo401: Recorder,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config(groq_url(groq_sim))
    first = cli_inprocess(["ask", "--session", "new", "--json", "hello [[tokens:8]]"], capsys)
    session_id = json.loads(first.out)["session_id"]
    assert cli_inprocess(["ask", "--session", session_id, "again [[fault:cut after=2]]"], capsys).code == 7
    config(echo401.base_url)
    assert cli_inprocess(["ask", "--session", session_id, "and again"], capsys).code == 3

    exports = [cli_inprocess(["sessions", "export", session_id, "--format", f], capsys) for f in ("json", "md",
                                                                                              "openai")]
    shown = cli_inprocess(["sessions", "show", session_id], capsys)
    assert [e.code for e in exports] == [0, 0, 0] and shown.code == 0
    document = json.loads(exports[0].out)
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"] * 3
    assert document["messages"][-1]["error"]["kind"] == "auth"  # the echoing 401 was stored, masked
    data_dir = Path(sys.modules["botticelli.paths"].data_dir())
    raw_files = [p.read_bytes() for p in data_dir.rglob("*") if p.is_file()]
    assert raw_files
    assert not leaks(*(e.out for e in exports), shown.out, *raw_files)


# -- where the key goes ------------------------------------------------------------------------------------------


def test_a_key_goes_only_to_its_own_profile(groq_sim: Sim, other: Recorder,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with running_simulator(**FAST_SIM) as server:
        second = Sim(server)
        keyless = f'\n[profiles.second]\nbase_url = "{second.base_url}"\ndefault_model = "{SIM_MODEL}"\n'
        config(groq_url(groq_sim), other.base_url, extra=keyless)
        assert cli_inprocess(["ask", "-p", "other", "hello"], capsys).code == 0
        assert cli_inprocess(["models", "-p", "other"], capsys).code == 0
        assert cli_inprocess(["ask", "-p", "second", "hello [[tokens:4]]"], capsys).code == 0
        assert cli_inprocess(["profiles", "--check"], capsys).code == 0
        assert cli_inprocess(["ask", "-p", "groq", "hello [[tokens:4]]"], capsys).code == 0
        (seen,) = second.requests()
    # A second simulator, for a profile with no key: no Authorization header at all, the key nowhere.
    assert "authorization" not in {k.lower() for k in seen["headers"]} and not leaks(json.dumps(seen))
    # A recording server for a profile with its own key: every byte it received, GET /models included.
    assert len(other.seen) >= 3
    assert not leaks(*other.seen)
    assert all(f"Bearer {OTHER_KEY}".encode() in raw for raw in other.seen)  # its own key, every time
    key_was_sent_only_as_bearer(groq_sim)


def test_a_key_is_refused_over_plain_http_to_another_host(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The refusal comes before any connection: a transport that fails the test proves nothing was sent."""

    async def no_network(self: Any, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a connection was attempted to {request.url}")

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", no_network)
    write_config('[profiles.groq]\nbase_url = "http://llm.example.com/v1"\n')
    result = cli_inprocess(["ask", "-p", "groq", "--json", "hello"], capsys)
    assert result.code == 2
    (line,) = result.err_lines
    assert line.startswith("error: config: profile groq: would send the API key unencrypted to http://llm.example.com")
    assert "allow_insecure = true" in line
    assert json.loads(result.out)["error"]["message"] in line
    assert not leaks(result.out, result.err)


def test_allow_insecure_lets_the_profile_build_its_client() -> None:
    from botticelli.config import load_config
    from botticelli.targets import open_client

    write_config('[profiles.groq]\nbase_url = "http://llm.example.com/v1"\nallow_insecure = true\n')
    client = open_client(load_config().profiles["groq"])  # builds; nothing is sent until a request is made
    assert client.base_url == "http://llm.example.com/v1"


def test_a_key_command_that_fails_is_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    """`api_key_cmd` printing the key (on stdout and stderr) then failing: a clear error, no key."""
    cmd = f"sh -c 'echo {KEY}; echo {KEY} >&2; exit 1'"
    write_config(f'[profiles.cmd]\nbase_url = "http://127.0.0.1:9/v1"\ndefault_model = "m"\napi_key_cmd = "{cmd}"\n')
    for args in (["ask", "-p", "cmd", "hello"], ["ask", "-p", "cmd", "--json", "hello"], ["models", "-p", "cmd"],
                 ["profiles"], ["profiles", "--check", "--json"]):
        result = cli_inprocess(args, capsys)
        assert not leaks(result.out, result.err), args
    ask = cli_inprocess(["ask", "-p", "cmd", "hello"], capsys)
    assert ask.code == 3  # the key is missing
    (line,) = ask.err_lines
    assert line.startswith("error: cmd: ") and "api_key_cmd failed with exit status 1" in line
    assert "run it yourself" in line
