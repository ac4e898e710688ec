#!/usr/bin/env bash
# Benchmark: lep merge vs mergekit-yaml (CPU) on the same synthetic checkpoints, measured in the same
# run, with peak RSS and peak anonymous memory (scripts/bench_lib.sh), plus the I/O floor (reading all
# inputs + writing one output with cat/cp + sync). mergekit missing: its column says skipped. With
# BENCH_RESULTS=FILE each method appends one JSON row to FILE (what `make bench` collects). Usage:
#   scripts/bench_merge.sh [LEP_BINARY] [WORKDIR]
# Environment: LAYERS (8), HIDDEN (2048), VOCAB (128256) → about 1B parameters in bf16 (llama3-8b
# shapes with fewer layers); METHODS ("task_arithmetic ties"); MERGEKIT (mergekit-yaml); REFENV
# (`make refenv`: ../refenv, activated when present); LEP_BASELINE (an earlier lep binary, measured in the
# same run as one more peer, "lep_baseline", with its output compared byte for byte); ROUNDS (3): the
# floor, lep and the baseline run ROUNDS times each, alternating, and the run with the median wall
# time is reported for each (mergekit, which takes minutes, runs once).
# Needs ~6 GB per checkpoint set of disk and RAM for page cache.
set -euo pipefail
LEP=${1:-.build/release/lep}
WORK=${2:-$(mktemp -d /tmp/lep-bench-XXXX)}
LAYERS=${LAYERS:-8}; HIDDEN=${HIDDEN:-2048}; VOCAB=${VOCAB:-128256}
METHODS=${METHODS:-"task_arithmetic ties"}
REFENV=${REFENV:-$(dirname "$0")/../../refenv}
if [ -f "$REFENV/bin/activate" ]; then . "$REFENV/bin/activate"; fi
MERGEKIT=${MERGEKIT:-mergekit-yaml}
export LEP_QUIET=1 HF_HUB_OFFLINE=1
mkdir -p "$WORK"
for m in base a b; do
  seed=$([ $m = base ] && echo 1 || ([ $m = a ] && echo 2 || echo 3))
  [ -d "$WORK/$m" ] || "$LEP" synth --preset llama3-8b --layers "$LAYERS" --hidden "$HIDDEN" --vocab "$VOCAB" --seed "$seed" "$WORK/$m" >/dev/null
