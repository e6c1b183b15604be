#!/usr/bin/env bash
# Installs the sender's npm dependencies when missing or stale (see ../npm_setup.sh).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../npm_setup.sh" "$here" @opentelemetry/sdk-trace-base \
  @opentelemetry/exporter-trace-otlp-grpc
