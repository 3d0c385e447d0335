# Build: dependencies from the lock into a virtualenv, with uv.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir "uv>=0.9"
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY blog_graphql ./blog_graphql
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv sync --frozen --no-dev

# Run: a slim image, a non-root user; one image for serve, worker and migrate.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 blog
WORKDIR /app
COPY --from=build --chown=blog:blog /app /app
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1
USER blog
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
ENTRYPOINT ["blog-graphql"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
