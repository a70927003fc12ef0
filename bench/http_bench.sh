#!/usr/bin/env bash
# HTTP benchmark: requests/s and server CPU time per request of examples/http_server (weft)
# beside the plain-Asio server with the same handling (bench/asio_http_server.cpp), under
# wrk on loopback. Servers: weft at 1 and 2 workers, Asio with 1 and 2 threads; 64 and 256
# connections; pinned (server on CPU 0, wrk on CPU 1) and unpinned. Each cell is the
# median of REPS runs of DURATION seconds; CPU per request is utime+stime of the server
# process (/proc/PID/stat) over the run, divided by the requests wrk completed.
#
#   http_bench.sh WEFT_SERVER ASIO_SERVER REPORT_DIR [DURATION=3] [REPS=5]
set -euo pipefail
weft_server="$1"; asio_server="$2"; report_dir="$3"; duration="${4:-3}"; reps="${5:-5}"
command -v wrk >/dev/null || { echo "http_bench: wrk not found (apt-get install wrk)"; exit 1; }
mkdir -p "$report_dir"
ticks_per_s="$(getconf CLK_TCK)"
cpus="$(nproc)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_one NAME PINNED CONNS CMD... -> prints "rps cpu_us_per_request errors"
run_one() {
  local pinned="$1" conns="$2"; shift 2
  local log; log="$(mktemp)"
  local server_prefix=() wrk_prefix=()
  if [ "$pinned" = yes ]; then server_prefix=(taskset -c 0); wrk_prefix=(taskset -c 1); fi
  "${server_prefix[@]}" "$@" --port 0 >"$log" 2>&1 &
  local pid=$! port=""
  for _ in $(seq 1 200); do
    port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")"; [ -n "$port" ] && break; sleep 0.05
  done
  [ -n "$port" ] || { echo "server did not start: $(cat "$log")" >&2; kill -9 $pid; exit 1; }
  # Warm up (connections, allocator caches), then measure.
  "${wrk_prefix[@]}" wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$port/hello" >/dev/null 2>&1 || true
  local before; before="$(cpu_ticks $pid)"
  local out; out="$("${wrk_prefix[@]}" timeout $((duration + 30)) wrk -t1 -c"$conns" -d"${duration}s" "http://127.0.0.1:$port/hello" 2>&1)"
  local after; after="$(cpu_ticks $pid)"
  kill -INT $pid; wait $pid 2>/dev/null || true; rm -f "$log"
  local requests rps errors
  requests="$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$out")"
  rps="$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")"
  errors="$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")"
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || { echo "wrk failed: $out" >&2; exit 1; }
  awk -v r="$rps" -v d=$((after - before)) -v t="$ticks_per_s" -v n="$requests" -v e="${errors:-0}" \
    'BEGIN { printf "%.0f %.2f %d\n", r, d / t * 1e6 / n, e }'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# (max - min) / median, in percent, as the main report's spread.
spread() { sort -g | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
                                           printf "%.0f", (m > 0 ? (a[NR] - a[1]) / m * 100 : 0)}'; }

