"""A handful of saved sessions with fixed dates, for the session browser's snapshot and README screenshot.

`seed_sessions(store)` writes them; the browser then shows the same list on every machine (with the time zone
fixed: dates are shown in local time).
"""

from __future__ import annotations

from botticelli.sessions import NewMessage, NewSession, SessionStore

_FAST = {"ttft_s": 0.21, "total_s": 0.62, "completion_tokens": 312, "tokens_exact": True, "decode_tps": 811.4,
         "e2e_tps": 503.2, "server_tps": 1012.0, "queue_s": 0.017}
_SLOW = {"ttft_s": 0.84, "total_s": 4.1, "completion_tokens": 196, "tokens_exact": True, "decode_tps": 60.1,
         "e2e_tps": 47.8, "server_tps": None, "queue_s": None}

# (title, profile, model, stats, day, [(prompt, answer), ...])
_SESSIONS: tuple[tuple[str, str, str, dict, str, list[tuple[str, str]]], ...] = (
    ("Write a haiku about streaming tokens", "demo", "demo-slow", _SLOW, "2026-11-18T09:12:00Z", [
        ("Write a haiku about streaming tokens", "Bytes fall like spring rain —\neach token a small petal,\n"
         "the answer blossoms."),
    ]),
    ("Rust borrow checker, explained", "huggingface", "meta-llama/Llama-3.1-8B-Instruct:novita", _SLOW,
     "2026-11-20T17:40:00Z", [
        ("Explain the borrow checker like I know C++", "Think of every reference as a compile-time lock: "
         "many readers or one writer, never both. A value computed once and cached in a struct field can be "
         "lent out as `&T` as often as you like, but `&mut T` needs exclusive access."),
        ("And lifetimes?", "Lifetimes name how long a borrow lasts, so the compiler can prove no reference "
         "outlives its value."),
    ]),
    ("Python asyncio: gather vs TaskGroup", "openai", "gpt-4o-mini", _FAST, "2026-11-22T11:05:00Z", [
        ("gather or TaskGroup?", "Prefer `asyncio.TaskGroup` (3.11+): if one task fails, the others are "
         "cancelled and every error is raised together."),
        ("Show an example", "```python\nasync with asyncio.TaskGroup() as tg:\n    a = tg.create_task(f())\n"
         "    b = tg.create_task(g())\n```"),
        ("What about timeouts?", "Wrap it in `asyncio.timeout(5)`."),
        ("Thanks!", "You are welcome."),
    ]),
    ("Groq vs Hugging Face latency", "groq", "llama-3.1-8b-instant", _FAST, "2026-11-23T20:31:00Z", [
        ("Why is Groq's TTFT so low?", "Its LPUs keep the whole model in on-chip SRAM, so there is no cache "
         "miss to DRAM while decoding, and queue times stay in the tens of milliseconds."),
        ("And the HF router?", "It forwards to a partner provider; the first token also pays for that hop."),
        ("Which one for a chat UI?", "Groq for speed; the router for model choice."),
    ]),
    ("How does a CPU cache work?", "demo", "demo-fast", _FAST, "2026-11-24T21:03:00Z", [
        ("How does a CPU cache work?", "A CPU cache keeps recently used memory close to the core. Data moves "
         "in 64-byte **cache lines**; an L1 hit costs about 1 ns, a miss to DRAM about 100 ns."),
        ("Why several levels?", "Small caches are fast and big caches are slow: L1, L2 and L3 trade size "
         "for speed."),
    ]),
)


def seed_sessions(store: SessionStore) -> list[str]:
    """Write the demo sessions (oldest first); returns their ids."""
    ids = []
    for title, profile, model, stats, when, turns in _SESSIONS:
        messages: list[NewMessage] = []
        for prompt, answer in turns:
            messages.append(NewMessage("user", prompt, when))
            messages.append(NewMessage("assistant", answer, when, profile=profile, model=model,
                                       finish_reason="stop", stats=stats))
        ids.append(store.import_session(NewSession(title, when, None, messages)).id)
    return ids
