#!/usr/bin/env bash
# Runs the official MCP conformance suite (devDependency @modelcontextprotocol/conformance) against
# `sentry-memory serve`'s /mcp endpoint, with the Node.js on PATH (22 or later, like the project).
#
#   npm install && scripts/conformance.sh [scenario ...]
#
# The suite cannot send an API key, so it talks to a local proxy that adds one (scripts/auth-proxy.ts)
# and passes Host/Origin through untouched. Exit status: non-zero when any scenario fails.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFORMANCE=node_modules/@modelcontextprotocol/conformance/dist/index.js
if [[ ! -f "$CONFORMANCE" ]]; then
  echo "conformance: $CONFORMANCE is missing; run npm install" >&2
  exit 2
fi
if [[ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]]; then
  echo "conformance: needs Node.js 22 or later (this is $(node --version))" >&2
  exit 2
fi
# The server scenarios that apply to a read-only, tools-only, stateless server.
SCENARIOS=("$@")
if [[ ${#SCENARIOS[@]} -eq 0 ]]; then
  SCENARIOS=(server-initialize ping tools-list dns-rebinding-protection)
fi

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

CLI=(node --import tsx src/cli/main.ts)
DB="$WORK/memory.db"
export SENTRY_MEMORY_CONFORMANCE_KEY
SENTRY_MEMORY_CONFORMANCE_KEY="$("${CLI[@]}" apikey create --db "$DB" --name conformance 2>/dev/null)"

# Wait until a background process prints a line matching $2 into file $1; print the match.
await_line() {
  for _ in $(seq 1 200); do
    if grep -Eo "$2" "$1" 2>/dev/null | head -1; then return 0; fi
    sleep 0.1
  done
  echo "conformance: timed out waiting for $1:" >&2
  cat "$1" >&2
  return 1
}

"${CLI[@]}" serve --port 0 --db "$DB" --role web >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
SERVER="$(await_line "$WORK/serve.log" 'http://127\.0\.0\.1:[0-9]+')"

node --import tsx scripts/auth-proxy.ts "$SERVER" SENTRY_MEMORY_CONFORMANCE_KEY >"$WORK/proxy.log" 2>&1 &
PIDS+=($!)
PROXY="$(await_line "$WORK/proxy.log" 'http://localhost:[0-9]+')"

failed=0
for scenario in "${SCENARIOS[@]}"; do
  echo "== $scenario"
  if ! node "$CONFORMANCE" server --url "$PROXY/mcp" --scenario "$scenario" --output-dir "$WORK/results"; then
    failed=1
  fi
done
exit "$failed"
