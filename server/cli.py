"""The `tablee` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES
from .observe import configure_logging
from .settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from .store.report import ReportKind

WS_TRANSPORT_MAX_BYTES = 1024 * 1024  # the protocol's own 64 KiB limit is checked per frame


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    if settings.migrate_on_start:
        from .migrate import upgrade

        upgrade(settings.database_url)
    if args.create_event:
        asyncio.run(_announce_event(settings, args.create_event, args.rooms, args.language))
    config = uvicorn.Config(
        create_app(settings.model_copy(update={"migrate_on_start": False})),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=WS_TRANSPORT_MAX_BYTES,
        ws_per_message_deflate=False,  # compressing is per recipient: it would undo encode-once
        ws_ping_interval=settings.heartbeat_seconds,
        ws_ping_timeout=settings.heartbeat_seconds,
        proxy_headers=True,
        log_level=settings.log_level,
        log_config=None,  # keep the handlers configure_logging installed
        access_log=False,
    )
    server = uvicorn.Server(config)
    _freeze_heap(settings.worker == "inprocess")
    if settings.socket_send_buffer:
        server.run(sockets=[_listen(settings.host, settings.port, settings.socket_send_buffer)])
    else:
        server.run()
    return 0


def _freeze_heap(themes_in_process: bool) -> None:
    """Put what was imported and built so far out of the garbage collector's sight.

    Modules, functions and types live as long as the process, yet each full collection
    scanned them all: over 100,000 objects, a pause of 50-100 ms on a small machine, and
    a large event's re-clustering (tens of thousands of short-lived rows) sets one off every
    few seconds. Frozen, they are never scanned; what the server makes later still is.
    """
    if themes_in_process:
        # Imported by the app's startup anyway; imported first, they are frozen too.
        for module in ("nlp.factory", "nlp.runner", "nlp.worker"):
            importlib.import_module(module)
    gc.collect()
    gc.freeze()


def _listen(host: str, port: int, send_buffer: int) -> socket.socket:
    """A listening socket whose accepted connections inherit a capped kernel send buffer.

    The kernel may otherwise grow each connection's buffer to megabytes for a reader that
    stopped reading, hiding it from the server's own bounded queue and costing memory.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def _announce_event(
    settings: Settings, title: str, rooms: int, language: str = DEFAULT_LANGUAGE
) -> None:
    from .auth import hash_secret, new_secret
    from .rooms import default_room_names
    from .store import Store

    store = Store(settings.database_url)
    try:
        secret = new_secret()
        event, _ = await store.create_event(
            title,
            hash_secret(secret),
            [(n, settings.default_capacity) for n in default_room_names(rooms, language)],
            language,
        )
    finally:
        await store.close()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    base = settings.public_url.rstrip("/") or f"http://{host}:{settings.port}"
    print(
        f"\n  Tablée: {event.title!r}, {rooms} tables, "
        f"participants' pages in {LANGUAGE_NAMES[event.language]}\n"
        f"  Facilitator console: {base}/facilitate.html?code={event.join_code}#secret={secret}\n"
        f"  Participants join:   {base}/join/{event.join_code}   (code {event.join_code})\n",
        flush=True,
    )


def _migrate(args: argparse.Namespace) -> int:
    from .migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url, args.revision)
    print(f"database is at revision {args.revision}")
    return 0


