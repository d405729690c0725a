"""Session export (JSON, Markdown, OpenAI list) and import validation."""

from __future__ import annotations

import json

import pytest

from botticelli.sessions import NewMessage, NewSession, SessionImportError, SessionStore, SessionStoreError
from botticelli.sessions.export import (
    dumps_json,
    export_document,
    load_document,
    openai_messages,
    to_markdown,
    validate_document,
)
from helpers_sessions import STATS

ERROR = {
    "kind": "rate_limit",
    "status": 429,
    "code": "rate_limit_exceeded",
    "message": "Slow down",
    "retry_after_s": 2.0,
}
CODE = "Here:\n```python\nprint('Grüße, мир, 世界')  # \x1b[2J\n```\n"


@pytest.fixture
def store() -> SessionStore:
    with SessionStore.open() as opened:
        yield opened


@pytest.fixture
def session_id(store: SessionStore) -> str:
    """A session with every kind of turn: figures, an error, a cancelled partial answer, reasoning, a cut one."""
    session = store.create_session(title="Export me ✓", system_prompt="Answer in one line.")
    store.add_message(session.id, "user", "Show me code with unicode")
    answer = store.begin_assistant(session.id, "groq", "llama-3.1-8b-instant")
    store.finish_message(answer, CODE, "The user wants **unicode**.", "stop", STATS, None)
    store.add_message(session.id, "user", "Again, faster")
    failed = store.begin_assistant(session.id, "groq", "llama-3.1-8b-instant")
    store.finish_message(failed, "", None, "error", None, ERROR)
    store.add_message(session.id, "system", "Switched to the demo profile")
    cancelled = store.begin_assistant(session.id, "demo", "sim-fast")
    store.finish_message(cancelled, "Half an ans", None, "cancelled", {**STATS, "tokens_exact": False}, None)
    store.add_message(session.id, "user", "Last one")
    cut = store.begin_assistant(session.id, "demo", "sim-fast")
    store.checkpoint(cut, "never finis")
    return session.id


def _export(store: SessionStore, session_id: str) -> dict:
    return export_document(store.get_session(session_id), store.messages(session_id))


def test_the_json_export_has_the_design_shape(store: SessionStore, session_id: str) -> None:
    doc = _export(store, session_id)
    assert list(doc) == ["format", "version", "title", "created_at", "system_prompt", "messages"]
    assert (doc["format"], doc["version"], doc["title"]) == ("botticelli.session", 1, "Export me ✓")
    assert doc["system_prompt"] == "Answer in one line."
    user, answer, _, failed, system, cancelled, _, cut = doc["messages"]
    assert list(user) == ["role", "content", "created_at"]
    assert answer == {
        "role": "assistant",
        "content": CODE,
        "reasoning": "The user wants **unicode**.",
        "profile": "groq",
        "model": "llama-3.1-8b-instant",
        "created_at": answer["created_at"],
        "finish_reason": "stop",
        "stats": STATS,
        "error": None,
    }
    assert (failed["finish_reason"], failed["error"], failed["stats"]) == ("error", ERROR, None)
    assert system == {"role": "system", "content": "Switched to the demo profile", "created_at": system["created_at"]}
    assert (cancelled["finish_reason"], cancelled["content"]) == ("cancelled", "Half an ans")
    assert (cut["finish_reason"], cut["content"]) == (None, "never finis")


def test_export_import_export_is_lossless(store: SessionStore, session_id: str) -> None:
    first = _export(store, session_id)
    text = dumps_json(first)
    imported = store.import_session(load_document(text.encode(), "export.json"))
    assert imported.id != session_id and imported.message_count == 8
    second = _export(store, imported.id)
    assert second == first
    assert dumps_json(second) == text
    original = store.get_session(session_id)
    assert (imported.profile, imported.model) == (original.profile, original.model)
    assert [m.status for m in store.messages(imported.id)] == [m.status for m in store.messages(session_id)]


PARAMS = {"temperature": 0.3, "max_tokens": 512}


def test_params_survive_export_and_import(store: SessionStore, session_id: str) -> None:
    store.set_params(session_id, PARAMS)
    first = _export(store, session_id)
    assert list(first) == ["format", "version", "title", "created_at", "system_prompt", "params", "messages"]
    assert first["params"] == PARAMS and first["version"] == 1
    text = dumps_json(first)
    imported = store.import_session(load_document(text.encode(), "export.json"))
    assert store.get_session(imported.id).params == PARAMS
    second = _export(store, imported.id)
    assert second == first and dumps_json(second) == text


def test_a_session_without_params_exports_none_and_older_files_import(store: SessionStore, session_id: str) -> None:
    store.set_params(session_id, {"temperature": None, "max_tokens": None})  # the provider's defaults
    assert "params" not in _export(store, session_id)
    new = validate_document(_valid(), "old.json")  # an export written before `params` existed
    assert new.params is None
    assert store.get_session(store.import_session(new).id).params is None


