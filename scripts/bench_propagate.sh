#!/usr/bin/env bash
# Benchmark of `lep propagate --mode conversion` at LLaMA-3-8B embedding shapes:
# base and instruct = `lep synth --preset llama3-8b --layers 2` (V = 128256, h = 4096, seeds 1 and 2,
# LLaMA-3 tokenizer from ../shared/realdata), donor = `lep vocab init` of the base with the LLaMA-3
# tokenizer extended by the LEP paper's Russian BPE (`lep vocab build --mode extend`).
# In one run: lep propagate with the default --fit-precision mixed, the same with --fit-precision float64
# (the earlier path), wall / CPU time, peak RSS and peak anonymous memory of each (scripts/bench_lib.sh),
# how many output elements of the two differ by more than one bf16 step, and the peer: numpy float64
# lstsq on the same row pairs (read back from --save-fit) for embed_tokens, its time and the relative
# Frobenius difference of X. numpy solves for the first NRHS columns of B only (memory: A alone is
# n·h·8 bytes). With BENCH_RESULTS=FILE one JSON row is appended to FILE (what `make bench` collects).
# Usage: scripts/bench_propagate.sh [LEP_BINARY] [WORKDIR]   (needs ~25 GB of disk)
# Environment: LEP_THREADS (2), NRHS (256), REFENV (../refenv, `make refenv`), SKIP_FLOAT64=1,
# SKIP_NUMPY=1, LEP_REALDATA (../shared/realdata).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LEP="${1:-${LEP:-}}"
W="${2:-/tmp/lep-bench-propagate}"
RD="${LEP_REALDATA:-$ROOT/../shared/realdata}"
export LEP_THREADS="${LEP_THREADS:-2}" OPENBLAS_NUM_THREADS="${LEP_THREADS:-2}" LEP_QUIET=1
NRHS="${NRHS:-256}"
REFENV="${REFENV:-$ROOT/../refenv}"
cd "$ROOT"
if [ -z "$LEP" ]; then
  swift build -c release --scratch-path .build-bench --product lep >/dev/null
  LEP="$ROOT/.build-bench/release/lep"
fi
LEP="$(cd "$(dirname "$LEP")" && pwd)/$(basename "$LEP")"
. "$ROOT/scripts/bench_lib.sh"
mkdir -p "$W"
tok() { cp "$RD/llama3/tokenizer.json" "$RD/llama3/tokenizer_config.json" "$RD/llama3/special_tokens_map.json" "$1/"; }
[ -d "$W/base" ] || { "$LEP" synth --preset llama3-8b --layers 2 --seed 1 "$W/base" >/dev/null; tok "$W/base"; }
[ -d "$W/instruct" ] || { "$LEP" synth --preset llama3-8b --layers 2 --seed 2 "$W/instruct" >/dev/null; tok "$W/instruct"; }
[ -d "$W/tok" ] || "$LEP" vocab build --mode extend --old "$W/base" --new "$RD/ruadapt/hf_tokenizers/"*bpe_hf -o "$W/tok" >/dev/null
[ -d "$W/donor" ] || "$LEP" vocab init --model "$W/base" --tokenizer "$W/tok" -o "$W/donor" >/dev/null

