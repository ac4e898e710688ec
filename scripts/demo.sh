#!/usr/bin/env bash
# `make demo`: the LEP paper's experiment in miniature on the committed toy models in
# fixtures/toy (trained by scripts/toy/make_toy.sh; see fixtures/toy/MANIFEST.json):
#   base      old byte-level BPE tokenizer (2048 ids), trained on English + Russian
#   instruct  base fine-tuned on a ChatML chat format (EN/RU copy, questions, continuation)
#   donor     base with a new Russian SentencePiece BPE vocabulary (lep vocab build + init),
#             only embed_tokens/lm_head trained on Russian text
# It propagates the donor's embeddings into the instruct model in swap, overlap and conversion modes,
# checks every model (lep verify), evaluates them side by side in one lep eval run (bits per byte,
# tokenizer efficiency, copy, multiple choice, chat-format compliance, and a paired bootstrap
# comparison of every model with the instruct model on the same items), writes
# demo-output/summary.json (lep eval --summary-json), prints a table in the style of the paper's Table 3 and
# checks the demo's goals (what the miniature experiment should show) on summary.json (reported in demo-output/goals.txt, not enforced).
# Usage: scripts/demo.sh [LEP_BINARY]   (DEMO_DIR sets the output folder, default demo-output;
#        COPY_ITEMS the copy items per language and kind, default 100; CHAT_PROMPTS per language, default 12)
set -euo pipefail
LEP=${1:-.build/release/lep}
TOY=${TOY_DIR:-fixtures/toy}
OUT=${DEMO_DIR:-demo-output}
command -v jq >/dev/null || { echo "demo.sh needs jq (make demo installs it)" >&2; exit 1; }
[ -x "$LEP" ] || { echo "no lep binary at $LEP (make build)" >&2; exit 1; }
COPY_ITEMS=${COPY_ITEMS:-100}
CHAT_PROMPTS=${CHAT_PROMPTS:-12}
rm -rf "$OUT"; mkdir -p "$OUT/verify"
export LEP_QUIET=1
run() { echo; echo "\$ lep $*"; "$LEP" "$@"; }
start=$(date +%s)

echo "== 1. LEP: propagate the donor's Russian embeddings into the instruct model"
for mode in swap overlap conversion; do
  run propagate --base "$TOY/base" --instruct "$TOY/instruct" --donor "$TOY/donor" --mode "$mode" -o "$OUT/lep-$mode"
done

MODELS=("$TOY/instruct" "$TOY/donor" "$OUT/lep-swap" "$OUT/lep-overlap" "$OUT/lep-conversion")
NAMES=(instruct donor lep-swap lep-overlap lep-conversion)

echo; echo "== 2. lep inspect + lep verify (weights finite, logits finite, bits per byte on the bundled text)"
for i in "${!MODELS[@]}"; do
  "$LEP" inspect "${MODELS[$i]}" > "$OUT/verify/${NAMES[$i]}.inspect.txt"
  if "$LEP" verify "${MODELS[$i]}" > "$OUT/verify/${NAMES[$i]}.txt"; then v=ok; else v=FAILED; fi
  printf '  %-15s verify %-6s %s\n' "${NAMES[$i]}" "$v" "$(grep '^likelihood:' "$OUT/verify/${NAMES[$i]}.txt" | sed 's/^likelihood: *//')"
  [ "$v" = ok ] || { cat "$OUT/verify/${NAMES[$i]}.txt"; exit 1; }
done

echo; echo "== 3. lep eval (the donor is a base model without a chat template: it skips the chat tasks)"
echo "\$ lep eval instruct donor lep-swap lep-overlap lep-conversion --copy-items $COPY_ITEMS --chat-prompts $CHAT_PROMPTS -o $OUT/eval --summary-json $OUT/summary.json"
eval_start=$(date +%s)
"$LEP" eval "${MODELS[@]}" --tasks likelihood,tokenizer,copy,mc_single,mc_continuation,chat_format \
  --copy-items "$COPY_ITEMS" --chat-prompts "$CHAT_PROMPTS" -o "$OUT/eval" --summary-json "$OUT/summary.json" > /dev/null
eval_seconds=$(( $(date +%s) - eval_start ))
S="$OUT/summary.json"

