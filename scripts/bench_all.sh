#!/usr/bin/env bash
# `make bench`: every benchmark row against its peer in one run, a summary table, bench/results.json.
#
#   make bench                          # every row
#   make bench ROWS="merge union"       # chosen rows (names below)
#   scripts/bench_all.sh [LEP_BINARY]   # the same without make (ROWS from the environment)
#
# Rows and their peers (a peer that is not installed is reported as skipped, never estimated):
#   merge        task_arithmetic and ties, 3 bf16 ~1B checkpoints: mergekit-yaml, I/O floor (cat + cp + sync)
#                (scripts/bench_merge.sh; LAYERS/HIDDEN/VOCAB make it smaller)
#   union        tokenizer_source union of two 150k vocabularies: time budget (scripts/bench_union.sh)
#   propagate    propagate conversion at LLaMA-3-8B embedding shapes: --fit-precision float64, numpy lstsq
#                (scripts/bench_propagate.sh; SKIP_FLOAT64=1 / SKIP_NUMPY=1 leave those out)
#   propagate-1b propagate conversion at LLaMA-3.2-1B shapes (h 2048, 128k -> 32k): the authors' code (make_ushanka)
#                with RUADAPT set to a ruadapt checkout or bare mirror (scripts/bench_propagate_reference.py, reference environment)
#   forward      prefill 512 / decode 64, SmolLM-135M shapes and two LLaMA-3 shapes: PyTorch f32, same
#                threads, alternating rounds (scripts/bench_forward.py, reference environment; FORWARD_MODELS, ROUNDS)
#   tokenizers   encode throughput: HF tokenizers (scripts/bench_tokenizers.sh, reference environment)
#   foundation   convert / inspect vs cp (scripts/bench.sh)
# Rows whose script prints a JSON result (merge, union, forward, propagate, propagate-1b) are tabulated with their ratios; the others'
# output lines are kept verbatim in results.json ("lines") and shown as they are.
# The machine is shared: the load average is recorded with every row.
set -uo pipefail
cd "$(dirname "$0")/.."
LEP=${1:-.build/release/lep}
ROWS=${ROWS:-"merge union propagate propagate-1b forward tokenizers foundation"}
REFENV=${REFENV:-../refenv}
OUT=${BENCH_OUT:-bench}
[ -x "$LEP" ] || { echo "bench: $LEP not found (swift build -c release --product lep)"; exit 1; }
mkdir -p "$OUT"
RESULTS=$(mktemp)
export BENCH_RESULTS=$RESULTS
. scripts/bench_lib.sh

skip() {  # ROW REASON
  echo "== $1: skipped ($2)"
  bench_row "$(python3 -c 'import json, sys; print(json.dumps({"row": sys.argv[1], "skipped": sys.argv[2]}))' "$1" "$2")"
}

run_text_row() {  # ROW CMD...: runs a script without JSON output; keeps its lines
  local row=$1; shift
  local log; log=$(mktemp)
  echo "== $row: $*"
  local rc=0
  "$@" 2>&1 | tee "$log" || rc=$?
  bench_row "$(python3 - "$row" "$rc" "$log" "$(load_average)" <<'PY'
import json, sys
row, rc, log, load = sys.argv[1:]
lines = [l.rstrip("\n") for l in open(log, errors="replace")][-60:]
print(json.dumps({"row": row, "exit_status": int(rc), "lines": lines, "load_average": load}))
PY
)"
  rm -f "$log"
}

have_refenv=0; [ -x "$REFENV/bin/python" ] && have_refenv=1

for row in $ROWS; do
  case $row in
    merge)
      echo "== merge: scripts/bench_merge.sh"
      scripts/bench_merge.sh "$LEP" || echo "merge row failed"
      ;;
    union)
      echo "== union: scripts/bench_union.sh"
      scripts/bench_union.sh "$LEP" || echo "union row failed or over budget"
      ;;
    propagate)
      if [ ! -d ../shared/realdata ]; then skip propagate "needs ../shared/realdata"
      else echo "== propagate: scripts/bench_propagate.sh"; scripts/bench_propagate.sh "$LEP" || echo "propagate row failed"; fi
      ;;
    propagate-1b)
      if [ $have_refenv = 0 ]; then skip propagate-1b "the authors' code needs the reference environment (make refenv)"
      elif [ ! -d ../shared/realdata ]; then skip propagate-1b "needs ../shared/realdata"
      else
        echo "== propagate-1b: scripts/bench_propagate_reference.py"
        "$REFENV/bin/python" scripts/bench_propagate_reference.py "$LEP" || echo "propagate-1b row failed"
      fi
      ;;
    forward)
      if [ $have_refenv = 0 ]; then skip forward "PyTorch peer needs the reference environment (make refenv)"
      else
        echo "== forward: scripts/bench_forward.py"
        "$REFENV/bin/python" scripts/bench_forward.py "$LEP" || echo "forward row failed"
      fi
      ;;
    tokenizers)
      if [ $have_refenv = 0 ]; then skip tokenizers "HF tokenizers peer needs the reference environment (make refenv)"
      elif [ ! -d ../shared/realdata ]; then skip tokenizers "needs ../shared/realdata"
      else run_text_row tokenizers scripts/bench_tokenizers.sh "$LEP"; fi
      ;;
    foundation)
      run_text_row foundation scripts/bench.sh "$LEP"
      ;;
    *) echo "bench: unknown row '$row' (merge union propagate propagate-1b forward tokenizers foundation)"; exit 64 ;;
  esac
done

python3 - "$RESULTS" "$OUT/results.json" "$(load_average)" "$(nproc)" <<'PY'
import json, sys, time
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
doc = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": int(sys.argv[4]),
       "load_average_at_end": sys.argv[3], "note": "shared machine: wall times depend on other load; CPU times less so",
       "rows": rows}
with open(sys.argv[2], "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
print()
print(f"{'row':24s} {'lep wall':>9s} {'lep CPU':>8s} {'RSS MB':>7s} {'anon MB':>8s}  ratios / status")
for r in rows:
    if "skipped" in r:
        print(f"{r['row']:24s} skipped: {r['skipped']}")
    elif "lep" in r:
        l = r["lep"]
        q = ", ".join(f"{k} {v}" for k, v in r.get("ratios", {}).items())
        sk = [f"{p} skipped" for p, v in r.get("peers", {}).items() if isinstance(v, dict) and "skipped" in v]
        print(f"{r['row']:24s} {l['wall_s']:8.2f}s {l.get('cpu_s', float('nan')):7.2f}s {l.get('peak_rss_mb', 0):7d} {l.get('peak_anon_mb', 0):8d}  {q}{'; ' + ', '.join(sk) if sk else ''} (load {r.get('load_average', '?')})")
    else:
        print(f"{r['row']:24s} exit {r.get('exit_status')}: see its lines above / in results.json")
print(f"\nwrote {sys.argv[2]}")
PY
rm -f "$RESULTS"
