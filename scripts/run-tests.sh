#!/usr/bin/env bash
# Runs every test file under test/ (Node 20's test runner takes no globs) after a type check and the
# architecture rules (.dependency-cruiser.cjs).
# Files under test/package/ (npm pack, then an install into a scratch project) run next, with a longer timeout.
# Files under test/serial/ (e.g. ones that restart the shared PostgreSQL server) run afterwards, one at a
# time, so they never disturb other files; the exit status is non-zero if any phase failed.
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
package=()
serial=()
for file in "${files[@]}"; do
  case "$file" in
    test/serial/* | */test/serial/*) serial+=("$file") ;;
    test/package/* | */test/package/*) package+=("$file") ;;
    *) concurrent+=("$file") ;;
  esac
done
# Node's --test-timeout bounds each test file as a whole: 300 s (the fault files run both stores and real child
# processes: ~90 s on a quiet 2-core machine, more under load), except test/package/ (npm pack and an install
# that compiles better-sqlite3), which gets 20 minutes (its install took 3 to 10 minutes here, by the load).
run() {
  local concurrency=$1 timeout=$2
  shift 2
  node --import tsx --test --test-concurrency="$concurrency" --test-timeout="$timeout" --test-reporter=spec "$@"
}
concurrent_status=0
package_status=0
serial_status=0
if [ ${#concurrent[@]} -gt 0 ]; then run 2 300000 "${concurrent[@]}" || concurrent_status=$?; fi
if [ ${#package[@]} -gt 0 ]; then
  echo "# package tests (npm pack + install into a scratch project): ${package[*]}"
  run 1 1200000 "${package[@]}" || package_status=$?
fi
if [ ${#serial[@]} -gt 0 ]; then
  echo "# serial tests, one file at a time: ${serial[*]}"
  run 1 300000 "${serial[@]}" || serial_status=$?
fi
[ "$concurrent_status" -eq 0 ] || exit "$concurrent_status"
[ "$package_status" -eq 0 ] || exit "$package_status"
exit "$serial_status"
