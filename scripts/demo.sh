#!/usr/bin/env bash
# `make demo`: the LEP paper's experiment in miniature (issue 8) on the committed toy models in
# fixtures/toy (trained by scripts/toy/make_toy.sh; see fixtures/toy/MANIFEST.json):
#   base      old byte-level BPE tokenizer (2048 ids), trained on English + Russian
#   instruct  base fine-tuned on a ChatML chat format (EN/RU copy, questions, continuation)
#   donor     base with a new Russian SentencePiece BPE vocabulary (lep vocab build + init),
#             only embed_tokens/lm_head trained on Russian text
# It propagates the donor's embeddings into the instruct model in swap, overlap and conversion modes,
# checks every model (lep verify), evaluates them side by side (lep eval), measures chat-format
# compliance with lep run, and prints a table in the style of the paper's Table 3.
# Usage: scripts/demo.sh [LEP_BINARY]   (DEMO_DIR sets the output folder, default demo-output)
set -euo pipefail
LEP=${1:-.build/release/lep}
TOY=${TOY_DIR:-fixtures/toy}
OUT=${DEMO_DIR:-demo-output}
command -v jq >/dev/null || { echo "demo.sh needs jq (make demo installs it)" >&2; exit 1; }
[ -x "$LEP" ] || { echo "no lep binary at $LEP (make build)" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT/verify" "$OUT/chat"
export LEP_QUIET=1
run() { echo; echo "\$ lep $*"; "$LEP" "$@"; }
start=$(date +%s)

echo "== 1. LEP: propagate the donor's Russian embeddings into the instruct model"
for mode in swap overlap conversion; do
  run propagate --base "$TOY/base" --instruct "$TOY/instruct" --donor "$TOY/donor" --mode "$mode" -o "$OUT/lep-$mode"
done

MODELS=("$TOY/instruct" "$TOY/donor" "$OUT/lep-swap" "$OUT/lep-overlap" "$OUT/lep-conversion")
NAMES=(instruct donor lep-swap lep-overlap lep-conversion)
CHAT_MODELS=("$TOY/instruct" "$OUT/lep-swap" "$OUT/lep-overlap" "$OUT/lep-conversion")

echo; echo "== 2. lep inspect + lep verify (weights finite, logits finite, bits per byte on the bundled text)"
for i in "${!MODELS[@]}"; do
  "$LEP" inspect "${MODELS[$i]}" > "$OUT/verify/${NAMES[$i]}.inspect.txt"
  if "$LEP" verify "${MODELS[$i]}" > "$OUT/verify/${NAMES[$i]}.txt"; then v=ok; else v=FAILED; fi
  printf '  %-15s verify %-6s %s\n' "${NAMES[$i]}" "$v" "$(grep '^likelihood:' "$OUT/verify/${NAMES[$i]}.txt" | sed 's/^likelihood: *//')"
  [ "$v" = ok ] || { cat "$OUT/verify/${NAMES[$i]}.txt"; exit 1; }
done

echo; echo "== 3. lep eval"
echo "\$ lep eval instruct donor lep-swap lep-overlap lep-conversion --tasks likelihood,tokenizer,mc_continuation -o $OUT/eval-lm"
"$LEP" eval "${MODELS[@]}" --tasks likelihood,tokenizer,mc_continuation -o "$OUT/eval-lm" > /dev/null
echo "\$ lep eval instruct lep-swap lep-overlap lep-conversion --tasks copy,mc_single -o $OUT/eval-chat   (the donor is a base model: no chat template)"
"$LEP" eval "${CHAT_MODELS[@]}" --tasks copy,mc_single -o "$OUT/eval-chat" > /dev/null
jq -s '[.[].results[]]' "$OUT/eval-lm/report.json" "$OUT/eval-chat/report.json" > "$OUT/results.json"

echo; echo "== 4. chat-format compliance (lep run: does the reply end its turn with <|im_end|> within 64 tokens?)"
PROMPTS=(
  $'Repeat the following text exactly, without changing or adding anything:\n\nThe baker opened his shop at dawn.'
  $'What is the first word of this text?\n\nRain fell on the quiet village all night.'
  $'Continue this text:\n\nWhen the ship came into the harbour, the sailors'
  $'Повтори следующий текст в точности, ничего не меняя и ничего не добавляя:\n\nПекарь открыл лавку на рассвете.'
  $'Какое первое слово в этом тексте?\n\nДождь шёл над тихой деревней всю ночь.'
  $'Продолжи текст:\n\nКогда корабль вошёл в гавань, матросы'
)
declare -A COMPLY
for i in 0 2 3 4; do
  m=${MODELS[$i]}; n=${NAMES[$i]}
  end_id=$(jq '.added_tokens[] | select(.content == "<|im_end|>") | .id' "$m/tokenizer.json")
  ok=0; k=0
  for p in "${PROMPTS[@]}"; do
    k=$((k + 1))
    prompt=$'<|im_start|>user\n'"$p"$'<|im_end|>\n<|im_start|>assistant\n'
    reply=$("$LEP" run "$m" --prompt "$prompt" --max-tokens 64 --stats 2> "$OUT/chat/$n.$k.stats")
    printf '%s\n' "$reply" > "$OUT/chat/$n.$k.txt"
    if grep -q "stopped at eos id $end_id\$" "$OUT/chat/$n.$k.stats" && [ -n "${reply%<|im_end|>}" ]; then ok=$((ok + 1)); fi
  done
  COMPLY[$n]="$ok/${#PROMPTS[@]}"
  printf '  %-15s %s   e.g. RU copy reply: %s\n' "$n" "${COMPLY[$n]}" "$(head -c 120 "$OUT/chat/$n.4.txt" | tr '\n' ' ')"
done
COMPLY[donor]="n/a"

echo; echo "== 5. Table 3 in miniature"
val() { # model task metric -> value or n/a
  jq -r --arg m "$1" --arg t "$2" --arg k "$3" \
    '[.[] | select(.model == $m and .task == $t and .metric == $k) | .value] | if length == 0 then "n/a" else .[0] end' \
    "$OUT/results.json" | { read -r v; if [ "$v" = n/a ]; then echo n/a; else printf '%.3f' "$v"; fi; }
}
{
  echo "| model | RU chars/token ↑ | RU bits/byte ↓ | EN bits/byte ↓ | copy RU len ↑ | copy RU copy99 ↑ | copy EN len ↑ | copy EN copy99 ↑ | MC RU acc ↑ | MC EN acc ↑ | MC-cont RU acc ↑ | MC-cont EN acc ↑ | chat format ↑ |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for n in "${NAMES[@]}"; do
    echo "| $n | $(val "$n" tokenizer_ru chars_per_token) | $(val "$n" text_ru bits_per_byte) | $(val "$n" text_en bits_per_byte) | $(val "$n" copy_ru_sentence len) | $(val "$n" copy_ru_paragraph copy99) | $(val "$n" copy_en_sentence len) | $(val "$n" copy_en_paragraph copy99) | $(val "$n" mc_single_ru acc) | $(val "$n" mc_single_en acc) | $(val "$n" mc_cont_ru acc) | $(val "$n" mc_cont_en acc) | ${COMPLY[$n]} |"
  done
  echo
  echo "RU chars/token: characters per token of the model's tokenizer on the bundled Russian text (the paper's \"symbols per token\")."
  echo "bits/byte: bundled RU/EN text (the only likelihood comparable across tokenizers). copy: DaruCopy-style through the chat"
  echo "template, len = min(P/S, S/P) on 7 sentences, copy99 on 3 paragraphs. MC: 18 llmtf-style single-token items per language"
  echo "(14 with 4 choices, 4 yes/no: chance 0.31); MC-cont: 8 lm-eval-style items, 4 choices (chance 0.25). chat format: replies (of 6) that end the turn with <|im_end|> within"
  echo "64 tokens (lep run). n/a: the donor is a base model without a chat template; lep eval's chat tasks need one."
} > "$OUT/table.md"
cat "$OUT/table.md"
echo
echo "reports: $OUT/eval-lm/report.{json,md,svg} (all five models), $OUT/eval-chat/report.{json,md,svg} (chat tasks);"
echo "table: $OUT/table.md; verify/inspect logs: $OUT/verify/; chat replies: $OUT/chat/  ($(( $(date +%s) - start )) s)"