echo; echo "== 4. Table 3 in miniature"
# raw MODEL JQ-PATH -> the JSON value (null when not applicable)
raw() { jq -r --arg m "$1" ".models[\$m]$2" "$S"; }
num() { if [ "$1" = null ]; then echo n/a; else printf '%.3f' "$1"; fi; }
# f KEY MODEL -> the value with 3 decimals, or n/a
f() { num "$(raw "$2" "[\"$1\"]")"; }
# se KEY MODEL -> "value ± standard error" (means over items)
se() { local v; v=$(raw "$2" "[\"$1\"]"); if [ "$v" = null ]; then echo n/a; else echo "$(num "$v") ± $(num "$(raw "$2" "[\"$1_stderr\"]")")"; fi; }
# pair TASK/METRIC MODEL -> "difference [low, high] verdict" against the instruct model
pair() {
  local p; p=$(raw "$2" ".paired[\"$1\"] | if . == null then \"null\" else \"\(.mean_difference) \(.ci95_low) \(.ci95_high) \(.verdict)\" end")
  if [ "$p" = null ]; then echo "–"; return; fi
  read -r d lo hi verdict <<< "$p"
  printf '%+.3f [%.3f, %.3f] %s' "$d" "$lo" "$hi" "$verdict"
}
n_ru=$(jq -r '.models.instruct.n_copy_ru' "$S"); n_en=$(jq -r '.models.instruct.n_copy_en' "$S"); n_chat=$(jq -r '.models.instruct.n_chat_format' "$S")
{
  echo "| model | RU chars/token ↑ | RU bits/byte ↓ | EN bits/byte ↓ | copy RU copy99 ↑ | copy EN copy99 ↑ | copy RU len ↑ | copy EN len ↑ | MC RU acc ↑ | MC EN acc ↑ | chat format ↑ |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for n in "${NAMES[@]}"; do
    echo "| $n | $(f ru_chars_per_token "$n") | $(f ru_bits_per_byte "$n") | $(f en_bits_per_byte "$n") | $(se copy_ru_copy99 "$n") | $(se copy_en_copy99 "$n") | $(se copy_ru_len "$n") | $(se copy_en_len "$n") | $(se mc_ru_acc "$n") | $(se mc_en_acc "$n") | $(se chat_format "$n") |"
  done
  echo
  echo "Paired with the instruct model on the same items (difference, 95 % bootstrap interval, verdict):"
  echo
  echo "| model | copy RU copy99 | copy EN copy99 | chat format |"
  echo "|---|---|---|---|"
  for n in lep-swap lep-overlap lep-conversion; do
    echo "| $n | $(pair copy_ru/copy99 "$n") | $(pair copy_en/copy99 "$n") | $(pair chat_format/ends_turn "$n") |"
  done
  echo
  echo "RU chars/token: characters per token of the model's tokenizer on the bundled Russian text (the paper's \"symbols per token\")."
  echo "bits/byte: bundled RU/EN text (the only likelihood comparable across tokenizers). copy: DaruCopy-style through the chat"
  echo "template on items generated from the bundled copy texts ($n_ru RU, $n_en EN: sentences and 2-3-sentence paragraphs);"
  echo "copy99 = exact copy to 99 % of characters, len = min(P/S, S/P). ± is the standard error over items. MC: llmtf-style"
  echo "single-token items. chat format: fraction of $n_chat replies (copy / first word / continue, EN+RU) that end the turn"
  echo "within 64 tokens. n/a: the donor is a base model without a chat template. Full report: $OUT/eval/report.md."
} > "$OUT/table.md"
cat "$OUT/table.md"

echo; echo "== 5. The demo's goals, checked on summary.json (reported, not enforced)"
jq -r '
  .models as $m
  | def mark(ok): if ok then "met    " else "NOT met" end;
    def r(x): (x * 1000 | round) / 1000;
    ($m.instruct) as $i | ($m["lep-conversion"]) as $c
  | [ "\(mark(($i.copy_ru_copy99 // 0) >= 0.6 and ($i.copy_en_copy99 // 0) >= 0.6 and ($i.n_copy_ru // 0) >= 50 and ($i.n_copy_en // 0) >= 50))  instruct copy99 >= 0.6 in both languages on >= 50 items: RU \(r($i.copy_ru_copy99 // 0)) (n \($i.n_copy_ru)), EN \(r($i.copy_en_copy99 // 0)) (n \($i.n_copy_en))",
      "\(mark(($c.copy_ru_copy99 // 0) >= 0.8 * ($i.copy_ru_copy99 // 0) and ($i.copy_ru_copy99 // 0) > 0))  lep-conversion keeps >= 80 % of the instruct RU copy99: \(r($c.copy_ru_copy99 // 0)) vs \(r($i.copy_ru_copy99 // 0))",
      "\(mark(($c.ru_chars_per_token // 0) >= 1.3 * ($i.ru_chars_per_token // 1)))  RU chars/token rise >= 30 %: \(r($c.ru_chars_per_token // 0)) vs \(r($i.ru_chars_per_token // 0)) (+\(r(100 * (($c.ru_chars_per_token // 0) / ($i.ru_chars_per_token // 1) - 1))) %)",
      "\(mark(($i.chat_format // 0) >= 0.9 and ($c.chat_format // 0) >= 0.9))  chat format >= 0.9 for instruct and lep-conversion: \(r($i.chat_format // 0)), \(r($c.chat_format // 0)) (n \($i.n_chat_format))" ]
  | .[] | "  " + .' "$S" | tee "$OUT/goals.txt"
echo
echo "reports: $OUT/eval/report.{json,md,svg}; summary: $OUT/summary.json; table: $OUT/table.md; verify/inspect logs: $OUT/verify/"
echo "time: lep eval ${eval_seconds} s, demo $(( $(date +%s) - start )) s"
