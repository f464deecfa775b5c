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
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data
RUN useradd --system --uid 10001 --home-dir /app --create-home tradewatch \
    && mkdir /data \
    && chown tradewatch /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001
VOLUME ["/data"]
# Healthy while the database answers and the schema is readable.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["tradewatch", "db", "current"]
# Migrations first, then the bot (which also seeds an empty database).
CMD ["sh", "-c", "tradewatch db upgrade && exec tradewatch run"]
