# syntax=docker/dockerfile:1.7
# One image runs every role: `serve` (the default), `worker` and `migrate`:
#   docker run --env-file .env IMAGE            # the API on port 8000
#   docker run --env-file .env IMAGE worker     # the Dramatiq worker
#   docker run --env-file .env IMAGE migrate    # apply migrations, then exit
ARG PYTHON_VERSION=3.11
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# --- build: the locked dependencies, then the project, into /app/.venv ------------------
FROM python:${PYTHON_VERSION}-slim AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies alone first: this layer is rebuilt only when the lock changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --extra tracing --no-install-project
COPY pyproject.toml uv.lock README.md alembic.ini ./
COPY migrations ./migrations
COPY blog_graphql ./blog_graphql
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra tracing

# --- run: a slim image; code owned by root, the process by an unprivileged user ---------
FROM python:${PYTHON_VERSION}-slim AS runtime
RUN groupadd --system --gid 10001 blog \
    && useradd --system --uid 10001 --gid blog --no-log-init --no-create-home blog \
    && mkdir -p /data/media \
    && chown -R blog:blog /data
COPY --from=build /app /app
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production \
    WORKER_HTTP_PORT=8000
# The working directory is the only writable place (an embedded SQLite file, if used).
WORKDIR /data
USER 10001:10001
EXPOSE 8000
# serve answers on 8000, and so does worker (/healthz, /metrics): one HEALTHCHECK for both.
# serve drains in-flight requests on SIGTERM; give it longer than that (compose: 40 s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["blog-graphql"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
