#!/usr/bin/env bash
# Benchmark of `lep propagate --mode conversion` at LLaMA-3-8B embedding shapes:
# base and instruct = `lep synth --preset llama3-8b --layers 2` (V = 128256, h = 4096, seeds 1 and 2,
# LLaMA-3 tokenizer from ../shared/realdata), donor = `lep vocab init` of the base with the LLaMA-3
# tokenizer extended by the LEP paper's Russian BPE (`lep vocab build --mode extend`).
# Reports wall time and peak RSS of lep propagate, and, in the same run, numpy float64 lstsq on the same
# row pairs (read back from --save-fit) for embed_tokens: its time and the relative Frobenius
# difference of X. numpy solves for the first NRHS columns of B only (memory: A alone is n·h·8 bytes).
# Usage: scripts/bench_propagate.sh [WORKDIR]   (LEP_THREADS=2 by default; needs ~25 GB of disk)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
W="${1:-/tmp/lep-bench-propagate}"
RD="${LEP_REALDATA:-$ROOT/../shared/realdata}"
export LEP_THREADS="${LEP_THREADS:-2}" OPENBLAS_NUM_THREADS="${LEP_THREADS:-2}"
NRHS="${NRHS:-256}"
cd "$ROOT"
swift build -c release --scratch-path .build-bench --product lep >/dev/null
LEP="$ROOT/.build-bench/release/lep"
mkdir -p "$W"
tok() { cp "$RD/llama3/tokenizer.json" "$RD/llama3/tokenizer_config.json" "$RD/llama3/special_tokens_map.json" "$1/"; }
[ -d "$W/base" ] || { "$LEP" synth --preset llama3-8b --layers 2 --seed 1 "$W/base"; tok "$W/base"; }
[ -d "$W/instruct" ] || { "$LEP" synth --preset llama3-8b --layers 2 --seed 2 "$W/instruct"; tok "$W/instruct"; }
[ -d "$W/tok" ] || "$LEP" vocab build --mode extend --old "$W/base" --new "$RD/ruadapt/hf_tokenizers/"*bpe_hf -o "$W/tok"
[ -d "$W/donor" ] || /usr/bin/time -f "vocab init: wall %e s, peak RSS %M kB" "$LEP" vocab init --model "$W/base" --tokenizer "$W/tok" -o "$W/donor"
rm -rf "$W/out" "$W/fit.safetensors"
/usr/bin/time -f "propagate: wall %e s, peak RSS %M kB" "$LEP" propagate --base "$W/base" --instruct "$W/instruct" --donor "$W/donor" \
    -o "$W/out" --mode conversion --save-fit "$W/fit.safetensors" 2>&1 | grep -v '^\[propagate\]'
. "$ROOT/../refenv/bin/activate"
python3 - "$W" "$NRHS" <<'PY'
import json, os, sys, time
import numpy as np, torch
from safetensors import safe_open
from safetensors.numpy import load_file
w, nrhs = sys.argv[1], int(sys.argv[2])
name = "model.embed_tokens.weight"
def tensor(d):
    idx = f"{d}/model.safetensors.index.json"
    shard = json.load(open(idx))["weight_map"][name] if os.path.exists(idx) else "model.safetensors"
    with safe_open(f"{d}/{shard}", "pt") as f:
        return f.get_tensor(name).to(torch.float64).numpy()
fit = load_file(f"{w}/fit.safetensors")
off, ids, wt = fit["pairs.offsets"], fit["pairs.ids"], fit["pairs.weights"]
n = len(off) - 1
t0 = time.time()
# A = W·S, B = W·T with W the sparse (n × V_base) aggregation matrix of the row pairs
rows = np.repeat(np.arange(n), np.diff(off))
S = tensor(f"{w}/base"); h = S.shape[1]
A = np.zeros((n, h)); np.add.at(A, rows, S[ids] * wt[:, None]); del S
T = tensor(f"{w}/instruct")[:, :nrhs]
B = np.zeros((n, nrhs)); np.add.at(B, rows, T[ids] * wt[:, None]); del T
t1 = time.time()
X = np.linalg.lstsq(A, B, rcond=None)[0]
t2 = time.time()
Xl = fit["x." + name][:, :nrhs]
err = np.linalg.norm(Xl - X) / np.linalg.norm(X)
res = np.linalg.norm(A @ X - B) / np.linalg.norm(B)
print(f"numpy {np.__version__}: A [{n}, {h}] built in {t1 - t0:.1f} s; lstsq (float64, gelsd, {nrhs} of {h} columns of B) {t2 - t1:.1f} s")
print(f"X (lep, {h} columns) vs numpy on those columns: relative Frobenius difference {err:.3e}; numpy relative residual {res:.6f}")
PY
