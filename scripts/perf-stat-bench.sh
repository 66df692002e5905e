#!/usr/bin/env bash
# What byokd spends per record or per call in a benchmark's throughput phase: `perf stat` attached
# to the byokd the harness starts, for 3 seconds inside that phase, divided by the phase's rate.
# CPU time (task-clock) and system calls (tracepoints; no hardware counters are needed).
# Usage: scripts/perf-stat-bench.sh load      # the pipelined phase of daemon/benches/load.rs
#        scripts/perf-stat-bench.sh gateway   # the 32-connection phase of byokd in bench-gateway.sh
# Needs `perf` (Debian: linux-perf) and the rights to attach it (root, or perf_event_paranoid <= 1).
set -euo pipefail
cd "$(dirname "$0")/.."

events=task-clock,context-switches,syscalls:sys_enter_futex,syscalls:sys_enter_sendto
events+=,syscalls:sys_enter_writev,syscalls:sys_enter_recvfrom,syscalls:sys_enter_fsync
events+=,syscalls:sys_enter_pwrite64
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Waits for the benchmark (started in the background) to print a line matching $1; fails, with
# its output, if it ends first.
wait_for() {
  until grep -q "$1" "$out/bench" 2>/dev/null; do
    if ! kill -0 "$!" 2>/dev/null; then
      cat "$out/bench" >&2
      echo "the benchmark ended before printing \"$1\"" >&2
      exit 1
    fi
    sleep 0.1
  done
}

case "${1:-}" in
  load)
    cargo bench -q --locked -p byokit-daemon --bench load -- --seconds 5 --events 1000 >"$out/bench" 2>&1 &
    # Phase 1 (one request in flight) prints its line when it ends; the pipelined phase follows.
    wait_for "one request in flight"
    sleep 0.5
    rate_line="64 in flight"
    unit=record
    ;;
  gateway)
    bash scripts/bench-gateway.sh --seconds 5 >"$out/bench" 2>&1 &
    # The mock's own phases print their line; then byokd's latency phase (5 s, direct calls
    # interleaved), then its throughput phase.
    wait_for "^mock provider"
    sleep 5.8
    rate_line="^byokd .*requests/s"
    unit=call
    ;;
  *)
    echo "usage: $0 load|gateway" >&2
    exit 2
    ;;
esac
perf stat -x, -e "$events" -p "$(pgrep -n byokd)" -o "$out/stat" -- sleep 3
wait
cat "$out/bench"
rate=$(grep -E "$rate_line" "$out/bench" | grep -oE '[0-9]+ (records|requests)/s' | grep -oE '^[0-9]+')
echo "perf stat over 3 s of that phase, per $unit:"
awk -F, -v n="$((rate * 3))" '/^[0-9]/ && $3 != "" {
  if ($3 == "task-clock") printf "  %-32s %8.2f µs\n", "CPU (task-clock)", $1 * 1000 / n
  else printf "  %-32s %8.3f\n", $3, $1 / n
}' "$out/stat"
