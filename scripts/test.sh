#!/usr/bin/env bash
# Runs every test suite through ctest (GoogleTest, test by test), after
# installing packages and building (scripts/setup.sh, idempotent).
# Usage: scripts/test.sh [extra ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
