# syntax=docker/dockerfile:1
# Tablée server image: CPU-only torch, the packaged model inside, no network needed at run time.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/tablee
# torch first, from the CPU index: the default resolution would pull a multi-GB CUDA build.
RUN /opt/tablee/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY requirements/ requirements/
RUN /opt/tablee/bin/pip install -r requirements/base.txt

FROM python:3.11-slim-bookworm
ENV PATH=/opt/tablee/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TABLEE_HOST=0.0.0.0 \
    TABLEE_PORT=8000 \
    TABLEE_DATABASE_URL=sqlite+aiosqlite:////data/tablee.db
RUN useradd --system --uid 10001 --home-dir /app tablee \
    && mkdir -p /data /app && chown tablee /data
COPY --from=build /opt/tablee /opt/tablee
WORKDIR /app
COPY --chown=tablee web/ web/
COPY --chown=tablee config/ config/
COPY --chown=tablee server/ server/
COPY --chown=tablee nlp/ nlp/
USER tablee
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["python", "-m", "server.cli", "serve"]
