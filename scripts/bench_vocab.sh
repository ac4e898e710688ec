#!/usr/bin/env bash
# Benchmark of `lep vocab init` (Documentation/Propagation.md §4): a LLaMA-3-8B-shaped base (lep synth, 2 layers, V = 128256,
# h = 4096, bf16) re-initialised for the LLaMA-3 + ruadapt Russian BPE *extended* vocabulary.
# Goal: <= 60 s wall. Prints wall time and peak RSS (/usr/bin/time -v) of each step.
# Usage: scripts/bench_vocab.sh [WORKDIR]   (env: LEP=path/to/release/lep, LEP_REALDATA=../shared/realdata)
set -euo pipefail
cd "$(dirname "$0")/.."
R=${LEP_REALDATA:-${REALDATA:-../shared/realdata}}
if [ ! -f "$R/llama3/tokenizer.json" ]; then echo "bench_vocab: $R is absent: skipped"; exit 0; fi
LEP=${LEP:-}
if [ -z "$LEP" ]; then
  swift build -c release --scratch-path .build-vocab-rel --product lep >/dev/null
  LEP=.build-vocab-rel/release/lep
fi
W=${1:-$(mktemp -d /tmp/lep-bench-vocab.XXXXXX)}
mkdir -p "$W"
NEW=$R/ruadapt/hf_tokenizers/darulm_20_05_24_part1-2_32000_bpe_hf
step() {  # step NAME CMD...: runs CMD under /usr/bin/time -v, prints its wall time and peak RSS
  local name=$1; shift
  /usr/bin/time -v "$@" >"$W/$name.out" 2>"$W/$name.time" || { cat "$W/$name.out" "$W/$name.time"; exit 1; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$W/$name.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$W/$name.time" | awk '{print $NF}')
  printf '%-12s wall %-10s peak RSS %6.0f MB   %s\n' "$name" "$wall" "$((rss / 1024))" "$(head -1 "$W/$name.out")"
}
[ -f "$W/base/config.json" ] || step synth "$LEP" synth --preset llama3-8b --layers 2 --force "$W/base"
cp "$R/llama3/tokenizer.json" "$R/llama3/tokenizer_config.json" "$R/llama3/special_tokens_map.json" "$W/base/"
step build "$LEP" vocab build --mode extend --old "$R/llama3" --new "$NEW" -o "$W/extended" --force
step init "$LEP" vocab init --model "$W/base" --tokenizer "$W/extended" -o "$W/init" --force
sed -n '2,$p' "$W/init.out"
echo "work dir: $W (remove when done)"