def test_null_params_are_the_defaults() -> None:
    doc = {**_valid(), "params": {"temperature": None, "max_tokens": 256}}
    assert validate_document(doc, "x").params == {"max_tokens": 256}
    assert validate_document({**_valid(), "params": None}, "x").params is None
    assert validate_document({**_valid(), "params": {"temperature": None}}, "x").params is None
    assert validate_document({**_valid(), "params": {"temperature": 1, "top_p": 0.9}}, "x").params == {
        "temperature": 1,
        "top_p": 0.9,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("hot", "params: expected an object or null, got a string"),
        ([0.3], "params: expected an object or null, got an array"),
        ({"temperature": "hot"}, "params.temperature: expected a number or null, got a string"),
        ({"temperature": True}, "params.temperature: expected a number or null, got a boolean"),
        ({"temperature": {"value": 1}}, "params.temperature: expected a number or null, got an object"),
        ({"max_tokens": 1.5}, "params.max_tokens: expected an integer or null, got 1.5"),
        ({"max_tokens": "512"}, "params.max_tokens: expected an integer or null, got a string"),
        ({"top_p": "high"}, "params.top_p: expected a number or null, got a string"),
    ],
)
def test_import_refuses_bad_params_with_their_place(store: SessionStore, params: object, expected: str) -> None:
    before = store.list_sessions()
    with pytest.raises(SessionImportError) as info:
        validate_document({**_valid(), "params": params}, "chat.json")
    line = info.value.one_line()
    assert line.startswith("error: sessions: cannot import chat.json: ") and expected in line, line
    assert info.value.exit_code == 2
    assert store.list_sessions() == before


@pytest.mark.parametrize(("literal", "shown"), [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity")])
def test_import_refuses_non_finite_params(literal: str, shown: str) -> None:
    """Python's json accepts NaN and Infinity; a temperature must still be a real number."""
    raw = json.dumps(_valid())[:-1] + f', "params": {{"temperature": {literal}}}}}'
    with pytest.raises(SessionImportError, match=f"params.temperature: expected a number or null, got {shown}"):
        load_document(raw.encode(), "chat.json")


def test_bad_params_are_reported_with_every_other_problem() -> None:
    doc = {**_valid(), "params": {"temperature": "hot", "max_tokens": 2.5}}
    doc["messages"][0]["role"] = "bot"
    with pytest.raises(SessionImportError) as info:
        validate_document(doc, "x.json")
    assert info.value.problems == [
        "params.temperature: expected a number or null, got a string",
        "params.max_tokens: expected an integer or null, got 2.5",
        'messages[0].role: expected one of user, assistant, system, got "bot"',
    ]


def test_importing_twice_makes_two_sessions(store: SessionStore, session_id: str) -> None:
    raw = dumps_json(_export(store, session_id)).encode()
    ids = {store.import_session(load_document(raw, "f")).id for _ in range(2)}
    assert len(ids) == 2 and session_id not in ids
    assert len(store.list_sessions()) == 3


def test_json_output_is_terminal_safe_and_still_lossless() -> None:
    data = {"content": "a\x1b]52;c;AAAA\x07b\x9b31mc\x7fd ünï 世界"}
    text = dumps_json(data)
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F for ch in text if ch != "\n")
    assert "ünï 世界" in text and json.loads(text) == data


def test_markdown_is_for_people(store: SessionStore, session_id: str) -> None:
    md = to_markdown(store.get_session(session_id), store.messages(session_id))
    assert md.startswith("# Export me ✓\n")
    assert "## System prompt\n\nAnswer in one line." in md
    assert "## Assistant · groq · llama-3.1-8b-instant · " in md
    assert "```python\nprint('Grüße, мир, 世界')" in md
    assert "<details><summary>Reasoning</summary>" in md
    assert "> TTFT 210ms · " in md and "server 1,000 tok/s" in md and "· stop\n" in md
    assert "~8 tok" in md and "· cancelled\n" in md and "> interrupted\n" in md
    assert "error: rate_limit: HTTP 429 rate_limit_exceeded: Slow down" in md
    assert "\x1b" not in md


def test_openai_format_is_the_plain_messages_list(store: SessionStore, session_id: str) -> None:
    listed = openai_messages(store.get_session(session_id), store.messages(session_id))
    assert listed[0] == {"role": "system", "content": "Answer in one line."}
    assert listed[1] == {"role": "user", "content": "Show me code with unicode"}
    assert all(set(m) == {"role", "content"} and m["content"] for m in listed)
    assert len(listed) == 8  # the failed answer had no text


def _valid() -> dict:
    return {
        "format": "botticelli.session",
        "version": 1,
        "title": "t",
        "created_at": "2026-11-24T21:03:00Z",
        "system_prompt": None,
        "messages": [
            {"role": "user", "content": "hi", "created_at": "2026-11-24T21:03:00Z"},
            {
                "role": "assistant",
                "content": "yo",
                "profile": "groq",
                "model": "m",
                "created_at": "2026-11-24T21:03:01Z",
                "finish_reason": "stop",
                "stats": dict(STATS),
                "error": None,
            },
            {"role": "user", "content": "again"},
            {"role": "assistant", "content": "", "finish_reason": "error", "error": dict(ERROR)},
        ],
    }


def _broken(path: str, value: object) -> dict:
    doc = _valid()
    target = doc
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key = int(last) if isinstance(target, list) else last
    if value is KeyError:
        del target[key]
    else:
        target[key] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (["not", "an", "object"], "expected a JSON object"),
        (_broken("format", "elia.chat"), 'format: expected "botticelli.session", got "elia.chat"'),
        (_broken("format", KeyError), "got nothing"),
        (_broken("version", 2), "version: expected 1, got 2"),
        (_broken("version", "1"), 'version: expected 1, got "1"'),
        (_broken("version", True), "version: expected 1, got true"),
        (_broken("messages.3.role", "tool"), 'messages[3].role: expected one of user, assistant, system, got "tool"'),
        (_broken("messages.0.role", KeyError), "messages[0].role: expected one of user, assistant, system"),
        (_broken("messages.1.content", 42), "messages[1].content: expected a string, got a number"),
        (_broken("messages.1.stats", {"ttft_s": "fast"}), "messages[1].stats.ttft_s: expected a number"),
        (_broken("messages.1.stats", [1]), "messages[1].stats: expected an object or null"),
        (_broken("messages.1.stats", {"tokens_exact": 1}), "messages[1].stats.tokens_exact"),
        (_broken("messages.3.error", {"message": "x"}), "messages[3].error.kind: expected a string"),
        (_broken("messages.2.colour", "red"), "messages[2].colour: unknown field"),
        (_broken("messages.2.created_at", "yesterday"), "messages[2].created_at: expected an ISO-8601 time"),
        (_broken("messages.2", "hello"), "messages[2]: expected an object, got a string"),
        (_broken("created_at", KeyError), "created_at: expected an ISO-8601 time"),
        (_broken("messages", {}), "messages: expected an array, got an object"),
        (_broken("title", 5), "title: expected a string or null"),
        (_broken("extra", 1), "extra: unknown field"),
    ],
)
def test_import_refuses_invalid_documents_with_their_place(doc: object, expected: str) -> None:
    with pytest.raises(SessionImportError) as info:
        validate_document(doc, "chat.json")
    line = info.value.one_line()
    assert line.startswith("error: sessions: cannot import chat.json: ") and expected in line
    assert info.value.exit_code == 2


