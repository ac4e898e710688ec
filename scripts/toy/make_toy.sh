#!/usr/bin/env bash
# Rebuilds fixtures/toy/ (the LEP paper's experiment in miniature). Run once; the outputs are
# committed. Needs ../shared/realdata/text (training text, never copied), the Python env of
# scripts/toy/requirements.txt (default: ../refenv) and a lep binary for `vocab build` / `vocab init`:
#   swift build --scratch-path .build-toy --product lep && scripts/toy/make_toy.sh
# One CPU thread (torch.set_num_threads(1)); about 20 minutes on one core.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-../refenv}
# shellcheck disable=SC1091
[ -f "$VENV/bin/activate" ] && . "$VENV/bin/activate"
LEP=${LEP:-.build-toy/debug/lep}
W=.build-toy/toy-work
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0
start=$(date +%s)
mkdir -p "$W"
python3 scripts/toy/train_toy.py base
"$LEP" vocab build --mode replace --old fixtures/toy/base --new fixtures/toy/ru_spm/tokenizer.model -o "$W/newtok" --force
"$LEP" vocab init --model fixtures/toy/base --tokenizer "$W/newtok" -o "$W/donor-init" --shard-size 0 --force
python3 scripts/toy/train_toy.py donor "$W/donor-init"
end=$(date +%s)
python3 scripts/toy/train_toy.py manifest $((end - start))
du -sh fixtures/toy
