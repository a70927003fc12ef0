#!/usr/bin/env bash
# Server soak for examples/http_server, against 127.0.0.1 only, every phase bounded:
#   1. wrk for SOAK_SECONDS (default 120) with 64 keep-alive connections;
#   2. CHURN (default 10,000) connection churns: connect, one request, close;
#   3. slow clients: SLOW (default 50) connections that trickle a request one byte at a
#      time, plus as many that connect and send nothing (the idle timeout must close them),
#      while ordinary requests must still be answered.
# Then checks: no wrk socket errors or non-2xx answers, every churn and slow request got
# 200, open descriptors back to the baseline, RSS back within bounds of the baseline
# (measured after a short warm-up of the same shape), and a clean stop on SIGINT.
#
#   http_soak.sh HTTP_SERVER [SOAK_SECONDS] [CHURN] [SLOW]
set -euo pipefail
server="$1"; soak_seconds="${2:-120}"; churn="${3:-10000}"; slow="${4:-50}"
command -v wrk >/dev/null || { echo "http_soak: wrk not found (apt-get install wrk)"; exit 1; }

log="$(mktemp)"; pids=()
cleanup() { kill -9 "$pid" "${pids[@]}" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
"$server" --port 0 --workers 2 --idle-ms 1000 >"$log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 200); do
  port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")"; [ -n "$port" ] && break; sleep 0.05
done
[ -n "$port" ] || { echo "server did not start:"; cat "$log"; exit 1; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
fds() { ls "/proc/$pid/fd" | wc -l; }
# Waits (bounded) until the server holds `want` descriptors or fewer; prints the count.
settle_fds() {
  local want="$1" n
  for _ in $(seq 1 100); do n="$(fds)"; [ "$n" -le "$want" ] && break; sleep 0.1; done
  echo "$n"
}
# One request on a fresh connection, with bash's /dev/tcp; prints the status code.
one_request() {
  local status=""
  if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
    printf 'GET /hello HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n' >&3
    IFS=' ' read -r -t 5 _ status _ <&3 || true
    exec 3<&- 3>&-
  fi
  echo "${status:-none}"
}

fds_start="$(fds)"
# Warm-up of the same shape as the soak (threads, allocator caches, frame caches), then
# the baseline.
wrk -t1 -c64 -d3s "http://127.0.0.1:$port/hello" >/dev/null
for _ in $(seq 1 200); do [ "$(one_request)" = 200 ] || { echo "warm-up request failed"; exit 1; }; done
fds_base="$(settle_fds "$fds_start")"
rss_base="$(rss_kib)"
echo "baseline: RSS ${rss_base} KiB, ${fds_base} descriptors"

# 1. Sustained load.
out="$(timeout $((soak_seconds + 60)) wrk -t1 -c64 -d"${soak_seconds}s" "http://127.0.0.1:$port/hello" 2>&1)"
requests="$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$out")"
rps="$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")"
non2xx="$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")"
sockerr="$(sed -n 's/.*Socket errors: \(.*\)/\1/p' <<<"$out")"
rss_load="$(rss_kib)"
echo "wrk ${soak_seconds}s: ${requests:-0} requests (${rps:-0}/s), non-2xx ${non2xx:-0}, socket errors: ${sockerr:-none}, RSS after ${rss_load} KiB"
[ -n "$requests" ] && [ "$requests" -gt 0 ] || { echo "wrk failed: $out"; exit 1; }
[ -z "$non2xx" ] || { echo "FAIL: non-2xx answers"; exit 1; }
# wrk reports timeouts for requests still in flight when its clock stops; anything else
# (connect, read, write errors) is a failure.
if [ -n "$sockerr" ] && ! grep -qE '^connect 0, read 0, write 0, timeout [0-9]+$' <<<"$sockerr"; then
  echo "FAIL: socket errors: $sockerr"; exit 1
fi

# 2. Connection churn.
churn_ok=0; churn_start="$(date +%s.%N)"
for _ in $(seq 1 "$churn"); do
  [ "$(one_request)" = 200 ] && churn_ok=$((churn_ok + 1))
done
churn_s="$(awk -v a="$churn_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')"
echo "churn: ${churn_ok}/${churn} connections answered 200 in ${churn_s} s, RSS $(rss_kib) KiB"
[ "$churn_ok" -eq "$churn" ] || { echo "FAIL: churn lost requests"; exit 1; }

# 3. Slow clients: trickling requests and silent connections, with ordinary traffic beside.
slow_dir="$(mktemp -d)"
for i in $(seq 1 "$slow"); do
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 0
    request=$'GET /hello HTTP/1.1\r\nHost: slow\r\nConnection: close\r\n\r\n'
    for ((k = 0; k < ${#request}; k++)); do printf '%s' "${request:k:1}" >&3; sleep 0.01; done
    IFS=' ' read -r -t 10 _ status _ <&3 || true
    echo "${status:-none}" >"$slow_dir/$i"
  ) &
  pids+=($!)
  ( exec 3<>"/dev/tcp/127.0.0.1/$port" && sleep 3 ) 2>/dev/null &
  pids+=($!)
done
during_ok=0
for _ in $(seq 1 50); do [ "$(one_request)" = 200 ] && during_ok=$((during_ok + 1)); done
wait "${pids[@]}" 2>/dev/null || true
pids=()
slow_ok="$(cat "$slow_dir"/* 2>/dev/null | grep -c '^200$' || true)"
rm -rf "$slow_dir"
echo "slow clients: ${slow_ok}/${slow} trickled requests answered 200; ${during_ok}/50 ordinary requests answered meanwhile"
[ "$slow_ok" -eq "$slow" ] || { echo "FAIL: slow clients not served"; exit 1; }
[ "$during_ok" -eq 50 ] || { echo "FAIL: ordinary requests not served during slow clients"; exit 1; }

# Descriptors back to the baseline (silent connections closed by the idle timeout), RSS
# back within 25% or 8 MiB of it, whichever is larger.
fds_end="$(settle_fds "$fds_base")"
rss_end="$(rss_kib)"
echo "after: RSS ${rss_end} KiB (baseline ${rss_base}, peak seen ${rss_load}), ${fds_end} descriptors (baseline ${fds_base})"
[ "$fds_end" -le "$fds_base" ] || { echo "FAIL: descriptor leak"; ls -l "/proc/$pid/fd"; exit 1; }
limit=$(( rss_base * 5 / 4 > rss_base + 8192 ? rss_base * 5 / 4 : rss_base + 8192 ))
[ "$rss_end" -le "$limit" ] || { echo "FAIL: RSS ${rss_end} KiB above ${limit} KiB"; exit 1; }

kill -INT "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && { echo "FAIL: server did not stop on SIGINT"; exit 1; }
wait "$pid" || { echo "FAIL: server exited with an error:"; cat "$log"; exit 1; }
grep 'stopping' "$log"
echo "soak passed"