results="$report_dir/http_results.txt"
: >"$results"
configs=("weft 1" "weft 2" "asio 1" "asio 2")
for pinned in yes no; do
  [ "$pinned" = yes ] && [ "$cpus" -lt 2 ] && continue
  for conns in 64 256; do
    # Repetitions interleave the configurations (weft 1, weft 2, asio 1, asio 2, then
    # again), so that a slow phase of a shared host lands on all of them, not on the
    # repetitions of one: this host swings between about 110k and 140k requests/s for
    # every server alike.
    # The order is reversed every other round, so that a drift within a round does not
    # always favour the same configuration.
    declare -A rps_lists=() cpu_lists=() err_counts=()
    for round in $(seq 1 "$reps"); do
      order=("${configs[@]}")
      if [ $((round % 2)) -eq 0 ]; then order=("${configs[3]}" "${configs[2]}" "${configs[1]}" "${configs[0]}"); fi
      for config in "${order[@]}"; do
        set -- $config
        impl="$1"; n="$2"
        if [ "$impl" = weft ]; then cmd=("$weft_server" --workers "$n"); else cmd=("$asio_server" --threads "$n"); fi
        read -r rps cpu e < <(run_one "$pinned" "$conns" "${cmd[@]}")
        rps_lists[$config]+="$rps "; cpu_lists[$config]+="$cpu "; err_counts[$config]=$(( ${err_counts[$config]:-0} + e ))
      done
    done
    # The Asio configuration with the best median (requests/s, CPU per request) of the cell:
    # the paired ratios set each weft run against that configuration's run of the same round.
    best_rps_config="" best_cpu_config="" best_rps=0 best_cpu=""
    for config in "asio 1" "asio 2"; do
      r="$(printf '%s\n' ${rps_lists[$config]} | median)"; c="$(printf '%s\n' ${cpu_lists[$config]} | median)"
      if awk -v a="$r" -v b="$best_rps" 'BEGIN { exit !(a > b) }'; then best_rps="$r"; best_rps_config="$config"; fi
      if [ -z "$best_cpu" ] || awk -v a="$c" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
        best_cpu="$c"; best_cpu_config="$config"
      fi
    done
    for config in "${configs[@]}"; do
      set -- $config
      paired_rps="-" paired_cpu="-"
      if [ "$1" = weft ]; then
        paired_rps="$(paste -d' ' <(printf '%s\n' ${rps_lists[$config]}) <(printf '%s\n' ${rps_lists[$best_rps_config]}) |
          awk '{ printf "%.4f\n", $1 / $2 }' | median)"
        paired_cpu="$(paste -d' ' <(printf '%s\n' ${cpu_lists[$config]}) <(printf '%s\n' ${cpu_lists[$best_cpu_config]}) |
          awk '{ printf "%.4f\n", $1 / $2 }' | median)"
      fi
      rps_med="$(printf '%s\n' ${rps_lists[$config]} | median)"
      cpu_med="$(printf '%s\n' ${cpu_lists[$config]} | median)"
      rps_spread="$(printf '%s\n' ${rps_lists[$config]} | spread)"
      cpu_spread="$(printf '%s\n' ${cpu_lists[$config]} | spread)"
      echo "$pinned $conns $1 $2 $rps_med $cpu_med ${err_counts[$config]} $rps_spread $cpu_spread $paired_rps $paired_cpu ${rps_lists[$config]}" |
        tee -a "$results"
    done
    unset rps_lists cpu_lists err_counts
  done
done

# The table: each weft row against the best plain-Asio configuration of the same cell
# (highest requests/s, lowest CPU per request).
{
  echo "## HTTP: examples/http_server (weft) vs plain Asio, wrk on loopback"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $cpus CPUs; wrk -t1, GET /hello, ${duration}s runs, median of $reps"
  echo "(the configurations of a cell take turns, one run each per round, the order reversed every other round)."
  echo "CPU/req is the server's utime+stime per request (µs). Ratios: weft / best Asio configuration of the cell"
  echo "(by median). Paired: the median over the rounds of weft's run / that configuration's run of the same round,"
  echo "so a slow phase that outlasts a round slows both sides of a ratio alike; where the two disagree, trust these."
  echo "± is the spread of the runs, (max − min) / median; ⚠ marks one over 10% (this host has slow phases in"
  echo "which every server drops from about 145k to about 110k requests/s; the interleaving spreads them over all)."
  echo
  echo "| pinned | conns | server | req/s | CPU/req µs | errors | req/s ratio | CPU/req ratio | paired req/s | paired CPU/req |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  awk '
    { key = $1 " " $2; rows[NR] = $0
      if ($3 == "asio") { if ($5 > best_rps[key]) best_rps[key] = $5
                          if (!(key in best_cpu) || $6 < best_cpu[key]) best_cpu[key] = $6 } }
    END { for (i = 1; i <= NR; ++i) { split(rows[i], f, " "); key = f[1] " " f[2]
            name = f[3] (f[3] == "weft" ? " " f[4] " worker(s)" : " " f[4] " thread(s)")
            r = (f[3] == "weft") ? sprintf("%.2f", f[5] / best_rps[key]) : ""
            c = (f[3] == "weft") ? sprintf("%.2f", f[6] / best_cpu[key]) : ""
            rs = "±" f[8] "%" (f[8] > 10 ? " ⚠" : ""); cs = "±" f[9] "%" (f[9] > 10 ? " ⚠" : "")
            pr = (f[3] == "weft") ? sprintf("%.2f", f[10]) : ""
            pc = (f[3] == "weft") ? sprintf("%.2f", f[11]) : ""
            printf "| %s | %s | %s | %s %s | %s %s | %s | %s | %s | %s | %s |\n", f[1], f[2], name, f[5], rs, f[6], cs, f[7],
                   r, c, pr, pc } }
  ' "$results"
} >"$report_dir/http_report.md"
cat "$report_dir/http_report.md"
