#!/usr/bin/env bash
# Builds and runs the daemon on the sim board with a local data directory (./.data).
# Used by `npm start`; prints the URL of the web page and API when ready.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
HTTP="${DESKPHONE_HTTP:-127.0.0.1:8080}"
DATA="${DESKPHONE_DATA_DIR:-$PWD/.data}"
echo "deskphone-agent (sim board): web page and API at http://${HTTP}/  (status: http://${HTTP}/api/status)"
echo "data dir: ${DATA}; stop with Ctrl-C"
exec node dist/src/cli.js run --board sim --data-dir "$DATA" --http "$HTTP" "$@"
