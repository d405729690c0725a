"""The simulator's answer text: deterministic, varied Markdown split into ~4-character tokens.

Every answer says plainly that it comes from Botticelli's built-in simulator, not from a model. The text
exercises what a chat view must render: paragraphs, a bulleted list, a table, a fenced Python block,
**bold** and `inline code`.
"""

from __future__ import annotations

import itertools
import re
import zlib

_ANSWERS: tuple[str, ...] = (
    """This answer comes from **Botticelli's built-in simulator**, not from a real language model. \
It streams canned Markdown at a known speed, so you can try the interface and measure the client offline.

What the simulator does for you:

- it paces tokens on an absolute schedule, so the measured decode rate matches `--tps`;
- it waits `--ttft` seconds before the first token, like a real provider;
- it can inject faults such as `[[fault:429 times=1]]` to test retries.

| Model | Speed | First token |
|---|---:|---:|
| demo-fast | 800 tok/s | 0.2 s |
| demo-slow | 60 tok/s | 0.8 s |

```python
def decode_rate(tokens: int, first: float, last: float) -> float:
    return (tokens - 1) / (last - first)
```

Point a profile at a real provider to get real answers.
""",
    """You are talking to **the Botticelli simulator**. No model was asked and nothing left this machine: \
the words you see are a fixed text, chosen only so that every part of the chat view gets exercised.

A few things you can try here:

- ask with `[[tokens:2000]]` for a long answer;
- set `[[tps:60]]` to feel a slow provider;
- add `[[echo]]` to get your own message back, token by token.

| Directive | Effect |
|---|---|
| `tps:N` | tokens per second |
| `ttft:S` | seconds before the first token |
| `fault:NAME` | a provider failure |

```python
import httpx

reply = httpx.get("http://127.0.0.1:8199/v1/models")
print(reply.json()["data"][0]["id"])
```

Switch to the **groq** or **huggingface** profile once a key is set.
""",
    """Hello from **Botticelli's simulator**! This is a stand-in reply, generated locally without any \
language model, so treat its content as filler rather than advice.

Why a simulator is useful:

- benchmarks get a ground truth, because the true speed is known;
- the demo profile works without a network or an API key;
- tests can replay slow, broken or rate-limited providers on demand.

| Flavour | Usage arrives in | Ends with `[DONE]` |
|---|---|---|
| groq | `x_groq.usage` and `usage` | yes |
| huggingface | a `choices: []` chunk | yes |
| openai | a `choices: []` chunk | yes |

```python
for chunk in stream:
    text += chunk.choices[0].delta.content or ""
```

Configure a provider in `config.toml` to talk to a **real** model.
""",
)

_REASONING = (
    "The user sent a message to Botticelli's simulator. There is no model here, so I will not really think:"
    " these reasoning tokens only show how a reasoning trace streams before the answer. I should answer in"
    " Markdown with a list, a table and a code block, and say clearly that the text is canned."
)

_PIECE = re.compile(r"\s*\S+|\s+")
_MAX_WHOLE = 6
_SLICE = 4


def tokenize(text: str) -> list[str]:
    """Split `text` into word pieces of about four characters; joining them gives `text` back exactly."""
    tokens: list[str] = []
    for match in _PIECE.finditer(text):
        piece = match.group()
        if len(piece) <= _MAX_WHOLE:
            tokens.append(piece)
        else:
            parts = max(2, round(len(piece) / _SLICE))
            bounds = [len(piece) * k // parts for k in range(parts + 1)]
            tokens.extend(piece[a:b] for a, b in itertools.pairwise(bounds))
    return tokens


_ANSWER_TOKENS: tuple[tuple[str, ...], ...] = tuple(tuple(tokenize(text)) for text in _ANSWERS)
_LONG_TOKENS: tuple[str, ...] = tuple(t for answer in _ANSWER_TOKENS for t in (*answer, "\n"))
_REASONING_TOKENS: tuple[str, ...] = tuple(tokenize(_REASONING))


def _variant(prompt: str) -> int:
    return zlib.crc32(prompt.encode("utf-8", "surrogatepass")) % len(_ANSWERS)


def default_answer(prompt: str) -> list[str]:
    """The usual answer (150–250 tokens) for `prompt`; the same prompt always gets the same answer."""
    return list(_ANSWER_TOKENS[_variant(prompt)])


def answer_tokens(n: int, prompt: str = "") -> list[str]:
    """Exactly `n` tokens of simulator Markdown, repeating the sections as often as needed."""
    if n <= 0:
        return []
    start = sum(len(a) + 1 for a in _ANSWER_TOKENS[: _variant(prompt)])
    size = len(_LONG_TOKENS)
    return [_LONG_TOKENS[(start + i) % size] for i in range(n)]


def reasoning_tokens(n: int) -> list[str]:
    """`n` tokens of a short, plainly fake reasoning trace (repeated if `n` is large)."""
    size = len(_REASONING_TOKENS)
    return [_REASONING_TOKENS[i % size] for i in range(max(n, 0))]


def default_reasoning_length() -> int:
    """How many reasoning tokens a reasoning model emits when no directive says otherwise."""
    return len(_REASONING_TOKENS)


def filler_text(size: int) -> str:
    """`size` characters of answer text (for the 1 MB `big_chunk` fault)."""
    block = "".join(_LONG_TOKENS)
    return (block * (size // len(block) + 1))[:size]
