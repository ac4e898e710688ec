#!/usr/bin/env bash
# Benchmark: `lep merge` with `tokenizer_source: union` on two large vocabularies.
# Two small synthetic models (1 layer, hidden 64) get byte-level-BPE-style tokenizer.json files of
# VOCAB tokens each (half of B's tokens are also in A, plus a few added special tokens), and a linear
# merge with `tokenizer_source: union` is timed end to end. The goal is seconds for 150k + 150k (the
# old code re-sorted the added tokens and rebuilt their matcher once per token: minutes to hours).
# Not a test: it prints the time, the union size and the load average. Usage:
#   scripts/bench_union.sh [LEP_BINARY] [WORKDIR]        (VOCAB=150000, BUDGET_S=30)
set -euo pipefail
LEP=${1:-.build/release/lep}
WORK=${2:-$(mktemp -d /tmp/lep-union-XXXX)}
VOCAB=${VOCAB:-150000}
BUDGET_S=${BUDGET_S:-30}
mkdir -p "$WORK"
for m in a b; do
  [ -f "$WORK/$m/model.safetensors" ] || [ -f "$WORK/$m/model.safetensors.index.json" ] ||
    "$LEP" synth --preset tiny-llama3 --layers 1 --hidden 64 --vocab "$VOCAB" --seed "$([ $m = a ] && echo 1 || echo 2)" --force "$WORK/$m" >/dev/null
done
python3 - "$WORK" "$VOCAB" <<'PY'
import json, random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
letters = "abcdefghijklmnopqrstuvwxyzабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
def words(count, seen):
    out = []
    while len(out) < count:
        w = ("Ġ" if rng.random() < 0.5 else "") + "".join(rng.choice(letters) for _ in range(rng.randint(2, 9)))
        if w not in seen:
            seen.add(w); out.append(w)
    return out
seen = set()
specials = 8
common = words((n - specials) // 2, seen)
vocab_a = common + words(n - specials - len(common), seen)
vocab_b = common + words(n - specials - len(common), seen)
rng.shuffle(vocab_b)
for name, vocab, extra in (("a", vocab_a, ["<|a%d|>" % i for i in range(specials)]), ("b", vocab_b, ["<|b%d|>" % i for i in range(specials)])):
    added = [{"id": len(vocab) + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(extra)]
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
           "post_processor": None, "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
           "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                     "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                     "vocab": {t: i for i, t in enumerate(vocab)}, "merges": []}}
    with open(f"{work}/{name}/tokenizer.json", "w") as f:
        json.dump(tok, f, ensure_ascii=False)
    with open(f"{work}/{name}/tokenizer_config.json", "w") as f:
        json.dump({"bos_token": extra[0], "eos_token": extra[1], "tokenizer_class": "PreTrainedTokenizerFast"}, f)
PY
cat > "$WORK/union.yml" <<YAML
merge_method: linear
models:
  - model: $WORK/a
    parameters: {weight: 0.5}
  - model: $WORK/b
    parameters: {weight: 0.5}
tokenizer_source: union
YAML
rm -rf "$WORK/out"
. "$(dirname "$0")/bench_lib.sh"
measure "$LEP" merge "$WORK/union.yml" -o "$WORK/out"
secs=$M_WALL
rows=$(python3 -c "import json; t = json.load(open('$WORK/out/tokenizer.json')); print(len(t['model']['vocab']) + len(t['added_tokens']))")
echo "union of two $VOCAB-token vocabularies: $rows output tokens, lep merge $secs s wall, $M_CPU s CPU, $M_RSS MB RSS, $M_ANON MB anon (budget $BUDGET_S s); load average $(load_average), $(nproc) CPUs (shared)"
bench_row "{\"row\": \"merge_union\", \"work\": \"tokenizer_source union, two $VOCAB-token vocabularies -> $rows\", \"lep\": {\"wall_s\": $secs, \"cpu_s\": $M_CPU, \"peak_rss_mb\": $M_RSS, \"peak_anon_mb\": $M_ANON}, \"ratios\": {\"budget_s\": $BUDGET_S, \"wall_over_budget\": $(python3 -c "print(round($secs / $BUDGET_S, 2))")}, \"load_average\": \"$(load_average)\"}"
python3 -c "import sys; sys.exit(0 if $secs <= $BUDGET_S else 1)" || { echo "over budget"; exit 1; }
echo "(workdir $WORK kept; remove it when done)"
