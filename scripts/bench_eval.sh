#!/usr/bin/env bash
# Benchmark of `lep eval`: the bundled suite (likelihood, copy, multiple choice both styles,
# tokenizer efficiency, chat format; English and Russian; 7 copy items per language and kind, 3 chat
# prompts per language) on a ~150M-parameter synthetic LLaMA model.
#
# Model: `lep synth --preset tiny-llama3 --hidden 768 --layers 12 --vocab 32000` (random bf16 weights).
# Tokenizer: the LLaMA-2 SentencePiece model (32000 pieces) from ../shared/realdata/llama2/tokenizer.model,
# copied into the temporary model folder only (never into the repo); chat format: built-in `mistral`
# ([INST] ... [/INST], <s>/</s>, which the LLaMA-2 vocabulary has). Without ../shared the bench stops.
# Reports the total wall time and the share spent in the forward pass (lep prints both on stderr).
# Usage: scripts/bench_eval.sh [LEP_BINARY] [THREADS]   (default .build/release/lep, 2 threads)
set -euo pipefail
cd "$(dirname "$0")/.."
LEP=${1:-.build/release/lep}
THREADS=${2:-2}
TOK=${LEP_REALDATA:-../shared/realdata}/llama2/tokenizer.model
[ -x "$LEP" ] || { echo "build lep first: swift build -c release (or pass the binary)"; exit 1; }
[ -f "$TOK" ] || { echo "skipped: $TOK is absent (the bench needs a 32000-token tokenizer)"; exit 0; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$LEP" synth --preset tiny-llama3 --hidden 768 --layers 12 --vocab 32000 --seed 7 "$WORK/m150" >/dev/null
cp "$TOK" "$WORK/m150/tokenizer.model"
printf '{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true}\n' > "$WORK/m150/tokenizer_config.json"
"$LEP" inspect "$WORK/m150" 2>/dev/null | head -3 || true
echo "threads: $THREADS, cores: $(nproc)"
start=$(date +%s.%N)
LEP_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS "$LEP" eval "$WORK/m150" --chat-format mistral --copy-items 7 --chat-prompts 3 -o "$WORK/report" > "$WORK/table.md"
end=$(date +%s.%N)
echo "wall time (incl. loading): $(echo "$end - $start" | bc) s"
