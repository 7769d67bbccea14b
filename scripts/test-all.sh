#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, npm packages, type check,
# layering lint, unit + conformance tests, process-level tests, and (as root) the lab tests
# with real peers in network namespaces. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_OPTIONS="${NODE_OPTIONS:-} --no-warnings=ExperimentalWarning"

step() { printf '\n== %s\n' "$*"; }
# node --test over the compiled test folders that exist. A test still running after the
# timeout (ms) fails instead of hanging the suite.
run_tests() {
  local concurrency=$1 timeout=$2; shift 2
  local dirs=()
  for d in "$@"; do [ -d "$d" ] && dirs+=("$d"); done
  node --test --test-concurrency="$concurrency" --test-timeout="$timeout" "${dirs[@]}"
}

if [ "$(id -u)" = 0 ]; then
  step "system packages (Debian)"
  bash scripts/install-test-deps.sh
else
  echo "not root: skipping system packages and the lab tests (they need namespaces)"
fi

step "npm packages"
npm ci --no-audit --no-fund

step "type check and build"
npm run --silent build

step "layering lint (DESIGN.md import table)"
npm run --silent lint:deps

step "unit and conformance tests"
run_tests 2 180000 dist/test/unit/ dist/test/conformance/

step "process tests (daemon, CLI, power-loss safety)"
run_tests 1 300000 dist/test/integration/

if [ "$(id -u)" = 0 ] && [ -d dist/test/lab ]; then
  step "lab tests with real peers (kamailio, SIPp, coturn, ...)"
  run_tests 1 600000 dist/test/lab/
fi
