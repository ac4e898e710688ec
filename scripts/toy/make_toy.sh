#!/usr/bin/env bash
# Rebuilds fixtures/toy/ (the LEP paper's experiment in miniature). Run once; the outputs
# are committed. Needs ../shared/realdata/text (training text, never copied), the Python env of
# scripts/toy/requirements.txt (default: ../refenv, `make refenv`) and a lep binary for `vocab build` / `vocab init`:
#   swift build -c release --product lep && LEP=.build/release/lep scripts/toy/make_toy.sh
# Steps: tokenizers → base (induction curriculum, then pre-training with fresh recurring spans) → instruct (gentle chat fine-tune) →
# lep vocab build + lep vocab init → scripts/train_embeddings.py (the donor) → copy check → manifest.
# TOY_THREADS torch threads (default 2); TOY_INDUCTION_STEPS / TOY_BASE_STEPS / TOY_INST_STEPS / TOY_DONOR_STEPS
# override the step counts (defaults: 1300 / 2000 / 500 / 600, the committed fixtures); TOY_INST_LR,
# TOY_INST_PARAPHRASES and TOY_DONOR_NATURAL are experiment knobs (train_toy.py). Times: fixtures/toy/MANIFEST.json.
# scripts/toy/probe_copy.py MODEL_DIR... measures where a propagated model loses its copying.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-../refenv}
# shellcheck disable=SC1091
[ -f "$VENV/bin/activate" ] && . "$VENV/bin/activate"
LEP=${LEP:-.build/release/lep}
[ -x "$LEP" ] || { echo "no lep binary at $LEP (swift build -c release --product lep)" >&2; exit 1; }
export TOY_THREADS=${TOY_THREADS:-2}
W=${TOY_WORK:-.build-toy/toy-work}
export TOY_WORK=$W OMP_NUM_THREADS=$TOY_THREADS MKL_NUM_THREADS=$TOY_THREADS PYTHONHASHSEED=0
start=$(date +%s)
mkdir -p "$W"
python3 scripts/toy/train_toy.py tokenizers
python3 scripts/toy/train_toy.py base
python3 scripts/toy/train_toy.py instruct
"$LEP" vocab build --mode replace --old fixtures/toy/base --new fixtures/toy/ru_spm/tokenizer.model -o "$W/newtok" --force
"$LEP" vocab init --model fixtures/toy/base --tokenizer "$W/newtok" -o "$W/donor-init" --shard-size 0 --force
python3 scripts/toy/train_toy.py donor-text "$W/donor-ru.txt"
d0=$(date +%s)
# the user-facing donor trainer; only embed_tokens/lm_head change
python3 scripts/train_embeddings.py "$W/donor-init" --text "$W/donor-ru.txt" -o fixtures/toy/donor --force \
  --max-steps "${TOY_DONOR_STEPS:-600}" --seq-len 256 --batch 8 --lr 3e-3 --seed 20241235 --device cpu \
  --threads "$TOY_THREADS"
rm -f fixtures/toy/donor/lep_vocab_init.json
python3 scripts/toy/train_toy.py record-donor "$(( $(date +%s) - d0 ))"
python3 scripts/toy/train_toy.py check
end=$(date +%s)
python3 scripts/toy/train_toy.py manifest $((end - start))
du -sh fixtures/toy
