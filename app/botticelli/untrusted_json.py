"""JSON from bytes we do not control (a provider's stream, an imported file): decoded without surprises.

`json.loads` turns an escaped lone surrogate (`"X\\ud800Y"`) into a `str` that cannot be printed, encoded or
stored (UnicodeEncodeError far from where it came in), and raises RecursionError on deeply nested input.
`loads` replaces lone surrogates with U+FFFD where the text enters, and reports too-deep nesting as a
`ValueError` like any other malformed JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_ESCAPED_SURROGATE_BYTES = re.compile(rb"\\u[dD][89abcdefABCDEF]")


class TooDeepError(ValueError):
    """The JSON nests deeper than the decoder can follow."""


def replace_surrogates(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (a valid string comes back as it is)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def loads(data: str | bytes) -> Any:
    """`json.loads`, with lone surrogates replaced by U+FFFD; ValueError (TooDeepError) for nesting too deep."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise TooDeepError("the JSON is nested too deeply to read") from None
    return repaired(data, value)


def repaired(data: str | bytes, value: Any) -> Any:
    """`value`, decoded from `data`, with lone surrogates replaced; as is unless `data` escapes a surrogate.

    Callers on a hot path test `"\\u" in data` first and call this only then.
    """
    if isinstance(data, str):
        if "\\u" not in data or _ESCAPED_SURROGATE.search(data) is None:
            return value  # the fast path: no escaped surrogate, so nothing to replace
    elif _ESCAPED_SURROGATE_BYTES.search(data) is None:
        return value
    return without_surrogates(value)


def without_surrogates(value: Any) -> Any:
    """`value` (decoded JSON) with lone surrogates replaced in every string, keys included; walks iteratively."""
    if isinstance(value, str):
        return replace_surrogates(value)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        parent, slot, node = stack.pop()
        if isinstance(node, str):
            fixed = replace_surrogates(node)
            if fixed is not node:
                parent[slot] = fixed
        elif isinstance(node, list):
            stack.extend((node, i, item) for i, item in enumerate(node) if isinstance(item, str | dict | list))
        elif isinstance(node, dict):
            if any(isinstance(k, str) and _SURROGATE.search(k) for k in node):
                fixed_dict = {replace_surrogates(k): v for k, v in node.items()}
                parent[slot] = node = fixed_dict
            stack.extend((node, k, v) for k, v in node.items() if isinstance(v, str | dict | list))
    return root[0]
