# zdlogs in a container: `docker build -t zdlogs .` (or `podman build`); the extras by a build argument,
# e.g. `--build-arg EXTRAS=gcs,s3,secops` (gs://, s3://, secops:// outputs; `analysis` for export/report).
# No secret is baked in: give them at run time, as files (ZENDESK_API_TOKEN_FILE, ...) — README, "Operating zdlogs".
# tests/deploy/test_container.py installs what this file installs (the pip line below, with EXTRAS' default) in a
# clean virtualenv and runs its entrypoint against the simulator, since no machine of the project can pull the base.

FROM python:3.11-slim-bookworm AS build
ARG EXTRAS=gcs,s3
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/zdlogs && /opt/zdlogs/bin/pip install --no-cache-dir ".[${EXTRAS}]"

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="zdlogs" \
      org.opencontainers.image.description="Collect Zendesk's security record into NDJSON on disk, GCS, S3 or Google SecOps" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN useradd --uid 10001 --user-group --home-dir /var/lib/zdlogs --create-home --shell /usr/sbin/nologin zdlogs
COPY --from=build /opt/zdlogs /opt/zdlogs
ENV PATH=/opt/zdlogs/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/zdlogs
ENTRYPOINT ["zdlogs"]
CMD ["--help"]
