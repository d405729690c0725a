"""Hostile model output: terminal escape sequences and markup-looking text, echoed back by a loopback simulator.

The simulator's `[[echo]]` makes the "model" answer with exactly the text we send, split into ~4-character tokens,
so every sequence also arrives cut across SSE chunks. What the user must see from `botticelli ask`:

* plain output: no ESC, C1 (0x80-0x9f), BEL, BS, DEL or carriage return from the model; the visible text around
  and inside the sequences (an OSC 8 link's label, SGR-coloured words) is kept; markup is shown literally;
* `--raw`: the answer byte for byte, escapes included (documented in docs/ARCHITECTURE.md: "--raw: keep escapes");
* `--json`: `text` stripped the same way (`--json --raw` keeps them, JSON-escaped);
* sessions: stored losslessly, but `sessions show` / `export --format md` print them stripped and the JSON
  export keeps them as `\\u` escapes, so printing any of it to a terminal is safe.
"""

from __future__ import annotations

import json
import re

import pytest

import faults
from faults import Recorder, Sim, cli_inprocess, cli_subprocess, sim_profile, write_config

echo_server = faults.echo_server  # the shared simulator fixtures
sim = faults.sim

# (name, what the model sends, what the user sees)
ESCAPES = [
    ("OSC 52 clipboard write (BEL)", "A\x1b]52;c;aGVsbG8=\x07B", "AB"),
    ("OSC 52 clipboard write (ST)", "A\x1b]52;c;aGVsbG8=\x1b\\B", "AB"),
    ("OSC 8 hyperlink", "A \x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\ B", "A click here B"),
    ("OSC 0 window title", "A\x1b]0;pwned\x07B", "AB"),
    ("CSI 2J clear screen + home", "A\x1b[2J\x1b[HB", "AB"),
    ("cursor moves and save/restore", "A\x1b[5A\x1b[10C\x1b7\x1b8\x1b[sB\x1b[u", "AB"),
    ("SGR colour", "A \x1b[31mred\x1b[0m B", "A red B"),
    ("C1 CSI 0x9b", "A\x9b31mB", "AB"),
    ("C1 OSC 0x9d ... ST 0x9c", "A\x9d0;title\x9cB", "AB"),
    ("DCS", "A\x1bPq#0;2;0;0;0\x1b\\B", "AB"),
    ("BEL", "ding\x07 dong", "ding dong"),
    ("carriage return overwrite", "rm -rf ~ is safe\r# harmless", "rm -rf ~ is safe# harmless"),
    ("backspace overwrite", "yes\x08\x08\x08no", "yesno"),
    ("DEL", "A\x7fB", "AB"),
    ("tabs and newlines are kept", "a\tb\nc", "a\tb\nc"),
]

MARKUP = [
    "[INST] hi [/INST]",
    "use [/] here",
    "x [/",
    "array[i] = [1, 2]",
    "[bold]not bold[/bold]",
    "[type=x, v={'a[0]'}]",
    "[link=https://evil.example]click[/link]",
    "[@click=app.quit]quit[/]",
]

UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # everything but \t and \n, plus DEL and C1
PROFILE = "sim"


def unsafe(text: str) -> list[str]:
    return sorted({f"{ord(c):#04x}" for c in UNSAFE_CHARS.findall(text)})


