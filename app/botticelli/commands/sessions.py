"""`botticelli sessions list|show|search|export|import|rename|delete`: saved conversations from the shell."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

IMPORT_MAX_MIB = 256
"""`sessions import` refuses larger files unless `--max-size-mb` says otherwise."""

if TYPE_CHECKING:
    from botticelli.sessions import SearchHit, Session, SessionStore

PAGE = 200  # messages read at a time by `show` and `export`
BOLD, RESET = "\x1b[1m", "\x1b[0m"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sessions", help="list, show, search, export, import and delete saved conversations")
    actions = p.add_subparsers(dest="sessions_action", metavar="ACTION", required=True)

    a = actions.add_parser("list", help="sessions, most recently active first")
    a.add_argument("--json", action="store_true", help="print a JSON list")
    a.add_argument("--limit", type=_positive, metavar="N", help="show at most N sessions")
    a.add_argument("--filter", metavar="TEXT", help="only sessions whose title contains TEXT (any case)")
    a.set_defaults(run=run, action=_list)

    a = actions.add_parser("show", help="print a conversation with its speed figures")
    a.add_argument("id", metavar="ID", help="session id or a unique prefix of it")
    a.set_defaults(run=run, action=_show)

    a = actions.add_parser("search", help="full-text search over all messages and titles")
    a.add_argument("query", nargs="+", metavar="QUERY", help='words that must all appear; "quote" a phrase')
    a.add_argument("--json", action="store_true", help="print a JSON list")
    a.add_argument("--limit", type=_positive, default=50, metavar="N", help="at most N results (default 50)")
    a.set_defaults(run=run, action=_search)

    a = actions.add_parser("export", help="write a session as JSON (lossless), Markdown or an OpenAI list")
    a.add_argument("id", metavar="ID", help="session id or a unique prefix of it")
    a.add_argument("--format", choices=("json", "md", "openai"), default="json", help="default: json")
    a.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    a.set_defaults(run=run, action=_export)

    a = actions.add_parser("import", help="import a JSON export as a new session; prints its id")
    a.add_argument("file", metavar="FILE", help='a file from `sessions export`, or "-" for stdin')
    a.add_argument("--max-size-mb", type=_positive_mib, default=IMPORT_MAX_MIB, metavar="MIB",
                   help=f"refuse files larger than this (default: {IMPORT_MAX_MIB} MiB)")
    a.set_defaults(run=run, action=_import)

    a = actions.add_parser("rename", help="give a session a new title")
    a.add_argument("id", metavar="ID", help="session id or a unique prefix of it")
    a.add_argument("title", nargs="+", metavar="TITLE")
    a.set_defaults(run=run, action=_rename)

    a = actions.add_parser("delete", help="delete a session and its messages")
    a.add_argument("id", metavar="ID", help="session id or a unique prefix of it")
    a.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    a.set_defaults(run=run, action=_delete)


def run(args: argparse.Namespace) -> int:
    from botticelli.sessions import SessionStoreError

    action: Callable[[argparse.Namespace], int] = args.action
    try:
        return action(args)
    except SessionStoreError as exc:
        print(_safe(exc.one_line()), file=sys.stderr)
        return exc.exit_code


def _open() -> SessionStore:
    from botticelli.sessions import SessionStore

    return SessionStore.open()


def _list(args: argparse.Namespace) -> int:
    from botticelli.sessions.export import dumps_json

    with _open() as store:
        sessions = store.list_sessions(limit=args.limit, query=args.filter)
    if args.json:
        print(dumps_json([s.to_dict() for s in sessions]))
        return 0
    if not sessions:
        hint = f"no session title contains '{args.filter}'" if args.filter else "no sessions yet"
        print(_safe(f"{hint} (start one with botticelli, or botticelli ask --session new PROMPT)"), file=sys.stderr)
        return 0
    for line in _table(sessions):
        print(line)
    return 0


def _table(sessions: list[Session]) -> list[str]:
    from rich.cells import cell_len, set_cell_size

    rows = [
        (s.id, _local_time(s.updated_at), _safe(s.display_title), _safe(s.model or ""), str(s.message_count))
        for s in sessions
    ]
    header = ("ID", "UPDATED", "TITLE", "MODEL", "MESSAGES")
    model_w = min(32, max(cell_len(r[3]) for r in [header, *rows]))
    title_w = max(cell_len(r[2]) for r in [header, *rows])
    if sys.stdout.isatty():
        spare = os.get_terminal_size(sys.stdout.fileno()).columns - (12 + 16 + model_w + 8 + 8)
        title_w = max(20, min(title_w, spare))

    def line(row: tuple[str, str, str, str, str]) -> str:
        title = set_cell_size(_ellipsize(row[2], title_w, cell_len), title_w)
        model = set_cell_size(_ellipsize(row[3], model_w, cell_len), model_w)
        return f"{row[0]:<12}  {row[1]:<16}  {title}  {model}  {row[4]:>8}".rstrip()

    return [line(header), *(line(r) for r in rows)]


def _show(args: argparse.Namespace) -> int:
    from botticelli.catalog import total_cost
    from botticelli.sessions.render import message_heading, readable_time, stats_line

    costs: list[Any] = []
    with _open() as store:
        session = store.get_session(store.resolve(args.id))
        out = sys.stdout
        out.write(f"{_safe(session.display_title)}\n")
        out.write(
            f"{session.id} · created {readable_time(session.created_at)} · "
            f"updated {readable_time(session.updated_at)} · {session.message_count} messages\n"
        )
        if session.system_prompt:
            out.write(f"\nsystem prompt:\n{_indent(_safe(session.system_prompt))}\n")
        for offset in range(0, session.message_count, PAGE):
            for message in store.messages(session.id, offset=offset, limit=PAGE):
                out.write(f"\n── {_safe(message_heading(message))} ──\n")
                if message.reasoning:
                    out.write(f"reasoning:\n{_indent(_safe(message.reasoning), '  │ ')}\n")
                if message.content:
                    out.write(_safe(message.content).rstrip("\n") + "\n")
                elif message.role == "assistant":
                    out.write("(no text)\n")
                line = stats_line(message)
                if line:
                    out.write(f"  [{_safe(line)}]\n")
                costs.append(message.stats)
        total = total_cost(costs)
        if total is not None:
            out.write(f"\ntotal cost {total.label()} (the answers with a known price)\n")
    return 0


def _search(args: argparse.Namespace) -> int:
    from botticelli.sessions.export import dumps_json

    query = " ".join(args.query)
    with _open() as store:
        hits = store.search(query, limit=args.limit)
    if args.json:
        print(dumps_json([h.to_dict() for h in hits]))
        return 0
    if not hits:
        print(_safe(f"no matches for '{query}'"), file=sys.stderr)
        return 0
    bold = sys.stdout.isatty()
    for hit in hits:
        title = _safe(hit.title or "(untitled)")
        print(f"{hit.session_id}  {hit.role:<9}  {title}")
        print(f"    {_highlight(hit, bold)}")
    return 0


def _highlight(hit: SearchHit, bold: bool) -> str:
    """The snippet made terminal-safe piece by piece, matches in bold on a terminal."""
    pieces, last = [], 0
    for start, end in hit.spans:
        pieces.append(_safe(hit.snippet[last:start]))
        match = _safe(hit.snippet[start:end])
        pieces.append(f"{BOLD}{match}{RESET}" if bold else match)
        last = end
    pieces.append(_safe(hit.snippet[last:]))
    return "".join(pieces)


def _export(args: argparse.Namespace) -> int:
    from botticelli.sessions.export import dumps_json, export_document, openai_messages, to_markdown

    with _open() as store:
        session = store.get_session(store.resolve(args.id))
        messages = [
            m
            for offset in range(0, session.message_count, PAGE)
            for m in store.messages(session.id, offset=offset, limit=PAGE)
        ]
    if args.format == "md":
        text = to_markdown(session, messages)
    elif args.format == "openai":
        text = dumps_json(openai_messages(session, messages)) + "\n"
    else:
        text = dumps_json(export_document(session, messages)) + "\n"
    if args.output:
        _write_atomically(Path(args.output), text)
        print(_safe(f"exported {session.id} ({len(messages)} messages) to {args.output}"), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _import(args: argparse.Namespace) -> int:
    from botticelli.sessions import SessionStoreError
    from botticelli.sessions.export import load_document

    source = "stdin" if args.file == "-" else args.file
    cap = int(args.max_size_mb * 1024 * 1024)
    try:
        raw = _read_capped(args.file, cap)
    except OSError as exc:
        raise SessionStoreError(f"cannot read {source}: {exc.strerror or exc}", "check the path") from exc
    if raw is None:
        raise SessionStoreError(f"cannot import {source}: it is larger than {args.max_size_mb:g} MiB",
                                "pass --max-size-mb with a larger limit if the file is a real export")
    new = load_document(raw, source)  # everything is checked before the database is even opened
    with _open() as store:
        session = store.import_session(new)
    print(session.id)
    print(
        _safe(f"imported '{session.display_title}' ({session.message_count} messages) as {session.id}"),
        file=sys.stderr,
    )
    return 0


def _read_capped(file: str, cap: int) -> bytes | None:
    """The bytes of `file` (or stdin for "-"), or None when there are more than `cap` (a file is not read)."""
    if file == "-":
        raw = sys.stdin.buffer.read(cap + 1)
    else:
        with Path(file).open("rb") as handle:
            if os.fstat(handle.fileno()).st_size > cap:
                return None
            raw = handle.read(cap + 1)
    return None if len(raw) > cap else raw


def _positive_mib(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of MiB") from None
    if not 0 < value < 1e9:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of MiB")
    return value


def _rename(args: argparse.Namespace) -> int:
    from botticelli.sessions import SessionStoreError

    title = " ".join(args.title)
    with _open() as store:
        session_id = store.resolve(args.id)
        try:
            store.rename(session_id, title)
        except ValueError as exc:
            raise SessionStoreError(str(exc), "give a title with some text in it") from exc
    return 0


def _delete(args: argparse.Namespace) -> int:
    from botticelli.sessions import SessionStoreError

    with _open() as store:
        session = store.get_session(store.resolve(args.id))
        if not args.yes:
            if not sys.stdin.isatty():
                raise SessionStoreError(
                    f"not deleting {session.id} without confirmation", "pass --yes to delete from a script"
                )
            sys.stderr.write(
                _safe(f"Delete session {session.id} '{session.display_title}' ({session.message_count} messages)?")
                + " [y/N] "
            )
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                print("nothing deleted", file=sys.stderr)
                return 0
        store.delete(session.id)
    print(f"deleted {session.id}")
    return 0


def _write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename it over `path`: all or nothing."""
    from botticelli.sessions import SessionStoreError

    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            temp = Path(handle.name)
            try:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            except BaseException:
                handle.close()
                temp.unlink(missing_ok=True)
                raise
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except OSError as exc:
        raise SessionStoreError(
            f"cannot write {path}: {exc.strerror or exc}", "check that the folder exists and is writable"
        ) from exc


def _safe(text: str) -> str:
    from botticelli.safety import strip_escapes

    return strip_escapes(text)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _ellipsize(text: str, width: int, cell_len: Callable[[str], int]) -> str:
    if cell_len(text) <= width:
        return text
    while text and cell_len(text) > width - 1:
        text = text[:-1]
    return text + "…"


def _local_time(timestamp: str) -> str:
    """`2026-11-24T21:03:00Z` as local time, `2026-11-24 22:03`."""
    from botticelli.sessions.models import parse_timestamp

    try:
        return parse_timestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return timestamp[:16]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
