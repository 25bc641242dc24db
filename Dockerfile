# syntax=docker/dockerfile:1
# The eventlake image: one image for every job; the ECS task definition (from schedules/<job>.json)
# chooses the subcommand. The event schemas are baked in at /app/schemas, so an image tag pins code
# and schemas together.
#
#   docker build -t eventlake:dev .                                        # schemas from ./schemas/
#   docker build --build-arg SCHEMAS_DIR=examples/schemas -t eventlake:dev .   # try the examples
#   docker run --rm eventlake:dev --help
#
# For ECS on x86_64 hosts build with --platform linux/amd64 (the task definitions default to X86_64).
#checkov:skip=CKV_DOCKER_2:A batch job that exits when done has nothing for a HEALTHCHECK to probe; ECS tracks the exit code.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# --- build -----------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
# aws-lc-sys (TLS of the AWS SDK) compiles C; cmake covers the platforms without prebuilt bindings.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The registry and target caches survive between builds (BuildKit); the binary is copied out of the
# cache mount in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p eventlake \
 && install -D -m 0755 target/release/eventlake /out/eventlake

# --- runtime ---------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# CA certificates for TLS to S3, Athena and the other AWS APIs; nothing else is needed at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 eventlake \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin eventlake

COPY --from=build /out/eventlake /usr/local/bin/eventlake

# The event schemas (JSON Schema files, scanned recursively). A folder the user provides: schemas/
# at the repository root by default. The schemas are compiled once here, so an image with a broken
# schema is never built.
ARG SCHEMAS_DIR=schemas
COPY ${SCHEMAS_DIR}/ /app/schemas/
RUN ["/usr/local/bin/eventlake", "validate", "--schemas", "/app/schemas", "/dev/null"]

# The SQL models (models/*.sql, see the README's Models section): a folder the user provides, models/
# at the repository root by default (it holds only a README until you add models).
ARG MODELS_DIR=models
COPY ${MODELS_DIR}/ /app/models/

# The project file (eventlake.toml at the repository root by default): named sources besides the
# default one, and the quality rules the daily job checks. Checked here like the schemas.
ARG PROJECT_FILE=eventlake.toml
COPY ${PROJECT_FILE} /app/eventlake.toml
RUN ["/usr/local/bin/eventlake", "validate", "--schemas", "/app/schemas", "--config", "/app/eventlake.toml", "/dev/null"]

# Scratch space (temporary files, the daily job's spills) on a read-only root filesystem: a folder the
# job's user owns, declared a volume so that the task's bind mount there starts with this owner
# (a Fargate bind mount elsewhere is root-owned, and uid 10001 could not write to it).
RUN mkdir -p /scratch && chown 10001:10001 /scratch && chmod 0700 /scratch
VOLUME ["/scratch"]

ENV EVENTLAKE_SCHEMAS=/app/schemas \
    EVENTLAKE_MODELS=/app/models \
    EVENTLAKE_CONFIG=/app/eventlake.toml \
    EVENTLAKE_LOG_FORMAT=json \
    TMPDIR=/scratch

ARG GIT_SHA=unknown
LABEL org.opencontainers.image.title="eventlake" \
      org.opencontainers.image.description="Batch ETL from raw event streams on S3 to a queryable data lake" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.licenses="Apache-2.0"

WORKDIR /app
USER 10001:10001
ENTRYPOINT ["eventlake"]
CMD ["--help"]
