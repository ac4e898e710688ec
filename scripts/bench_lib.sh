# Shared by the benchmark scripts (source it). Needs /usr/bin/time (Debian 'time') and python3.
#
# measure CMD...   runs CMD (stdout and stderr to $BENCH_LOG, default /dev/null) and sets
#   M_WALL (s), M_CPU (user + system s), M_RSS (peak resident MB, /usr/bin/time %M: mapped input pages
#   count here) and M_ANON (peak anonymous MB: RssAnon of the process and its children, sampled every
#   0.1 s, so a shorter spike can be missed). Returns CMD's status.
# bench_row JSON   appends one result object to $BENCH_RESULTS (a JSON-lines file) when it is set.
# load_average     the 1/5/15-minute load averages.

BENCH_LOG=${BENCH_LOG:-/dev/null}

_anon_kb() {  # RssAnon (kB) of a process and its descendants
  local pid=$1 total=0 k v _ c
  { while read -r k v _; do [ "$k" = "RssAnon:" ] && total=$((total + v)); done < "/proc/$pid/status"; } 2>/dev/null || true
  for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do total=$((total + $(_anon_kb "$c"))); done
  echo "$total"
}

measure() {
  local tf; tf=$(mktemp)
  /usr/bin/time -f "%e %U %S %M" -o "$tf" "$@" >>"$BENCH_LOG" 2>&1 &
  local tpid=$! peak=0 a
  while kill -0 "$tpid" 2>/dev/null; do
    a=$(_anon_kb "$tpid")
    [ "$a" -gt "$peak" ] && peak=$a
    sleep 0.1
  done
  local rc=0
  wait "$tpid" || rc=$?
  local wall u s rss
  read -r wall u s rss < <(tail -1 "$tf")
  rm -f "$tf"
  M_WALL=$wall
  M_CPU=$(python3 -c "print(round($u + $s, 2))")
  M_RSS=$((rss / 1024))
  M_ANON=$((peak / 1024))
  return $rc
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

bench_row() {
  [ -n "${BENCH_RESULTS:-}" ] && echo "$1" >> "$BENCH_RESULTS"
  return 0
}
