#!/usr/bin/env bash
# One command for the one-run comparison: builds RedLockRunner (release) in the Benchmarks package,
# then runs compare.py, which makes its own virtual environment, starts its own redis-servers and
# writes results/latest.{json,md,svg}. Arguments go to compare.py (e.g. --quick, --help).
# REDLOCK_RUNNER=/path/to/RedLockRunner skips the build and uses that binary.
# BENCH_SCRATCH=/path overrides the build folder (default Benchmarks/.build-bench, ignored by git).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
benchmarks="$(dirname "$here")"
scratch="${BENCH_SCRATCH:-$benchmarks/.build-bench}"
if [[ -z "${REDLOCK_RUNNER:-}" ]]; then
    # SwiftPM reuses its cached build plan without noticing source files added to the library (a path
    # dependency here), which then fails to compile; dropping the plan costs a re-plan (~0.5 s), not a rebuild.
    rm -f "$scratch/release/description.json"
    swift build -c release --package-path "$benchmarks" --scratch-path "$scratch" --product RedLockRunner >&2
    REDLOCK_RUNNER="$(swift build -c release --package-path "$benchmarks" --scratch-path "$scratch" --show-bin-path)/RedLockRunner"
fi
exec python3 "$here/compare.py" --runner "$REDLOCK_RUNNER" "$@"