def _report(args: argparse.Namespace) -> int:
    settings = load_settings()
    body = asyncio.run(_report_text(settings, args.code, args.kind, args.language))
    if body is None:
        print(f"tablee: no event has the code {args.code!r} in this database", file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.write(body)
    else:
        from .report import CSV_BOM

        bom = CSV_BOM if args.kind.endswith(".csv") else ""
        args.output.write_text(bom + body, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


async def _report_text(
    settings: Settings, code: str, kind: ReportKind, language: str | None = None
) -> str | None:
    from .rooms import normalise_join_code
    from .store import Store
    from .store.report import render_report

    store = Store(settings.database_url)
    try:
        found = await store.event_by_code(normalise_join_code(code))
        if found is None:
            return None
        event = found[0]
        themes = await store.themes.latest(event.id)
        return await render_report(store, event, kind, themes, language=language)
    finally:
        await store.close()


def _delete_event(args: argparse.Namespace) -> int:
    settings = load_settings()
    return asyncio.run(_erase(settings, args.code, args.yes))


async def _erase(settings: Settings, code: str, yes: bool) -> int:
    from .erasure import tell_servers
    from .rooms import normalise_join_code
    from .store import Store
    from .store.erasure import EventCounts, count_event, erase_event

    def held(counts: EventCounts) -> str:
        return (
            f"{counts.notes} notes, {counts.participants} participants, {counts.rooms} rooms, "
            f"{counts.answers} answers"
        )

    store = Store(settings.database_url)
    try:
        found = await store.event_by_code(normalise_join_code(code))
        if found is None:
            print(f"tablee: no event has the code {code!r} in this database", file=sys.stderr)
            return 1
        event = found[0]
        named = f"{event.title!r} ({event.join_code})"
        if not yes:
            counts = await count_event(store, event.id)
            print(
                f"would delete {named} and everything in it: {held(counts)}, with its likes, "
                "themes, agenda, seats, help calls, broadcasts and topics.\n"
                f"Nothing was deleted. To delete it: tablee delete-event {event.join_code} --yes"
            )
            return 1
        erased = await erase_event(store, event.id)
        if erased is None:
            print(f"tablee: {named} was deleted meanwhile", file=sys.stderr)
            return 1
    finally:
        await store.close()
    print(f"deleted {named}: {held(erased)}")
    heard = await tell_servers(settings, event.id)
    if heard is None:
        # Only a server's own DELETE reaches its memory with the in-process broker.
        print(
            "A server still running on this database keeps the event's open pages and themes "
            "in memory until it restarts (its DELETE /api/events/CODE closes and drops them).",
            file=sys.stderr,
        )
    else:
        print(f"told {heard} running server and worker processes to close and forget it")
    return 0


def _worker(args: argparse.Namespace) -> int:
    from .worker import main as worker_main

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return worker_main(settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tablee", description="Tablée: breakout tables, live idea walls and emerging themes."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the server (web client, WebSocket, theme worker)")
    serve.add_argument("--host", help="interface to listen on (TABLEE_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (TABLEE_PORT)")
    serve.add_argument(
        "--create-event", metavar="TITLE", help="create an event on start and print its links"
    )
    serve.add_argument("--rooms", type=int, default=4, help="tables for --create-event")
    serve.add_argument(
        "--language",
        choices=LANGUAGES,
        default=DEFAULT_LANGUAGE,
        help="the participants' pages' language for --create-event (default: %(default)s)",
    )
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations (TABLEE_DATABASE_URL)")
    migrate.add_argument("revision", nargs="?", default="heads")
    migrate.set_defaults(func=_migrate)

    worker = sub.add_parser(
        "worker", help="run a theme worker on the Redis job stream (TABLEE_BROKER_URL)"
    )
    worker.set_defaults(func=_worker)

    report = sub.add_parser(
        "report",
        help=(
            "an event's results from the database: its themes as Markdown,"
            " every note or every answer as CSV"
        ),
    )
    report.add_argument("code", help="the event's join code")
    report.add_argument(
        "--csv",
        dest="kind",
        action="store_const",
        const="notes.csv",
        default="themes.md",
        help="every note with its table, step and theme, as CSV",
    )
    report.add_argument(
        "--answers",
        dest="kind",
        action="store_const",
        const="answers.csv",
        help="every answer to the agenda's questions, with its table and choice, as CSV",
    )
    report.add_argument(
        "--language",
        choices=LANGUAGES,
        help="the Markdown report's language (default: the event's)",
    )
    report.add_argument("-o", "--output", type=Path, help="write to this file (default: stdout)")
    report.set_defaults(func=_report)

    delete = sub.add_parser(
        "delete-event",
        help="erase an event and everything in it from the database (operators)",
        description=(
            "Erase an event: every participant, note, like, answer, theme, edit, broadcast, "
            "help call, topic and seat. Without --yes, print what would be deleted and exit 1."
        ),
    )
    delete.add_argument("code", help="the event's join code")
    delete.add_argument("--yes", action="store_true", help="really delete it; it cannot be undone")
    delete.set_defaults(func=_delete_event)

    from . import simulate

    simulate.register(sub)

    from . import themes_cli

    themes_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except SettingsError as exc:
        print(f"tablee: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
