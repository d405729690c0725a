"""Botticelli's simulator: a local OpenAI-compatible server with provider flavours, known speeds and faults.

It is the ground truth for benchmarks, the backend of the offline `demo` profile and the target of the
fault-matrix tests. Stdlib + httpx only.

Entry points
------------
* `SimSettings(flavor="groq"|"huggingface"|"openai", tps=500, ttft_s=0.2, speeds={}, models=None)`
* `running_simulator(settings=None, *, host="127.0.0.1", port=0, **settings_kw)`: a sync context manager
  running a real loopback server in a thread; yields a `SimServer` (`.base_url` = `http://127.0.0.1:PORT/v1`,
  `.root_url`, `.port`, `.state`).
* `await serve(settings, host="127.0.0.1", port=0)`: the same in the running loop; stop with `await .aclose()`.
* `SimulatorTransport(settings=None, state=None)`: an `httpx.AsyncBaseTransport` serving in-process.
* `SimEngine(settings, state).handle(SimRequest) -> SimResponse`: the socket-free handler behind both.

Routes: `GET /v1/models`, `GET /v1/models/{id}`, `POST /v1/chat/completions` (stream or not); the groq
flavour also under `/openai/v1`. Control: `GET /_sim/stats[?wait_idle=S]` -> `{"requests", "chat_requests",
"open_connections", "open_streams"}` (`/_sim/*` calls are not counted; the asking connection is not counted
as open; `wait_idle` waits up to S seconds for the others to close), `POST /_sim/reset` zeroes the counters,
fault counters and rate limits, `GET /_sim/requests` lists the last 50 chat requests (path, headers, JSON body,
faults applied).

Built-in models (every flavour): `demo-fast` (800 tok/s, TTFT 0.2 s), `demo-slow` (60 tok/s, TTFT 0.8 s),
`demo-reasoning` (400 tok/s, TTFT 0.3 s, reasoning deltas first), then realistic ids per flavour. Any other
model id is accepted for chat at the default speed; a listed model with `active: false` gets the
decommissioned error.

Directives (per request; a `[[...]]` in the last user message wins over the header, and is removed from the
text the simulator sees and echoes)

| header | in the message | effect |
|---|---|---|
| `x-sim-tps: 800` | `[[tps:800]]` | decode speed, tokens/s; `0` or `inf` = unpaced |
| `x-sim-ttft: 0.2` | `[[ttft:0.2]]` | seconds from request to first token |
| `x-sim-tokens: 500` | `[[tokens:500]]` | answer length in tokens (repeating Markdown sections) |
| `x-sim-reasoning: 40` | `[[reasoning:40]]` | reasoning tokens before the answer (not in the openai flavour) |
| `x-sim-echo: 1` | `[[echo]]` | the answer is the user's message, directives removed, verbatim |
| `x-sim-fault: NAME k=v ...` | `[[fault:NAME k=v ...]]` | inject a fault; several separated by `;` |

Successful chat responses carry `x-sim-tps` and `x-sim-ttft`: the speed actually used (the benchmark's ground
truth). Every fault takes `times=N`: it fires for the first N requests carrying that exact spec string (counted per
spec in `SimState`), later ones succeed. Without `times` it always fires. A bad directive gets a 400
(`code: invalid_sim_directive`). Status faults and `stall_first` also work on `GET /models` (header only).
`after=K` counts tokens (reasoning + content) sent before the fault acts.

| fault | keys | status / behaviour | body (source) |
|---|---|---|---|
| `401` | | 401 | groq `invalid_api_key` (F); hf string error + `www-authenticate` (F); openai (S) |
| `403` | | 403 | groq `organization_restricted`, hf string error, openai no access (S) |
| `404` | | 404 | groq/openai `model_not_found` naming the model (F); hf `Model X does not exist` (F) |
| `decommissioned` | | 400 | groq `model_decommissioned` (F); hf `model_not_supported` (F shape); openai (S) |
| `context_length` | | 400 | `context_length_exceeded`, `param: messages`; groq (F), others (S) |
| `413` | | 413 | groq request too large, `type: tokens` (F); others (S) |
| `422` | | 422 | `text/plain` TGI body, every flavour (F hf_router_error_422_plaintext.txt) |
| `429` | `retry_after=S` `retry_after_ms=MS` | 429 + `retry-after` (2) / `-ms` | groq RPM body (F); others (S) |
| `498` | | 498 | `capacity_exceeded` (S: Groq documents the status only) |
| `500` | | 500 | groq (S); hf together body with `id` + `retry-after: 1` (F); openai (S) |
| `502` | | 502 | Cloudflare HTML page |
| `503` | | 503 | groq/hf Envoy `text/plain` (F groq_error_503_upstream_reset.txt); openai JSON (S) |
| `stall_first` | `seconds=5` | sleep before the headers | |
| `stall_mid` | `after=n/2 seconds=5` | pause after K tokens | non-stream: the body comes later |
| `cut` | `after=n/2` | socket aborted, no chunk terminator | httpx: `RemoteProtocolError`; non-stream: half a body |
| `malformed` | `after=1` | one `data: {not json` event, then on | non-stream: the body is `{not json` |
| `error_event` | `after=n/2` | `event: error`, then the end, no `[DONE]` | Groq's error with `status_code` (F) |
| `x_groq_error` | `after=n/2` | a chunk with string `x_groq.error`, then `[DONE]` | |
| `no_done` | | finish + usage chunks, then EOF | as hf_router_stream_cerebras.sse |
| `empty_choices` | `after=1` | an extra `choices: []` chunk, no usage | |
| `big_chunk` | `after=1 size=1048576` | one content chunk of `size` characters | counts as size/4 tokens |
| `bad_utf8` | `after=1` | one content chunk with invalid UTF-8 in the JSON | counts as 1 token |
| `keepalive` | | `: ping` at the start and before every chunk | |
| `crlf` | | every line ends with CRLF | |

(F): a recorded fixture's body (tests/fixtures/recorded); (S): synthesized in the provider's usual shape.

Flavours: groq (2026: `x_groq` id+seed in the first chunk, `x_groq.usage` and top-level `usage` on the finish
chunk, Groq usage timings with `completion_time = n / tps`, `delta.reasoning` + `channel: analysis`, day/minute
leaky-bucket `x-ratelimit-*` with Go-duration resets, `x-request-id: req_…`, bodies ending in `\\n`); openai
(`usage: null` on every chunk when `include_usage`, `obfuscation`, `refusal: null` in the first delta, a
trailing `choices: []` usage chunk, dated model snapshots, no reasoning stream); huggingface (TGI chunks with
`id: ""` and the role in every delta, `finish_reason` on the last token, a trailing `choices: []` usage chunk,
`:provider` suffixes stripped from the returned model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botticelli.simulator.engine import ConnectionCut, SimEngine, SimRequest, SimResponse
from botticelli.simulator.settings import FLAVORS, ModelSpeed, SimModel, SimSettings
from botticelli.simulator.state import SimState

if TYPE_CHECKING:
    from botticelli.simulator.server import SimServer, running_simulator, serve
    from botticelli.simulator.transport import SimulatorTransport

__all__ = [
    "FLAVORS",
    "ConnectionCut",
    "ModelSpeed",
    "SimEngine",
    "SimModel",
    "SimRequest",
    "SimResponse",
    "SimServer",
    "SimSettings",
    "SimState",
    "SimulatorTransport",
    "running_simulator",
    "serve",
]

_LAZY = {
    "SimServer": "botticelli.simulator.server",
    "running_simulator": "botticelli.simulator.server",
    "serve": "botticelli.simulator.server",
    "SimulatorTransport": "botticelli.simulator.transport",
}


def __getattr__(name: str) -> Any:
    """Import the server and the httpx transport only when asked for."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
