"""The fault matrix through the TUI: every simulator fault, sent from the prompt of the running app (pilot).

The client-level matrix (tests/faults/test_fault_matrix.py) proves the error kinds, retries, the exact partial text
and that no connection is left open. This one proves what the *user* sees for the same rows:

* a failing answer shows its error inline, where the answer would be: the provider's own words and what to do
  (the ChatLog's last message carries it, and the rendered lines show it), with an error notification and the
  stats bar in its error state;
* the prompt is never lost: the user message stays in the transcript; when nothing of the answer arrived the
  prompt is back in the input, and when the answer had started the partial text is kept (and the prompt is in
  the input's history);
* the app keeps running: another prompt afterwards gets a full answer;
* odd but valid streams (missing `[DONE]`, empty `choices`, keep-alive comments, CRLF, a big chunk, invalid UTF-8)
  give the full answer and no error.

Most rows run against the built-in `demo` profile (the in-process simulator), fast (`[[tps:5000]]`, `[[ttft:0]]`)
and echoing a known prompt (`[[echo]]`), so partial answers are known exactly. The demo's in-process transport has
no read timeout, so the two timeout rows (`stall_first`, `stall_mid`) run against a loopback simulator through a
config profile with a 0.5 s read timeout. Retries are switched off (`max_retries = 0`) except for the 429 row, where
the point is a `retry-after` above the client's cap: the client-level matrix already proves the retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from botticelli.config import Config
from botticelli.simulator.content import filler_text
from botticelli.simulator.directives import FAULTS
from botticelli.simulator.server import running_simulator
from botticelli.tui.app import BotticelliApp
from botticelli.tui.widgets.stats_bar import StatsBar
from faults import AFTER, BAD_UTF8_SHOWN, ECHO, FAST_SIM, PROMPT, READ_TIMEOUT_S, SIM_MODEL, head, tail

from .app_helpers import last_message, log_of, prompt_of, send, wait_until, write_config

SIZE = (120, 40)
FAST = "[[ttft:0]] [[tps:5000]] [[echo]]"
BIG = 20_000  # characters in the `big_chunk` row (the client matrix sends 1 MB)
DEMO_MODEL = "demo-fast"
GUTTER = "▌"


@dataclass(frozen=True)
class Case:
    """One row: the fault and what the user must see."""

    name: str
    fault: str
    kind: str | None  # None: the answer must succeed
    text: str  # the assistant message's text afterwards: "" (nothing arrived), the partial text, or the answer
    says: tuple[str, ...] = ()  # in the inline error: the provider's own words
    hint_says: str = ""  # in the inline error's "what to do" line
    loopback: bool = False  # needs a real socket (a read timeout): a config profile on a loopback simulator
    retries: bool = False  # the built-in demo profile's retries (2, retry-after capped at 30 s)


# fmt: off
MATRIX = [
    # --- refused before anything streams: the prompt goes back into the input ------------------------------
    Case("401", "401", "auth", "", ("HTTP 401", "Invalid API Key"), "API key"),
    Case("403", "403", "auth", "", ("HTTP 403", "Organization has been restricted"), "permissions"),
    Case("404", "404", "model_not_found", "", ("HTTP 404", "model_not_found", f"`{DEMO_MODEL}` does not exist"),
         "botticelli models"),
    Case("decommissioned", "decommissioned", "model_not_found", "",
         ("HTTP 400", "model_decommissioned", "has been decommissioned"), "pick another"),
    Case("context_length", "context_length", "invalid_request", "",
         ("HTTP 400", "context_length_exceeded", "reduce the length"), "shorten"),
    Case("413", "413", "invalid_request", "", ("HTTP 413", "Request too large"), "shorten"),
    Case("422", "422", "invalid_request", "", ("HTTP 422", "Failed to deserialize the JSON body"),
         "change the request"),
    Case("429 above the cap", "429 retry_after=100", "rate_limit", "", ("HTTP 429", "Rate limit reached"),
         "wait 1 min 40 s", retries=True),
    Case("498", "498", "rate_limit", "", ("HTTP 498", "at capacity"), "try again"),
    Case("500", "500", "server", "", ("HTTP 500", "Internal Server Error"), "try again"),
    Case("502", "502", "server", "", ("HTTP 502", "Bad Gateway"), "try again"),
    Case("503", "503", "server", "", ("HTTP 503", "upstream connect error or disconnect/reset before headers"),
         "try again"),
    Case("stall_first", "stall_first seconds=1", "network", "", ("no response from", f"within {READ_TIMEOUT_S:g}s"),
         "try again", loopback=True),
    # --- broken after the answer started: the partial answer is kept ---------------------------------------
    Case("stall_mid", f"stall_mid after={AFTER} seconds=1", "network", head(),
         ("stream stalled", f"no data for {READ_TIMEOUT_S:g}s"), "partial answer is kept", loopback=True),
    Case("cut", f"cut after={AFTER}", "network", head(), ("connection was cut mid-stream",),
         "partial answer is kept"),
    Case("malformed", f"malformed after={AFTER}", "protocol", head(), ("malformed chunk", "{not json"),
         "partial answer is kept"),
    Case("error_event", f"error_event after={AFTER}", "invalid_request", head(), ("Tool call validation failed",),
         "change the request"),
    Case("x_groq_error", f"x_groq_error after={AFTER}", "server", head(), ("injected an x_groq.error",),
         "try again"),
    # --- odd but valid streams: the whole answer, no error -------------------------------------------------
    Case("429 short wait then ok", "429 retry_after=0.2 times=1", None, ECHO, retries=True),
    Case("no_done", "no_done", None, ECHO),
    Case("empty_choices", "empty_choices after=1", None, ECHO),
    Case("keepalive", "keepalive", None, ECHO),
    Case("crlf", "crlf", None, ECHO),
    Case("big_chunk", f"big_chunk after={AFTER} size={BIG}", None, head() + filler_text(BIG) + tail()),
    Case("bad_utf8", f"bad_utf8 after={AFTER}", None, head() + BAD_UTF8_SHOWN + tail()),
]
# fmt: on


@pytest.fixture(scope="module")
def loopback_url() -> Iterator[str]:
    """A real loopback simulator (only the rows that need a socket use it)."""
    with running_simulator(**FAST_SIM) as server:
        yield server.base_url


def config_for(case: Case, config_dir: Path, loopback_url: str | None) -> tuple[Config, str]:
    """The config and profile the app runs with for `case`."""
    if case.loopback:
        assert loopback_url is not None
        text = (
            f'[profiles.sim]\nbase_url = "{loopback_url}"\nflavor = "groq"\ndefault_model = "{SIM_MODEL}"\n'
            f"timeout_s = {READ_TIMEOUT_S}\nconnect_timeout_s = {READ_TIMEOUT_S}\nmax_retries = 0\n"
        )
        return write_config(config_dir, text), "sim"
    if case.retries:
        return write_config(config_dir, ""), "demo"
    return write_config(config_dir, "[profiles.demo]\nmax_retries = 0\n"), "demo"


def squeeze(text: str) -> str:
    """`text` without whitespace: wrapped lines compare equal to the unwrapped text."""
    return "".join(text.split())


def shown(app: BotticelliApp, index: int) -> str:
    """What the chat shows for message `index`: its rendered lines, without the gutter, squeezed."""
    return squeeze("".join(line.replace(GUTTER, "") for line in log_of(app).lines_text(index)))


def error_notifications(app: BotticelliApp) -> list:
    return [n for n in app._notifications if n.severity == "error"]


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.name)
async def test_fault_matrix_through_the_tui(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("loopback_url") if case.loopback else None
    config, profile = config_for(case, tmp_path / "tui-config", url)
    prompt = f"{FAST} {PROMPT} [[fault:{case.fault}]]"
    app = BotticelliApp(config, profile=profile)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, prompt)
        exchange = app.chat.exchanges[-1]
        message = last_message(app)
        assert message is not None and message.role == "assistant"
        log = log_of(app)
        # The prompt stays in the transcript, as sent.
        assert [m.role for m in log.messages] == ["user", "assistant"]
        assert log.messages[0].text == prompt
        assert squeeze(prompt) in shown(app, 0)
        stats = app.chat.query_one(StatsBar)

        if case.kind is None:
            assert exchange.error is None and message.error is None, message.error
            assert message.text == exchange.answer == case.text
            assert exchange.finish_reason == "stop"
            assert message.footer and stats.state == "done"
            rendered = shown(app, 1)  # rendered as Markdown: the plain start and end of the echo show as sent
            assert squeeze(head()) in rendered and squeeze(tail()) in rendered
            assert not error_notifications(app)
            assert prompt_of(app).text == ""
        else:
            assert exchange.error is not None and exchange.error.kind == case.kind, message.error
            # Inline, where the answer would be: the provider's words, then what to do.
            assert message.error
            for words in case.says:
                assert words in message.error, message.error
            assert case.hint_says in message.error, message.error
            lines = message.error.splitlines() or [""]
            assert len(lines) >= 2 and case.hint_says in lines[-1], message.error
            rendered = shown(app, 1)
            for words in (*case.says, case.hint_says):
                assert squeeze(words) in rendered, (words, log.lines_text(1))
            # A notification, and the stats bar says what kind of failure it was.
            notices = error_notifications(app)
            assert notices, "no error notification"
            assert notices[-1].title == f"{profile}: {case.kind.replace('_', ' ')}" and not notices[-1].markup
            assert case.says[0] in notices[-1].message
            assert stats.state == "error" and case.kind.replace("_", " ") in stats.render_content().plain
            # What arrived is kept, exactly; nothing is invented.
            assert message.text == exchange.answer == case.text
            if case.text:
                assert squeeze(case.text) in rendered
                # The answer had started: the prompt lives in the transcript and the input's history.
                assert prompt_of(app).text == ""
                assert prompt_of(app).prompt_history[-1] == prompt
            else:
                # Nothing arrived: the prompt is back in the input, ready to send again.
                assert prompt_of(app).text == prompt
                assert exchange.wire() == []

        # The app keeps running: the next prompt gets a whole answer.
        await send(pilot, f"{FAST} {PROMPT}")
        again = last_message(app)
        assert again is not None and again.error is None, again.error
        assert again.text == app.chat.exchanges[-1].answer == ECHO
        assert [m.role for m in log.messages] == ["user", "assistant", "user", "assistant"]
        assert log.messages[1].error == message.error  # the earlier error is still in the transcript
        assert stats.state == "done"
        await wait_until(pilot, lambda: app.is_running, "the app to keep running")


async def test_the_matrix_covers_every_simulator_fault() -> None:
    """A fault added to the simulator's table must get a row here too."""
    assert {case.fault.split()[0] for case in MATRIX} == set(FAULTS)
