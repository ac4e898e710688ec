#!/usr/bin/env bash
# Benchmark: lep merge vs mergekit-yaml (CPU) on the same synthetic checkpoints, measured in the same
# run, with peak RSS from /usr/bin/time -v, plus the I/O floor (reading all inputs + writing one output
# with cat/cp). Usage:
#   scripts/bench_merge.sh [LEP_BINARY] [WORKDIR]
# Environment: LAYERS (8), HIDDEN (2048), VOCAB (128256) → about 1B parameters in bf16 (llama3-8b
# shapes with fewer layers); METHODS ("task_arithmetic ties"); MERGEKIT (mergekit-yaml); REFENV
# (`make refenv`: ../refenv, activated when present). Needs ~6 GB per checkpoint set of disk and RAM for page cache.
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

# time -v wrapper: prints "wall_s peak_rss_mb cpu_s" (CPU time = user + system: less sensitive than
# wall time to other load on a shared machine)
measure() {
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log" >&2; rm -f "$log"; return 1; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  cpu=$(grep -E "User time|System time" "$log" | awk '{s += $NF} END {print s}')
  rm -f "$log"
  echo "$wall $((rss / 1024)) $cpu"
}

# I/O floor: read every input once and write one output-sized file.
sync; echo 3 | sudo -n tee /proc/sys/vm/drop_caches >/dev/null 2>&1 || true
floor=$(measure bash -c "cat '$WORK'/base/*.safetensors '$WORK'/a/*.safetensors '$WORK'/b/*.safetensors >/dev/null; mkdir -p '$WORK/floor'; cp '$WORK'/base/*.safetensors '$WORK/floor/'; sync")
rm -rf "$WORK/floor"
echo "I/O floor (cat inputs + cp one output): $(echo $floor | cut -d' ' -f1) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"

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
  rm -rf "$WORK/out-lep" "$WORK/out-mk"
  lep_r=$(measure "$LEP" merge "$recipe" -o "$WORK/out-lep")
  mk_r=$(measure "$MERGEKIT" "$recipe" "$WORK/out-mk" --no-copy-tokenizer --quiet)
  read lw lm lc <<<"$lep_r"; read mw mm mc <<<"$mk_r"
  fw=$(echo $floor | cut -d' ' -f1)
  python3 - "$method" "$lw" "$lm" "$lc" "$mw" "$mm" "$mc" "$fw" <<'PY'
import sys
m, lw, lm, lc, mw, mm, mc, fw = sys.argv[1], *map(float, sys.argv[2:])
print(f"{m:16s} lep {lw:6.1f} s wall {lc:6.1f} s CPU {lm:6.0f} MB | mergekit {mw:6.1f} s wall {mc:6.1f} s CPU {mm:6.0f} MB | "
      f"speed-up {mw/lw:4.2f}x wall {mc/lc:4.2f}x CPU, RSS ratio {lm/mm:4.2f}, lep / I/O floor {lw/fw:4.2f}")
PY
  rm -rf "$WORK/out-lep" "$WORK/out-mk"
done
echo "(workdir $WORK kept; remove it when done)"
