#!/usr/bin/env bash
# Runs every test file under test/ (Node 20's test runner takes no globs) after a type check and the
# architecture rules (.dependency-cruiser.cjs).
# Files under test/serial/ (e.g. ones that restart the shared PostgreSQL server) run afterwards, one at a
# time, so they never disturb other files; the exit status is non-zero if either phase failed.
# Usage: scripts/run-tests.sh [file-or-dir ...]
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
# The layers of docs/architecture.md: import order, no cycles, a pure core.
npx depcruise src --config .dependency-cruiser.cjs
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(test)
mapfile -t files < <(find "${targets[@]}" -name '*.test.ts' | sort -u)
concurrent=()
serial=()
for file in "${files[@]}"; do
  case "$file" in
    test/serial/* | */test/serial/*) serial+=("$file") ;;
    *) concurrent+=("$file") ;;
  esac
done
run() {
  local concurrency=$1
  shift
  node --import tsx --test --test-concurrency="$concurrency" --test-timeout=120000 --test-reporter=spec "$@"
}
concurrent_status=0
serial_status=0
if [ ${#concurrent[@]} -gt 0 ]; then run 2 "${concurrent[@]}" || concurrent_status=$?; fi
if [ ${#serial[@]} -gt 0 ]; then
  echo "# serial tests, one file at a time: ${serial[*]}"
  run 1 "${serial[@]}" || serial_status=$?
fi
[ "$concurrent_status" -eq 0 ] || exit "$concurrent_status"
exit "$serial_status"