def test_import_reports_every_problem() -> None:
    doc = _valid()
    doc["messages"][0]["role"] = "bot"
    doc["messages"][2]["content"] = None
    with pytest.raises(SessionImportError) as info:
        validate_document(doc, "x.json")
    assert info.value.problems == [
        'messages[0].role: expected one of user, assistant, system, got "bot"',
        "messages[2].content: expected a string, got null",
    ]
    assert "1 more problem" in info.value.one_line()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"format": "botticelli.session",\n  "version": 1, "messages": [', "invalid JSON at line 2, column"),
        (b"", "invalid JSON at line 1, column 1"),
        (b"\xff\xfe garbage", "not UTF-8"),
    ],
)
def test_import_refuses_bad_json_with_line_and_column(raw: bytes, expected: str) -> None:
    with pytest.raises(SessionImportError, match=expected):
        load_document(raw, "chat.json")


def test_import_accepts_missing_optional_fields_and_normalises_times() -> None:
    doc = _valid()
    doc["created_at"] = "2026-11-24T23:03:00+02:00"
    new = validate_document(doc, "x")
    assert new.created_at == "2026-11-24T21:03:00Z"
    assert new.messages[2].created_at == "2026-11-24T21:03:00Z"  # the session's time when absent
    assert new.messages[1].stats == STATS


def test_a_failing_import_writes_nothing(store: SessionStore) -> None:
    before = store.list_sessions()
    bad = NewSession(
        title="t",
        created_at="2026-11-24T21:03:00Z",
        messages=[
            NewMessage("user", "ok", "2026-11-24T21:03:00Z"),
            NewMessage(None, "no role", "2026-11-24T21:03:00Z"),
        ],
    )  # type: ignore[arg-type]
    with pytest.raises(SessionStoreError):
        store.import_session(bad)
    assert store.list_sessions() == before
    assert store.search("ok") == []
