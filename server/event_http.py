"""HTTP for running an event: the formats' templates, and a QR code per table.

A table's code holds the join link with that table in it, so phones scanned at a table in the
hall land at that table; the host's variant joins as the table host, who types for the table.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .http import _base_url, _ctx, _event, _handle
from .protocol import ErrorCode, ProtocolError
from .qr import qr_svg
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


async def room_qr(request: Request) -> Response:
    ctx = _ctx(request)
    event, _ = await _event(ctx, request.path_params["code"])
    room = await ctx.room(request.path_params["room"])
    if room is None or room.event_id != event.id:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such room in this event")
    host = request.query_params.get("as") == "host"
    link = room_join_link(_base_url(request, ctx), event.join_code, room.id, host)
    title = f"{event.title}: {room.name}" + (" (table host)" if host else "")
    return Response(
        qr_svg(link, title),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600", "X-Join-Link": link},
    )


def event_routes() -> list[BaseRoute]:
    return [
        Route("/api/templates", _handle(templates_list), methods=["GET"]),
        Route("/api/events/{code}/rooms/{room}/qr.svg", _handle(room_qr), methods=["GET"]),
    ]
