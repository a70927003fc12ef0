#!/usr/bin/env bash
# Starts a server example on a free port, runs a client command against it, stops the
# server with SIGINT and checks that it exits cleanly. Bounded: every step has a timeout.
#   run_with_server.sh SERVER_BINARY [SERVER_ARGS...] -- CLIENT_COMMAND...
# (the words PORT and SERVER_PID in the client command are replaced by the server's port
# and process id)
set -euo pipefail
server=("$1"); shift
while [ $# -gt 0 ] && [ "$1" != "--" ]; do server+=("$1"); shift; done
[ $# -gt 0 ] && shift
log="$(mktemp)"
trap 'kill -9 "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
"${server[@]}" --port 0 >"$log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 200); do
  port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")"
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "server did not start:"; cat "$log"; exit 1; }
args=()
for a in "$@"; do a="${a//PORT/$port}"; args+=("${a//SERVER_PID/$pid}"); done
status=0
timeout 120 "${args[@]}" || status=$?
kill -INT "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$pid" 2>/dev/null; then echo "server did not stop on SIGINT"; exit 1; fi
wait "$pid" || { echo "server exited with an error:"; cat "$log"; exit 1; }
cat "$log"
exit "$status"