def unsafe_bytes(data: bytes) -> bool:
    """ESC/BEL/CR/BS raw, or a C1 control encoded as UTF-8 (0xc2 0x80-0x9f)."""
    return bool(re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", data))




def echo(text: str) -> str:
    return f"[[echo]] {text}"


@pytest.mark.parametrize(("name", "sent", "shown"), ESCAPES, ids=[e[0] for e in ESCAPES])
def test_escape_sequences_are_stripped_from_ask(sim: Sim, name: str, sent: str, shown: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    plain = cli_inprocess(["ask", "-p", PROFILE, echo(sent)], capsys)
    assert plain.code == 0
    assert plain.out == shown + "\n"
    assert not unsafe(plain.out)

    raw = cli_inprocess(["ask", "-p", PROFILE, "--raw", echo(sent)], capsys)
    assert raw.code == 0 and raw.out == sent + "\n"  # --raw: exactly what the model sent

    as_json = cli_inprocess(["ask", "-p", PROFILE, "--json", echo(sent)], capsys)
    assert json.loads(as_json.out)["text"] == shown
    assert not unsafe(as_json.out) and "\\u001b" not in as_json.out

    raw_json = cli_inprocess(["ask", "-p", PROFILE, "--json", "--raw", echo(sent)], capsys)
    assert json.loads(raw_json.out)["text"] == sent
    assert not unsafe(raw_json.out)  # JSON escapes every control character: still safe to print


@pytest.mark.parametrize("text", MARKUP)
def test_markup_is_shown_literally(sim: Sim, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    plain = cli_inprocess(["ask", "-p", PROFILE, echo(text)], capsys)
    assert plain.code == 0 and plain.out == text + "\n"
    assert json.loads(cli_inprocess(["ask", "-p", PROFILE, "--json", echo(text)], capsys).out)["text"] == text


CORPUS = " | ".join([sent for _, sent, _ in ESCAPES] + MARKUP)
CORPUS_SHOWN = " | ".join([shown for _, _, shown in ESCAPES] + MARKUP)


def test_the_whole_corpus_through_a_real_process(sim: Sim) -> None:
    """Real stdout bytes of `botticelli ask`: nothing a terminal would act on, everything readable kept."""
    plain = cli_subprocess(["ask", "-p", PROFILE, "--quiet", echo(CORPUS)])
    assert plain.code == 0, plain.err
    assert not unsafe_bytes(plain.out_bytes.removesuffix(b"\n").replace(b"\n", b"").replace(b"\t", b""))
    assert plain.out_bytes.decode("utf-8") == CORPUS_SHOWN + "\n"
    assert plain.err == ""

    raw = cli_subprocess(["ask", "-p", PROFILE, "--quiet", "--raw", echo(CORPUS)])
    assert raw.out_bytes.decode("utf-8") == CORPUS + "\n"
    assert b"\x1b]52;c;aGVsbG8=\x07" in raw.out_bytes and b"\xc2\x9b31m" in raw.out_bytes

    as_json = cli_subprocess(["ask", "-p", PROFILE, "--json", echo(CORPUS)])
    assert not unsafe_bytes(as_json.out_bytes.rstrip(b"\n"))
    assert json.loads(as_json.out)["text"] == CORPUS_SHOWN


def test_the_stats_line_on_stderr_is_safe_too(sim: Sim) -> None:
    result = cli_subprocess(["ask", "-p", PROFILE, echo("\x1b]0;title\x07hi")])
    assert result.code == 0 and not unsafe(result.err)


def test_sessions_store_everything_and_print_it_safely(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    first = cli_inprocess(["ask", "-p", PROFILE, "--session", "new", "--json", echo(CORPUS)], capsys)
    session_id = json.loads(first.out)["session_id"]

    exported = cli_subprocess(["sessions", "export", session_id, "--format", "json"])
    assert exported.code == 0 and not unsafe_bytes(exported.out_bytes.replace(b"\n", b""))
    answer = json.loads(exported.out)["messages"][1]
    assert answer["content"] == CORPUS  # lossless: the model's exact text is kept (as JSON escapes)

    markdown = cli_subprocess(["sessions", "export", session_id, "--format", "md"])
    assert markdown.code == 0
    assert not unsafe_bytes(markdown.out_bytes.replace(b"\n", b""))
    assert CORPUS_SHOWN in markdown.out

    openai = cli_subprocess(["sessions", "export", session_id, "--format", "openai"])
    assert openai.code == 0 and not unsafe_bytes(openai.out_bytes.replace(b"\n", b""))

    shown = cli_subprocess(["sessions", "show", session_id])
    assert shown.code == 0 and not unsafe_bytes(shown.out_bytes.replace(b"\n", b""))
    assert "click here" in shown.out and "[INST] hi [/INST]" in shown.out


def hostile_error(path: str, authorization: str) -> tuple[int, dict[str, object]]:
    """A provider error whose message and code try to clear the screen, set the title and fake markup."""
    return 400, {"error": {"message": "bad \x1b[2J\x1b]0;pwned\x07request [/INST] \x9b31m[bold]x[/bold]",
                           "type": "invalid_request_error", "code": "bad\x1b[31m_code"}}


def test_a_provider_error_message_is_printed_safely() -> None:
    """Server text reaches stderr and the JSON `error` too: it is stripped like model text, markup kept."""
    with Recorder(hostile_error) as server:
        write_config(sim_profile(PROFILE, server.base_url, max_retries=0))
        plain = cli_subprocess(["ask", "-p", PROFILE, "hello"])
        as_json = cli_subprocess(["ask", "-p", PROFILE, "--json", "hello"])
    assert plain.code == as_json.code == 6
    (line,) = plain.err_lines
    assert line == ("error: sim: HTTP 400 bad_code: bad request [/INST] [bold]x[/bold] "
                    "(change the request and try again)")
    assert not unsafe(plain.err)
    assert not unsafe_bytes(as_json.out_bytes.rstrip(b"\n"))
    error = json.loads(as_json.out)["error"]
    assert (error["message"], error["code"]) == ("bad request [/INST] [bold]x[/bold]", "bad_code")
