# syntax=docker/dockerfile:1

# Build stage: a virtualenv with the dependencies first (cached while pyproject.toml is
# unchanged), then the application itself on top.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
# An empty package is enough to resolve and install the dependencies.
RUN mkdir -p bot templates alembic \
    && touch bot/__init__.py \
    && pip install ".[postgres]" \
    && pip uninstall --yes tradewatch
COPY bot/ bot/
COPY templates/ templates/
COPY alembic/ alembic/
RUN pip install --no-deps ".[postgres]"

# Runtime stage: the virtualenv only, run by an unprivileged user.
FROM python:3.11-slim
# PORT: the HTTP server (webhook, /healthz, /readyz, /metrics) runs in both modes.
# DATA_DIR only matters with SQLite (mount a volume at /data then); PostgreSQL needs none.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data \
    PORT=8080
RUN useradd --system --uid 10001 --home-dir /app --create-home tradewatch \
    && mkdir /data \
    && chown tradewatch /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001
EXPOSE 8080
# Liveness: GET /healthz on PORT answers 200 while the process is alive. Readiness (/readyz:
# the database answers and the schema is current) is for the load balancer to check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["tradewatch", "healthcheck"]
# The bot is PID 1 and gets SIGTERM itself: it stops taking updates and gives in-flight
# answers and deliveries SHUTDOWN_GRACE_SECONDS to finish (stop timeouts must be longer).
STOPSIGNAL SIGTERM
# Migrates (once, under a lock, however many replicas start) and seeds an empty database.
CMD ["tradewatch", "run"]
