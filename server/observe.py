"""Operations: Prometheus metrics and structured logs.

Logs carry ids and counts, never what people wrote and never a token: a deliberation's
contributions and its participants' credentials stay out of log pipelines.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .context import AppContext
from .raw_frames import RawFrames


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def _line(name: str, kind: str, help_: str, value: float, labels: str = "") -> str:
    return f"# HELP {name} {help_}\n# TYPE {name} {kind}\n{name}{labels} {value}\n"


async def metrics(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    hub = ctx.hub
    stats = hub.stats
    out = [
        _line("tablee_connections", "gauge", "Open WebSocket connections.", len(hub.connections)),
        _line(
            "tablee_frames_published_total",
            "counter",
            "Frames published by this process.",
            stats["published"],
        ),
        _line(
            "tablee_frames_delivered_total",
            "counter",
            "Frames handed to connection queues.",
            stats["delivered"],
        ),
        _line(
            "tablee_frames_written_direct_total",
            "counter",
            "Frames written straight to sockets; the others went through ASGI.",
            RawFrames.written,
        ),
        _line(
            "tablee_connections_dropped_slow_total",
            "counter",
            "Connections dropped because their queue was full.",
            stats["dropped_slow"],
        ),
        _line(
            "tablee_broker_errors_total",
            "counter",
            "Publishes the broker refused.",
            stats["broker_errors"],
        ),
        _line(
            "tablee_gap_repairs_total",
            "counter",
            "Room gaps filled from the database.",
            stats["repairs"],
        ),
        _line(
            "tablee_queued_frames",
            "gauge",
            "Frames waiting for connections that are not keeping up.",
            sum(c.waiting for c in hub.connections),
        ),
        _line(
            "tablee_uptime_seconds", "gauge", "Seconds since start.", time.time() - ctx.started_at
        ),
    ]
    if ctx.worker is not None:
        out.append(
            _line(
                "tablee_theme_last_run_seconds",
                "gauge",
                "Duration of the last theme update in this process.",
                ctx.worker.last_timings.get("total", 0.0),
            )
        )
    if ctx.jobs is not None:
        try:
            depth = await ctx.jobs.stats()
        except Exception:
            depth = {"lag": -1, "pending": -1}
        out.append(
            _line(
                "tablee_theme_jobs_waiting",
                "gauge",
                "Theme jobs not yet delivered to a worker (-1: unknown).",
                depth["lag"],
            )
        )
        out.append(
            _line(
                "tablee_theme_jobs_pending",
                "gauge",
                "Theme jobs delivered but not yet done (-1: unknown).",
                depth["pending"],
            )
        )
    if ctx.placement_stream is not None:
        try:
            placing = await ctx.placement_stream.stats()
        except Exception:
            placing = {"lag": -1, "pending": -1}
        out.append(
            _line(
                "tablee_placements_waiting",
                "gauge",
                "Note placements not yet read by a worker (-1: unknown).",
                placing["lag"],
            )
        )
    return PlainTextResponse("".join(out), media_type="text/plain; version=0.0.4")
