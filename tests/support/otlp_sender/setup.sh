#!/usr/bin/env bash
# Installs the sender's npm dependencies (exact versions from package-lock.json) when
# node_modules is missing or was installed from a different lock file. Safe to run concurrently
# (tests started in parallel serialise on a lock) and cheap when nothing changed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

stamp=node_modules/.vllora-lock-sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"

up_to_date() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -d node_modules/@opentelemetry/sdk-trace-base ] && [ -d node_modules/@opentelemetry/exporter-trace-otlp-grpc ]
}

if up_to_date; then
  exit 0
fi

exec 9>"$here/.setup.lock"
flock 9
if up_to_date; then  # another process installed while we waited
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "otlp_sender/setup.sh: npm not found (run tools/install_deps.sh)" >&2
  exit 1
fi
echo "otlp_sender/setup.sh: npm ci" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" >"$stamp"
