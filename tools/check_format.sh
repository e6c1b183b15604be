#!/usr/bin/env bash
# Fails when a tracked C++ file is not formatted as .clang-format says.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.h' '*.cc' 2>/dev/null || find include src tests examples -name '*.h' -o -name '*.cc')
if [ -z "$files" ]; then exit 0; fi
if ! echo "$files" | xargs clang-format --dry-run --Werror 2>/tmp/vllora-format.log; then
  grep -oE '^[^:]+\.(h|cc)' /tmp/vllora-format.log | sort -u | sed 's/^/needs clang-format: /'
  exit 1
fi
echo "format: ok"