run_lep() {  # OUT EXTRA...: one propagate run, measured; sets L_* and keeps its JSON report in OUT.json
  local out=$1; shift
  rm -rf "$out"
  # Inputs in the page cache for every run.
  cat "$W"/base/*.safetensors "$W"/instruct/*.safetensors "$W"/donor/*.safetensors >/dev/null
  BENCH_LOG="$out.log" measure "$LEP" propagate --base "$W/base" --instruct "$W/instruct" --donor "$W/donor" -o "$out" --mode conversion --json "$@"
  L_WALL=$M_WALL L_CPU=$M_CPU L_RSS=$M_RSS L_ANON=$M_ANON L_LOAD=$(load_average)
  cp "$out/lep_propagation.json" "$out.json"
}

rm -f "$W/fit.safetensors"  # the fit file is not replaced: a rerun starts without it
run_lep "$W/out-mixed" --save-fit "$W/fit.safetensors"
mixed="{\"wall_s\": $L_WALL, \"cpu_s\": $L_CPU, \"peak_rss_mb\": $L_RSS, \"peak_anon_mb\": $L_ANON, \"load_average\": \"$L_LOAD\"}"
echo "lep propagate (--fit-precision mixed): $L_WALL s wall, $L_CPU s CPU, $L_RSS MB RSS, $L_ANON MB anon (load $L_LOAD)"
if [ "${SKIP_FLOAT64:-0}" = 1 ]; then
  f64='{"skipped": "SKIP_FLOAT64=1"}'
else
  run_lep "$W/out-float64" --fit-precision float64
  f64="{\"wall_s\": $L_WALL, \"cpu_s\": $L_CPU, \"peak_rss_mb\": $L_RSS, \"peak_anon_mb\": $L_ANON, \"load_average\": \"$L_LOAD\"}"
  echo "lep propagate (--fit-precision float64): $L_WALL s wall, $L_CPU s CPU, $L_RSS MB RSS, $L_ANON MB anon (load $L_LOAD)"
fi

have_py=0; [ -f "$REFENV/bin/activate" ] && have_py=1
if [ $have_py = 1 ]; then . "$REFENV/bin/activate"; fi
row=$(python3 - "$W" "$NRHS" "$mixed" "$f64" "${SKIP_NUMPY:-0}" "$have_py" <<'PY'
import json, os, sys, time
w, nrhs, mixed, f64, skip_numpy, have_py = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5] == "1", sys.argv[6] == "1"
rep = json.load(open(f"{w}/out-mixed.json"))
fits = {m["tensor"]: {k: m.get(k) for k in ("seconds", "fit_precision", "mixed_precision_predicted_off_fraction", "float64_refit_reason", "relative_residual")} for m in rep["modules"]}
lep = dict(mixed); lep["fits"] = fits
peers, ratios, accuracy = {}, {}, {}
if "wall_s" in f64:
    f64["fits"] = {m["tensor"]: {"seconds": m["seconds"]} for m in json.load(open(f"{w}/out-float64.json"))["modules"]}
    ratios["float64_over_mixed"] = round(f64["wall_s"] / lep["wall_s"], 2)
peers["lep_float64"] = f64
ratios["goal_150_s_over_lep"] = round(150 / lep["wall_s"], 2)
if not have_py:
    peers["numpy_lstsq"] = {"skipped": "reference environment (numpy) not found"}
else:
    import numpy as np
    from safetensors import safe_open
    def tensor(d, name, dtype="pt"):
        idx = f"{d}/model.safetensors.index.json"
        shard = json.load(open(idx))["weight_map"][name] if os.path.exists(idx) else "model.safetensors"
        import torch
        with safe_open(f"{d}/{shard}", "pt") as f:
            return f.get_tensor(name)
    if "wall_s" in f64:
        import torch
        for name in fits:
            ta, tb = tensor(f"{w}/out-mixed", name).view(torch.int16), tensor(f"{w}/out-float64", name).view(torch.int16)
            total = off = same = 0
            for lo in range(0, ta.shape[0], 8192):  # row chunks: bounded memory
                a = ta[lo:lo + 8192].numpy().astype(np.int32); b = tb[lo:lo + 8192].numpy().astype(np.int32)
                # bf16 steps between the two: ordered bit patterns (sign-magnitude → integers)
                d = np.abs(np.where(a < 0, -(a & 0x7fff), a) - np.where(b < 0, -(b & 0x7fff), b))
                total += d.size; off += int((d > 1).sum()); same += int((d == 0).sum())
            accuracy[name] = {"elements": total, "more_than_one_step": off, "fraction_within_one_step": 1 - off / total, "identical": same / total}
            del ta, tb
    if skip_numpy:
        peers["numpy_lstsq"] = {"skipped": "SKIP_NUMPY=1"}
    else:
        import torch
        from safetensors.numpy import load_file
        name = "model.embed_tokens.weight"
        fit = load_file(f"{w}/fit.safetensors")
        off, ids, wt = fit["pairs.offsets"], fit["pairs.ids"], fit["pairs.weights"]
        n = len(off) - 1
        t0 = time.time()
        # A = W·S, B = W·T with W the sparse (n × V_base) aggregation matrix of the row pairs
        rows = np.repeat(np.arange(n), np.diff(off))
        S = tensor(f"{w}/base", name).to(torch.float64).numpy(); h = S.shape[1]
        A = np.zeros((n, h)); np.add.at(A, rows, S[ids] * wt[:, None]); del S
        T = tensor(f"{w}/instruct", name).to(torch.float64).numpy()[:, :nrhs]
        B = np.zeros((n, nrhs)); np.add.at(B, rows, T[ids] * wt[:, None]); del T
        t1 = time.time()
        X = np.linalg.lstsq(A, B, rcond=None)[0]
        t2 = time.time()
        Xl = fit["x." + name][:, :nrhs]
        peers["numpy_lstsq"] = {"version": np.__version__, "build_a_s": round(t1 - t0, 1), "lstsq_s": round(t2 - t1, 1),
                                "what": f"float64 gelsd on A [{n}, {h}] for {nrhs} of {h} columns of B (embed_tokens only)",
                                "x_relative_frobenius_difference": float(np.linalg.norm(Xl - X) / np.linalg.norm(X))}
load = mixed["load_average"]
print(json.dumps({"row": "propagate", "work": "propagate conversion, LLaMA-3-8B embedding shapes (lep synth, both modules)",
                  "lep": lep, "peers": peers, "ratios": ratios, "accuracy_mixed_vs_float64": accuracy, "load_average": load}))
PY
)
bench_row "$row"
python3 - "$row" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); l = r["lep"]; f = r["peers"]["lep_float64"]; q = r["ratios"]
fits = ", ".join(f"{k.split('.')[-2]} {v['seconds']:.1f} s {v['fit_precision']}" for k, v in l["fits"].items())
print(f"propagate mixed  {l['wall_s']:7.1f} s wall {l['cpu_s']:7.1f} s CPU {l['peak_rss_mb']:6d} MB RSS {l['peak_anon_mb']:6d} MB anon (fits: {fits}; load {l['load_average']})")
if "wall_s" in f:
    ff = ", ".join(f"{k.split('.')[-2]} {v['seconds']:.1f} s" for k, v in f["fits"].items())
    print(f"propagate float64 {f['wall_s']:6.1f} s wall {f['cpu_s']:7.1f} s CPU {f['peak_rss_mb']:6d} MB RSS {f['peak_anon_mb']:6d} MB anon (fits: {ff}; load {f['load_average']}) | float64 / mixed {q['float64_over_mixed']}x")
for name, a in r.get("accuracy_mixed_vs_float64", {}).items():
    print(f"  {name}: {a['more_than_one_step']} of {a['elements']} elements more than one bf16 step from float64 ({100 * a['fraction_within_one_step']:.5f} % within one step, {100 * a['identical']:.3f} % identical)")
n = r["peers"].get("numpy_lstsq", {})
if "lstsq_s" in n:
    print(f"  numpy {n['version']} lstsq {n['lstsq_s']} s ({n['what']}; A built in {n['build_a_s']} s); X difference {n['x_relative_frobenius_difference']:.3e}")
else:
    print(f"  numpy lstsq skipped: {n.get('skipped')}")
print(f"  goal 150 s: {'met' if l['wall_s'] <= 150 else 'not met'} ({q['goal_150_s_over_lep']}x)")
PY
