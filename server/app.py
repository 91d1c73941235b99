"""The application factory. The lifespan opens the database, the broker and the theme worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine.url import make_url
from starlette.applications import Starlette
from starlette.middleware import Middleware

from .auth import TokenSigner
from .broker import broker_from_url
from .context import AppContext
from .erasure import hear_erasures
from .http import routes
from .hub import Hub
from .migrate import upgrade_async
from .placement import PlacementBatcher, local_placer, queued_placer
from .raw_frames import RawFramesMiddleware
from .settings import Settings, load_settings
from .store import Store

if TYPE_CHECKING:
    from nlp.debounce import Debouncer
    from nlp.worker import ThemeWorker

    from .jobs import ThemeJobs
    from .placement_stream import PlacementStream

log = logging.getLogger("tablee")

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade_async(settings.database_url)
        store = Store(settings.database_url, history_per_room=settings.history_per_room)
        broker = broker_from_url(settings.broker_url)

        async def repair(room_id: str, after: int, epoch: str) -> list[str] | None:
            return await store.frames_since(room_id, after, epoch)

        hub = Hub(broker, store.head, repair)
        ctx = AppContext(
            settings, store, hub, TokenSigner(_secret_key(settings), settings.token_ttl_seconds)
        )
        hear_erasures(ctx)
        await hub.start()
        if settings.broker_url.startswith(("redis://", "rediss://", "unix://")):
            from .presence_registry import RedisPresence

            ctx.presence = RedisPresence(
                settings.broker_url, hub.origin, settings.heartbeat_seconds
            )
        ticker = asyncio.create_task(_presence_ticker(ctx))
        placement_stream: PlacementStream | None = None
        if settings.worker == "inprocess":
            ctx.worker = _theme_worker(settings, ctx)
            await ctx.worker.start()
            ctx.placements = PlacementBatcher(local_placer(ctx.worker, hub, store))
        elif settings.worker == "external":
            ctx.jobs, ctx.job_queue = _job_queue(settings)
            from .placement_stream import PlacementStream

            placement_stream = PlacementStream(settings.broker_url, settings.placement_stream)
            ctx.placements = PlacementBatcher(queued_placer(placement_stream, hub))
            ctx.placement_stream = placement_stream
        app.state.ctx = ctx
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await ctx.presence.close()
            await ctx.close()
            if ctx.placements is not None:
                await ctx.placements.close()
            if placement_stream is not None:
                await placement_stream.close()
            if ctx.worker is not None:
                await ctx.worker.close()
            if ctx.job_queue is not None:
                await ctx.job_queue.close()
            if ctx.jobs is not None:
                await ctx.jobs.close()
            await ctx.timers.close()
            await hub.close()
            await store.close()

    return Starlette(
        routes=routes(WEB_DIR), lifespan=lifespan, middleware=[Middleware(RawFramesMiddleware)]
    )


async def _presence_ticker(ctx: AppContext) -> None:
    from .commands import announce_leave

    async def announce(room_id: str, member: dict[str, object]) -> None:
        await announce_leave(ctx, room_id, dict(member))

    while True:
        await ctx.presence.tick(announce)
        await asyncio.sleep(ctx.settings.heartbeat_seconds / 2)


SQLITE_STORE_THEMES_EVERY = 15.0  # seconds


def _theme_worker(settings: Settings, ctx: AppContext) -> ThemeWorker:
    from nlp.factory import FAKE_MODEL, make_pipeline
    from nlp.runner import ProcessRunner, Runner, ThreadRunner
    from nlp.worker import ThemeWorker

    model, weight = settings.embedding_model, settings.theme_word_weight
    # The model-free stand-in is cheap enough for a thread; a real model gets its own process.
    runner: Runner = (
        ThreadRunner(lambda: make_pipeline(model, weight))
        if model == FAKE_MODEL
        else ProcessRunner(model, weight)
    )
    return ThemeWorker(
        ctx.store.themes,
        ctx.publish_themes,
        runner,
        debounce=settings.themes_debounce_seconds,
        max_wait=settings.themes_max_wait_seconds,
        # SQLite: this process is the only writer, and a snapshot write holds up posts.
        store_every=SQLITE_STORE_THEMES_EVERY if ctx.store.engine.dialect.name == "sqlite" else 0.0,
    )


def _job_queue(settings: Settings) -> tuple[ThemeJobs, Debouncer]:
    from nlp.debounce import Debouncer

    from .jobs import JobsError, ThemeJobs

    jobs = ThemeJobs(settings.broker_url, settings.jobs_stream)

    async def enqueue(event_id: str) -> None:
        try:
            await jobs.enqueue(event_id)
        except JobsError as exc:
            # The workers' sweep finds events whose themes are behind and queues them.
            log.warning("could not queue a theme job: %s", exc)

    debouncer = Debouncer(
        enqueue,
        quiet=settings.themes_debounce_seconds,
        max_wait=settings.themes_max_wait_seconds,
    )
    return jobs, debouncer


def _secret_key(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    # Embedded default: keep a key beside the SQLite file so tokens survive a restart.
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        return secrets.token_bytes(32)
    path = Path(database + ".secret")
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def factory() -> Starlette:
    """For `uvicorn --factory server.app:factory`."""
    return create_app()
