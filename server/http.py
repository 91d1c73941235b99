"""HTTP: create and join events, health, and the static web client."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from .agenda_handlers import load_template, template_steps
from .auth import check_secret, hash_secret, new_secret
from .context import AppContext
from .event_fanout import publish_people
from .languages import DEFAULT_LANGUAGE, check_language
from .observe import metrics
from .payload import RoomName
from .protocol import PSEUDONYM_MAX_CHARS, ErrorCode, ProtocolError, Role
from .rooms import Event, Participant, clean_pseudonym, default_room_names, normalise_join_code
from .ws import websocket_endpoint

STATUS = {
    ErrorCode.INVALID: 422,
    ErrorCode.MALFORMED: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.ROOM_FULL: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_BIG: 413,
}
MAX_BODY = 16 * 1024
M = TypeVar("M", bound=BaseModel)
MAX_ROOMS = 200


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateEvent(_Body):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    rooms: list[RoomName] | Annotated[int, Field(ge=1, le=MAX_ROOMS)] = 4
    capacity: int = Field(default=8, ge=1, le=500)
    pseudonym: str = "Facilitator"
    template: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    language: str = DEFAULT_LANGUAGE  # of the participants' pages


class Facilitate(_Body):
    secret: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    pseudonym: str = "Facilitator"


class Join(_Body):
    pseudonym: str
    room_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    role: Role = "participant"


def _error(code: str, message: str, status: int | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status or STATUS.get(code, 400)
    )


async def _body(request: Request, model: type[M]) -> M:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ProtocolError(ErrorCode.TOO_BIG, f"body over {MAX_BODY} bytes")
    try:
        return model.model_validate(json.loads(raw or b"{}"))
    except json.JSONDecodeError:
        raise ProtocolError(ErrorCode.MALFORMED, "body is not valid JSON") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ProtocolError(ErrorCode.INVALID, f"{where}: {first['msg']}") from None


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _base_url(request: Request, ctx: AppContext) -> str:
    return (ctx.settings.public_url or str(request.base_url)).rstrip("/")


async def _session(
    request: Request, ctx: AppContext, event: Event, participant: Participant, **extra: Any
) -> dict[str, Any]:
    token = ctx.signer.issue(participant.id, event.id, participant.role, time.time())
    rooms = await ctx.store.rooms(event.id)
    base = _base_url(request, ctx)
    return {
        "event": event.to_wire(),
        "rooms": [r.to_wire() for r in rooms],
        "token": token,
        "participant": participant.to_wire(),
        "links": {
            "join": f"{base}/join/{event.join_code}",
            "facilitator": f"{base}/facilitate.html?code={event.join_code}",
        },
        **extra,
    }


async def create_event(request: Request) -> Response:
    ctx = _ctx(request)
    body = await _body(request, CreateEvent)
    # An unknown language or format fails before anything is created.
    language = check_language(body.language)
    names = body.rooms if isinstance(body.rooms, list) else default_room_names(body.rooms, language)
    if not names or len(names) > MAX_ROOMS:
        raise ProtocolError(ErrorCode.INVALID, f"an event has 1 to {MAX_ROOMS} rooms")
    pseudonym = clean_pseudonym(body.pseudonym, PSEUDONYM_MAX_CHARS)
    if body.template is not None:
        template_steps(body.template)
    secret = new_secret()
    event, _ = await ctx.store.create_event(
        body.title, hash_secret(secret), [(n, body.capacity) for n in names], language
    )
    facilitator = await ctx.store.join(event.id, pseudonym, "facilitator", None)
    if body.template is not None:
        await load_template(ctx, event.id, body.template)
    session = await _session(request, ctx, event, facilitator, facilitator_secret=secret)
    return JSONResponse(session, status_code=201)


async def _event(ctx: AppContext, code: str) -> tuple[Event, str]:
    found = await ctx.store.event_by_code(normalise_join_code(code))
    if found is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no event has this code")
    return found


async def facilitate(request: Request) -> Response:
    ctx = _ctx(request)
    event, secret_hash = await _event(ctx, request.path_params["code"])
    body = await _body(request, Facilitate)
    if not check_secret(body.secret, secret_hash):
        raise ProtocolError(ErrorCode.FORBIDDEN, "wrong facilitator secret")
    pseudonym = clean_pseudonym(body.pseudonym, PSEUDONYM_MAX_CHARS)
    facilitator = await ctx.store.join(event.id, pseudonym, "facilitator", None)
    return JSONResponse(await _session(request, ctx, event, facilitator))


async def event_info(request: Request) -> Response:
    ctx = _ctx(request)
    event, _ = await _event(ctx, request.path_params["code"])
    rooms = await ctx.store.rooms(event.id)
    return JSONResponse({"event": event.to_wire(), "rooms": [r.to_wire() for r in rooms]})


async def join(request: Request) -> Response:
    ctx = _ctx(request)
    event, _ = await _event(ctx, request.path_params["code"])
    body = await _body(request, Join)
    if body.role == "observer":
        raise ProtocolError(ErrorCode.FORBIDDEN, "plenary screens are invited from the console")
    if body.role not in ("participant", "table_host"):
        raise ProtocolError(ErrorCode.FORBIDDEN, "facilitators join with the event's secret")
    pseudonym = clean_pseudonym(body.pseudonym, PSEUDONYM_MAX_CHARS)
    participant = await ctx.store.join(event.id, pseudonym, body.role, body.room_id)
    if participant.room_id is not None:
        ctx.seats_changed(event.id)
        await publish_people(ctx, event.id, [participant])
    return JSONResponse(await _session(request, ctx, event, participant))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    ctx = _ctx(request)
    checks: dict[str, str] = {}
    try:
        await ctx.store.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        await ctx.hub.ping_broker()
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"unreachable: {type(exc).__name__}"
    if ctx.worker is not None:
        checks["themes"] = "ready" if ctx.worker.ready else "loading"
    else:
        checks["themes"] = "external workers" if ctx.jobs is not None else "off"
    ok = checks["database"] == "ok" and checks["broker"] == "ok"
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


def _handle(endpoint: Any) -> Any:
    async def wrapped(request: Request) -> Response:
        try:
            response: Response = await endpoint(request)
            return response
        except ProtocolError as exc:
            return _error(exc.code, exc.message)

    return wrapped


def routes(web_dir: Path) -> list[BaseRoute]:
    from .event_http import event_routes  # it builds on this module's helpers

    participant_page = web_dir / "participant.html"

    async def join_page(request: Request) -> Response:
        return FileResponse(participant_page)

    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/api/events", _handle(create_event), methods=["POST"]),
        Route("/api/events/{code}", _handle(event_info), methods=["GET"]),
        Route("/api/events/{code}/join", _handle(join), methods=["POST"]),
        Route("/api/events/{code}/facilitate", _handle(facilitate), methods=["POST"]),
        Route("/join/{code}", join_page),
        *event_routes(),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/", StaticFiles(directory=web_dir, html=True, check_dir=False), name="web"),
    ]
