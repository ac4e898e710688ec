#!/usr/bin/env bash
# `make demo`: the main job on a bundled default. For now (foundation): make a tiny LLaMA-3-style
# checkpoint, inspect it, re-type and re-shard it, inspect the result.
set -euo pipefail
LEP=${1:-.build/release/lep}
OUT=${DEMO_DIR:-demo-output}
rm -rf "$OUT"; mkdir -p "$OUT"
run() { echo; echo "\$ lep $*"; "$LEP" "$@"; }
run synth --preset tiny-llama3 --seed 1 "$OUT/tiny-llama3"
run inspect "$OUT/tiny-llama3"
run convert "$OUT/tiny-llama3" "$OUT/tiny-llama3-f32" --dtype f32 --shard-size 300KB
run inspect "$OUT/tiny-llama3-f32" --check-values
echo; echo "demo outputs are in $OUT/"
