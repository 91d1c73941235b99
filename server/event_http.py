"""HTTP for running an event: the formats' templates, QR codes (the event's and each
table's), the report, and the event's settings.

A table's code holds the join link with that table in it, so phones scanned at a table in the
hall land at that table; the host's variant joins as the table host, who types for the table.
The report (every note as CSV, the themes as Markdown) is for the event's staff, who send
their token as `Authorization: Bearer …`; its facilitators change or erase the event the
same way.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .auth import TokenError
from .context import AppContext
from .erasure import erase
from .event_fanout import publish_event
from .facilitation import check_not_removed
from .http import _base_url, _Body, _body, _ctx, _event, _handle
from .languages import check_language
from .protocol import ErrorCode, ProtocolError
from .qr import qr_svg
from .report import CSV_BOM
from .rooms import (
    STAFF_ROLES,
    Event,
    Participant,
    check_can_watch_themes,
    check_staff,
    normalise_join_code,
)
from .store.report import render_report
from .templates import TemplateError, load_templates


async def templates_list(request: Request) -> Response:
    try:
        templates = load_templates()
    except TemplateError as exc:
        raise ProtocolError(ErrorCode.INTERNAL, str(exc)) from None
    return JSONResponse({"templates": [t.summary() for t in templates.values()]})


def room_join_link(base: str, code: str, room_id: str, host: bool) -> str:
    query = {"room": room_id, **({"as": "host"} if host else {})}
    return f"{base}/join/{code}?{urlencode(query)}"


def _qr(link: str, title: str) -> Response:
    return Response(
        qr_svg(link, title),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600", "X-Join-Link": link},
    )


async def event_qr(request: Request) -> Response:
    """The event's way in, for the plenary screen: the join page, where one picks a table."""
    ctx = _ctx(request)
    event, _ = await _event(ctx, request.path_params["code"])
    return _qr(f"{_base_url(request, ctx)}/join/{event.join_code}", event.title)


async def room_qr(request: Request) -> Response:
    ctx = _ctx(request)
    event, _ = await _event(ctx, request.path_params["code"])
    room = await ctx.room(request.path_params["room"])
    if room is None or room.event_id != event.id:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such room in this event")
    host = request.query_params.get("as") == "host"
    link = room_join_link(_base_url(request, ctx), event.join_code, room.id, host)
    title = f"{event.title}: {room.name}" + (" (table host)" if host else "")
    return _qr(link, title)


class EventChange(_Body):
    language: str


class EventErasure(_Body):
    # The event's join code, typed again: a stray or replayed request erases nothing.
    confirm: str = ""


async def _bearer(request: Request) -> tuple[AppContext, Event, Participant]:
    """The event of the URL and who of its people the bearer token names."""
    ctx = _ctx(request)
    event, _ = await _event(ctx, request.path_params["code"])
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProtocolError(ErrorCode.FORBIDDEN, "send the facilitator's token as a Bearer token")
    try:
        claims = ctx.signer.verify(token.strip(), time.time())
    except TokenError as exc:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"token refused: {exc}") from None
    actor = await ctx.store.participant(claims.participant_id)
    if actor is None or actor.event_id != event.id:
        raise ProtocolError(ErrorCode.FORBIDDEN, "this token is not for this event")
    check_not_removed(actor)
    return ctx, event, actor


async def _staff_event(request: Request) -> tuple[AppContext, Event]:
    """The event of the URL, if the bearer token is one of its facilitators' or observers'."""
    ctx, event, actor = await _bearer(request)
    check_can_watch_themes(actor)
    return ctx, event


async def update_event(request: Request) -> Response:
    """A facilitator changes the participants' language; every open page of the event hears
    `event.updated` and switches to it."""
    ctx, event, actor = await _bearer(request)
    check_staff(actor, "change the participants' language")
    body = await _body(request, EventChange)
    changed = await ctx.store.set_event_language(event.id, check_language(body.language))
    if changed is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no event has this code")
    await publish_event(ctx, changed)
    return JSONResponse({"event": changed.to_wire()})


async def delete_event(request: Request) -> Response:
    """A facilitator erases the event and everything in it; every open page is closed."""
    ctx, event, actor = await _bearer(request)
    check_staff(actor, "delete the event")
    body = await _body(request, EventErasure)
    if normalise_join_code(body.confirm) != event.join_code:
        raise ProtocolError(
            ErrorCode.INVALID,
            f"confirm: to delete this event and everything in it, send its join code "
            f'as {{"confirm": "{event.join_code}"}}',
        )
    counts = await erase(ctx, event)
    if counts is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no event has this code")
    return JSONResponse({"deleted": counts.to_wire()})


def _download(body: str, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


async def report_csv(request: Request) -> Response:
    ctx, event = await _staff_event(request)
    body = await render_report(ctx.store, event, "notes.csv", await ctx.latest_themes(event.id))
    return _download(CSV_BOM + body, "text/csv", f"tablee-{event.join_code}-notes.csv")


async def report_answers_csv(request: Request) -> Response:
    # Facilitators only: while a question is open, nobody else sees how people answered.
    ctx, event, actor = await _bearer(request)
    check_staff(actor, "download the answers")
    body = await render_report(ctx.store, event, "answers.csv", None)
    return _download(CSV_BOM + body, "text/csv", f"tablee-{event.join_code}-answers.csv")


async def report_markdown(request: Request) -> Response:
    ctx, event, actor = await _bearer(request)
    check_can_watch_themes(actor)
    themes = await ctx.latest_themes(event.id)
    # An open question's counts are the facilitators' alone, as over the WebSocket.
    open_counts = actor.role in STAFF_ROLES
    # `?lang=` for a facilitator who reports in another language than the participants read.
    asked = request.query_params.get("lang")
    language = check_language(asked) if asked else event.language
    body = await render_report(ctx.store, event, "themes.md", themes, open_counts, language)
    return _download(body, "text/markdown", f"tablee-{event.join_code}-themes.md")


def event_routes() -> list[BaseRoute]:
    return [
        Route("/api/templates", _handle(templates_list), methods=["GET"]),
        # GET of the same path is http.py's `event_info`; the router picks by method.
        Route("/api/events/{code}", _handle(update_event), methods=["PATCH"]),
        Route("/api/events/{code}", _handle(delete_event), methods=["DELETE"]),
        Route("/api/events/{code}/qr.svg", _handle(event_qr), methods=["GET"]),
        Route("/api/events/{code}/rooms/{room}/qr.svg", _handle(room_qr), methods=["GET"]),
        Route("/api/events/{code}/report/notes.csv", _handle(report_csv), methods=["GET"]),
        Route("/api/events/{code}/report/themes.md", _handle(report_markdown), methods=["GET"]),
        Route(
            "/api/events/{code}/report/answers.csv",
            _handle(report_answers_csv),
            methods=["GET"],
        ),
    ]