done
in_bytes=$(du -cb "$WORK"/base/*.safetensors "$WORK"/a/*.safetensors "$WORK"/b/*.safetensors | tail -1 | cut -f1)
echo "inputs: 3 checkpoints, $((in_bytes / 1000000)) MB in all (layers $LAYERS, hidden $HIDDEN, vocab $VOCAB, bf16); $(nproc) CPUs"

. "$(dirname "$0")/bench_lib.sh"
have_mk=1; command -v "$MERGEKIT" >/dev/null 2>&1 || have_mk=0

ROUNDS=${ROUNDS:-3}
inputs() { cat "$WORK"/base/*.safetensors "$WORK"/a/*.safetensors "$WORK"/b/*.safetensors >/dev/null; }

# I/O floor: read every input once and write one output-sized file (fsynced), as the merges do.
floor_run() {
  sync; echo 3 | sudo -n tee /proc/sys/vm/drop_caches >/dev/null 2>&1 || true
  measure bash -c "cat '$WORK'/base/*.safetensors '$WORK'/a/*.safetensors '$WORK'/b/*.safetensors >/dev/null; mkdir -p '$WORK/floor'; cp '$WORK'/base/*.safetensors '$WORK/floor/'; sync"
  rm -rf "$WORK/floor"
}

# The median (by wall time) of "wall cpu rss anon" lines on stdin.
median_run() { sort -n -k1,1 | awk '{ r[NR] = $0 } END { print r[int((NR + 1) / 2)] }'; }

for method in $METHODS; do
  recipe="$WORK/$method.yml"
  case $method in
    task_arithmetic) extra="" ;;
    ties) extra="      density: 0.5" ;;
    *) extra="" ;;
  esac
  cat > "$recipe" <<YAML
merge_method: $method
base_model: $WORK/base
models:
  - model: $WORK/a
    parameters:
      weight: 0.6
$extra
  - model: $WORK/b
    parameters:
      weight: 0.4
$extra
dtype: bfloat16
YAML
  rm -rf "$WORK/out-lep" "$WORK/out-mk" "$WORK/out-base"
  # Inputs in the page cache for every program (each run reads them once more first).
  floor_runs="" lep_runs="" base_runs="" same=true
  for round in $(seq "$ROUNDS"); do
    floor_run
    floor_runs+="$M_WALL $M_CPU 0 0"$'\n'
    inputs
    rm -rf "$WORK/out-lep"
    measure "$LEP" merge "$recipe" -o "$WORK/out-lep"
    lep_runs+="$M_WALL $M_CPU $M_RSS $M_ANON"$'\n'
    if [ -n "${LEP_BASELINE:-}" ]; then
      inputs
      rm -rf "$WORK/out-base"
      measure "$LEP_BASELINE" merge "$recipe" -o "$WORK/out-base"
      base_runs+="$M_WALL $M_CPU $M_RSS $M_ANON"$'\n'
      cmp -s "$WORK/out-lep/model.safetensors" "$WORK/out-base/model.safetensors" 2>/dev/null || same=false
      [ -f "$WORK/out-lep/model.safetensors" ] || { diff -rq --exclude=lep_merge.json "$WORK/out-lep" "$WORK/out-base" >/dev/null || same=false; }
      rm -rf "$WORK/out-base"
    fi
  done
  read -r fw fc _ _ < <(printf %s "$floor_runs" | median_run)
  echo "I/O floor (cat inputs + cp one output + sync), median of $ROUNDS: $fw s; load average $(load_average) ($(nproc) CPUs, shared machine)"
  read -r lw lc lm la < <(printf %s "$lep_runs" | median_run)
  base='{}'
  if [ -n "${LEP_BASELINE:-}" ]; then
    read -r bw bc bm ba < <(printf %s "$base_runs" | median_run)
    base="{\"wall_s\": $bw, \"cpu_s\": $bc, \"peak_rss_mb\": $bm, \"peak_anon_mb\": $ba, \"binary\": \"$LEP_BASELINE\", \"same_bytes\": $same}"
  fi
  if [ $have_mk = 1 ]; then
    inputs
    measure "$MERGEKIT" "$recipe" "$WORK/out-mk" --no-copy-tokenizer --quiet
    mk="{\"wall_s\": $M_WALL, \"cpu_s\": $M_CPU, \"peak_rss_mb\": $M_RSS, \"peak_anon_mb\": $M_ANON}"
  else
    mk='{"skipped": "mergekit-yaml not found (make refenv)"}'
  fi
  row=$(python3 - "$method" "$lw" "$lc" "$lm" "$la" "$fw" "$fc" "$mk" "$(load_average)" "$in_bytes" "$base" "$ROUNDS" <<'PY'
import json, sys
m, lw, lc, lm, la, fw, fc, mk, load, inb, base, rounds = sys.argv[1:]
lep = {"wall_s": float(lw), "cpu_s": float(lc), "peak_rss_mb": int(lm), "peak_anon_mb": int(la)}
mk = json.loads(mk)
floor = {"wall_s": float(fw), "cpu_s": float(fc)}
ratios = {"lep_over_floor": round(lep["wall_s"] / floor["wall_s"], 2)}
if "wall_s" in mk:
    ratios["mergekit_over_lep"] = round(mk["wall_s"] / lep["wall_s"], 2)
    ratios["mergekit_over_lep_cpu"] = round(mk["cpu_s"] / max(lep["cpu_s"], 1e-9), 2)
peers = {"mergekit": mk, "io_floor": floor}
base = json.loads(base)
if base:
    peers["lep_baseline"] = base
    ratios["baseline_over_lep"] = round(base["wall_s"] / lep["wall_s"], 2)
print(json.dumps({"row": "merge_" + m, "work": f"{m}, 3 bf16 checkpoints ({int(inb) // 10**6} MB), inputs in the page cache, median of {rounds} runs",
                  "lep": lep, "peers": peers, "ratios": ratios, "load_average": load}))
PY
)
  bench_row "$row"
  python3 - "$row" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); l = r["lep"]; mk = r["peers"]["mergekit"]; q = r["ratios"]
mks = (f"mergekit {mk['wall_s']:6.1f} s wall {mk['cpu_s']:6.1f} s CPU {mk['peak_rss_mb']:6d} MB RSS {mk['peak_anon_mb']:6d} MB anon | "
       f"speed-up {q['mergekit_over_lep']:.2f}x wall {q['mergekit_over_lep_cpu']:.2f}x CPU | ") if "wall_s" in mk else f"mergekit skipped ({mk['skipped']}) | "
b = r["peers"].get("lep_baseline")
bs = (f" | baseline {b['wall_s']:6.1f} s wall {b['cpu_s']:6.1f} s CPU {b['peak_rss_mb']:6d} MB RSS {b['peak_anon_mb']:6d} MB anon, "
      f"{q['baseline_over_lep']:.2f}x, same bytes: {b['same_bytes']}") if b else ""
print(f"{r['row']:24s} lep {l['wall_s']:6.1f} s wall {l['cpu_s']:6.1f} s CPU {l['peak_rss_mb']:6d} MB RSS {l['peak_anon_mb']:6d} MB anon | "
      + mks + f"lep / I/O floor {q['lep_over_floor']:.2f} (load {r['load_average']})" + bs)
PY
  rm -rf "$WORK/out-lep" "$WORK/out-mk"
done
echo "(workdir $WORK kept; remove it when done)"
