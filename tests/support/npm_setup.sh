#!/usr/bin/env bash
# npm_setup.sh DIR PACKAGE...: installs DIR's npm dependencies (exact versions from its
# package-lock.json) when node_modules is missing, lacks one of PACKAGE..., or was installed from
# a different lock file. Safe to run concurrently (tests started in parallel serialise on a lock
# in DIR) and cheap when nothing changed. Each Node.js peer's setup.sh calls it.
set -euo pipefail

dir="$(cd "$1" && pwd)"
shift
name="$(basename "$dir")"
cd "$dir"

stamp=node_modules/.vllora-lock-sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"

up_to_date() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || return 1
  local package
  for package in "$@"; do
    [ -d "node_modules/$package" ] || return 1
  done
}

if up_to_date "$@"; then
  exit 0
fi

exec 9>"$dir/.setup.lock"
flock 9
if up_to_date "$@"; then  # another process installed while we waited
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "$name/setup.sh: npm not found (run tools/install_deps.sh)" >&2
  exit 1
fi
echo "$name/setup.sh: npm ci" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" >"$stamp"
