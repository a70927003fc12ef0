#!/usr/bin/env bash
# Checks http_server's handling of bad input over raw sockets (bash /dev/tcp) and curl:
# keep-alive and pipelining, 400 for a malformed request, 413 for an oversized one, and
# the idle timeout closing a silent connection.   http_checks.sh PORT
# A read that ends in a reset (`|| true`) still fails the check below it, with the output.
set -euo pipefail
port="$1"
fail() { echo "FAIL: $*"; exit 1; }

# Pipelining: two requests in one write, two responses in order on one connection.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
out="$(timeout 10 cat <&3 || true)"; exec 3<&-
[ "$(grep -o 'HTTP/1.1 200 OK' <<<"$out" | wc -l)" = 2 ] || fail "pipelined requests: $out"
grep -q 'Hello, World!' <<<"$out" && grep -q '"message"' <<<"$out" || fail "pipelined bodies: $out"
echo "pipelining: ok"

# Malformed request: 400, then the connection closes.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'THIS IS NOT HTTP\r\n\r\n' >&3
out="$(timeout 10 cat <&3 || true)"; exec 3<&-
grep -q '^HTTP/1.1 400' <<<"$out" || fail "malformed request: $out"
echo "malformed: 400"

# Oversized request (the server runs with --max-request-bytes 4096): 413, then close.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n' "$(head -c 8000 /dev/zero | tr '\0' a)" >&3
out="$(timeout 10 cat <&3 || true)"; exec 3<&-
grep -q '^HTTP/1.1 413' <<<"$out" || fail "oversized request: $out"
echo "oversized: 413"

# A client that sends nothing is closed after the idle timeout (the server runs with
# --idle-ms 300): cat sees the end of stream well before its own 10 s limit.
exec 3<>"/dev/tcp/127.0.0.1/$port"
start=$(date +%s%N)
timeout 10 cat <&3 >/dev/null || fail "idle connection not closed within 10 s"
exec 3<&-
echo "idle connection closed after $(( ($(date +%s%N) - start) / 1000000 )) ms"

# curl, with keep-alive across two URLs.
if command -v curl >/dev/null; then
  out="$(curl -s --max-time 10 "http://127.0.0.1:$port/hello" "http://127.0.0.1:$port/json")"
  [ "$out" = 'Hello, World!{"message":"Hello, World!"}' ] || fail "curl: $out"
  echo "curl: ok"
fi
echo "http checks passed"
