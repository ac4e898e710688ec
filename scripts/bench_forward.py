#!/usr/bin/env python3
"""Forward-pass benchmark: lep vs PyTorch/transformers, float32, same thread count, same run.

For each model: prefill throughput on a 512-token prompt and greedy decode throughput (64 new
tokens, KV cache). Each program runs in its own process (peak RSS is its own, os.wait4), and the
two alternate for ROUNDS rounds (lep, torch, lep, torch, ...) so that other load on a shared
machine hits both alike; the median of each is reported, with the load average. Also measures the
machine's single-precision GEMM peak through the same OpenBLAS library lep links (ctypes), and the
GFLOP/s lep's prefill achieves against it.

Models (both programs compute in float32):
  smollm-135m: SmolLM-135M's shapes (LLaMA, hidden 576, 30 layers, 9 heads / 3 KV heads, MLP 1536,
               vocab 49152, tied embeddings, bf16), random weights made by transformers (seed 0)
  small: lep synth --preset llama3-8b --hidden 1024 --layers 12 --vocab 32000 --dtype f32
  8b-2l: lep synth --preset llama3-8b --layers 2 (bf16, LLaMA-3-8B shapes, vocab 128256)
lep also runs the 8B-shaped model with --memory 0 (converted weights not kept: bounded memory).

Environment: FORWARD_MODELS (default "smollm-135m small 8b-2l"), ROUNDS (3), LEP_BASELINE (a second lep
binary measured in the same rounds, e.g. an earlier build, for before/after ratios), BENCH_DIR (model
folder, default bench-data/forward), BENCH_RESULTS (when set, one JSON row per model is appended:
what `make bench` tabulates).

Usage: make refenv && . ../refenv/bin/activate && python scripts/bench_forward.py [LEP_BINARY] [--threads N]
       (LEP_BINARY defaults to .build/release/lep; build with `swift build -c release --product lep`)
Not a test; the numbers go to the issue's closing note.
"""
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PROMPT = 512
NEW = 64


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_measured(cmd, env):
    """Runs cmd; returns stdout, stderr, wall s, rusage (wait4) and peak anonymous MB (RssAnon, sampled)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, text=True)
        peak_anon = 0
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            try:
                with open(f"/proc/{p.pid}/status") as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            peak_anon = max(peak_anon, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        o, e = out.read(), err.read()
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{o}\n{e}")
    return o, e, wall, usage, peak_anon / 1024


def torch_worker(model_dir, threads, ids_path):
    import torch
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(threads)
    ids = torch.tensor([json.load(open(ids_path))])
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa").eval()
    load = time.perf_counter() - t0
    with torch.inference_mode():
        t0 = time.perf_counter()
        out = model(ids, use_cache=True, logits_to_keep=1)  # lep also projects only the last row
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        prefill = time.perf_counter() - t0
        past = out.past_key_values
        t0 = time.perf_counter()
        for _ in range(NEW - 1):
            out = model(nxt, past_key_values=past, use_cache=True)
            past = out.past_key_values
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        decode = time.perf_counter() - t0
    print(json.dumps({"load_s": load, "prefill_s": prefill, "decode_s": decode, "decode_tokens": NEW - 1}))


def make_smollm(directory):
    """A random checkpoint with SmolLM-135M's configuration (HuggingFaceTB/SmolLM-135M), bf16."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
        num_attention_heads=9, num_key_value_heads=3, head_dim=64, rms_norm_eps=1e-5,
        max_position_embeddings=2048, tie_word_embeddings=True, bos_token_id=0, eos_token_id=0,
        initializer_range=0.02, rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
    )
    model = LlamaForCausalLM(config).to(torch.bfloat16).eval()
    model.save_pretrained(directory)


def sgemm_peak(threads, n=2048, reps=5):
    """GFLOP/s of cblas_sgemm (n×n×n) in the system OpenBLAS, with `threads` threads."""
    lib = None
    for name in ["libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"]:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            pass
    if lib is None:
        return float("nan")
    lib.openblas_set_num_threads(threads)
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    c = np.zeros((n, n), dtype=np.float32)
    fp = ctypes.POINTER(ctypes.c_float)
    args = [101, 111, 111, n, n, n, ctypes.c_float(1.0), a.ctypes.data_as(fp), n, b.ctypes.data_as(fp), n,
            ctypes.c_float(0.0), c.ctypes.data_as(fp), n]
    lib.cblas_sgemm(*args)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        lib.cblas_sgemm(*args)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def prefill_flops(cfg, T):
    h, L, V = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    d = cfg.get("head_dim") or h // cfg["num_attention_heads"]
    nH, nKV, I = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"]
    linear = L * (h * nH * d + 2 * h * nKV * d + nH * d * h + 3 * h * I)
    attention = L * nH * 2 * T * T * d  # causal: half of the T×T scores and of A·V (2·T²·d each)
    return 2 * T * linear + attention + 2 * V * h  # logits of the last position only


def run_lep(lep, d, ids, extra, env, binary=None):
    cmd = [binary or lep, "run", d, "--ids", ",".join(map(str, ids)), "--max-tokens", str(NEW), "--stats", *extra]
    _, err, wall, usage, anon = run_measured(cmd, env)
    pre = float(re.search(r"prefill: \d+ tokens in ([\d.]+) s", err).group(1))
    m = re.search(r"decode: (\d+) tokens in ([\d.]+) s", err)
    return {"prefill_s": pre, "decode_s": float(m.group(2)), "decode_tokens": int(m.group(1)), "wall_s": wall,
            "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024, "peak_anon_mb": anon}


def run_torch(d, threads, ids_path, env):
    out, _, wall, usage, anon = run_measured([sys.executable, __file__, "--torch-worker", d, str(threads), ids_path], env)
    t = json.loads(out.strip().splitlines()[-1])
    t.update({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
              "peak_anon_mb": anon})
    return t


def median_run(runs):
    """Per-field medians of several runs of one program (memory in whole MB)."""
    m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    for k in ("peak_rss_mb", "peak_anon_mb"):
        m[k] = int(m[k])
    return m


def rates(r):
    return PROMPT / r["prefill_s"], r["decode_tokens"] / r["decode_s"]


def main():
    args = [a for a in sys.argv[1:]]
    if args and args[0] == "--torch-worker":
        return torch_worker(args[1], int(args[2]), args[3])
    if args and args[0] == "--make-smollm":
        return make_smollm(args[1])
    threads = 2
    if "--threads" in args:
        i = args.index("--threads")
        threads = int(args[i + 1])
        del args[i:i + 2]
    lep = args[0] if args else ".build/release/lep"
    work = os.environ.get("BENCH_DIR", "bench-data/forward")
    rounds = int(os.environ.get("ROUNDS", "3"))
    names = os.environ.get("FORWARD_MODELS", "smollm-135m small 8b-2l").split()
    results_file = os.environ.get("BENCH_RESULTS")
    baseline = os.environ.get("LEP_BASELINE")  # another lep binary, e.g. an earlier build, measured alongside
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, LEP_THREADS=str(threads), LEP_QUIET="1", OMP_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1")
    peak = sgemm_peak(threads)
    print(f"threads: {threads}; OpenBLAS sgemm peak (2048³): {peak:.1f} GFLOP/s; {rounds} alternating rounds, medians")
    synth = {
        "small": ["--preset", "llama3-8b", "--hidden", "1024", "--layers", "12", "--vocab", "32000", "--dtype", "f32"],
        "8b-2l": ["--preset", "llama3-8b", "--layers", "2"],
    }
    rng = np.random.default_rng(0)
    results = {}
    for name in names:
        d = os.path.join(work, name)
        if not os.path.exists(os.path.join(d, "config.json")):
            if name == "smollm-135m":
                run_measured([sys.executable, __file__, "--make-smollm", d], env)
            elif name in synth:
                run_measured([lep, "synth", *synth[name], "--force", d], env)
            else:
                sys.exit(f"unknown model {name} (smollm-135m, small, 8b-2l)")
        cfg = json.load(open(os.path.join(d, "config.json")))
        ids = rng.integers(4, min(cfg["vocab_size"], 32000), size=PROMPT).tolist()
        ids_path = os.path.join(work, f"{name}.ids.json")
        json.dump(ids, open(ids_path, "w"))
        variants = [("lep", [])] + ([("lep --memory 0", ["--memory", "0"])] if name == "8b-2l" else [])
        if baseline:
            variants.append(("lep baseline", []))
        samples = {label: [] for label, _ in variants}
        samples["torch"] = []
        loads = [load_average()]
        for _ in range(rounds):
            for label, extra in variants:
                samples[label].append(run_lep(lep, d, ids, extra, env, baseline if label == "lep baseline" else None))
            samples["torch"].append(run_torch(d, threads, ids_path, env))
            loads.append(load_average())
        runs = {label: median_run(s) for label, s in samples.items()}
        flops = prefill_flops(cfg, PROMPT)
        print(f"\n{name}: hidden {cfg['hidden_size']}, {cfg['num_hidden_layers']} layers, heads "
              f"{cfg['num_attention_heads']}/{cfg['num_key_value_heads']}, vocab {cfg['vocab_size']}, prompt {PROMPT}, "
              f"{NEW} new tokens, prefill {flops / 1e9:.0f} GFLOP; load average {' -> '.join(loads)}")
        print(f"  {'program':<16}{'prefill tok/s':>14}{'GFLOP/s':>9}{'% peak':>8}{'decode tok/s':>14}{'peak RSS MB':>13}"
              f"{'anon MB':>9}")
        for label, r in runs.items():
            gf = flops / r["prefill_s"] / 1e9
            pre, dec = rates(r)
            print(f"  {label:<16}{pre:>14.1f}{gf:>9.1f}{100 * gf / peak:>7.0f}%{dec:>14.2f}{r['peak_rss_mb']:>13.0f}"
                  f"{r['peak_anon_mb']:>9.0f}")
        tp, td = rates(runs["torch"])
        for label, _ in variants:
            lp, ld = rates(runs[label])
            per_round = [f"{rates(l)[0] / rates(t)[0]:.2f}/{rates(l)[1] / rates(t)[1]:.2f}"
                         for l, t in zip(samples[label], samples["torch"])]
            print(f"  {label} / torch: prefill {lp / tp:.2f}x, decode {ld / td:.2f}x "
                  f"(per round prefill/decode: {', '.join(per_round)})")
            if results_file and label != "lep baseline":
                row = {"row": f"forward_{name}" + ("_memory0" if extra_label(label) else ""),
                       "work": f"{name}: prefill {PROMPT} + decode {NEW}, float32, {threads} threads, {rounds} rounds",
                       "lep": {**runs[label], "prefill_tok_s": round(lp, 1), "decode_tok_s": round(ld, 2)},
                       "peers": {"torch": {**runs["torch"], "prefill_tok_s": round(tp, 1), "decode_tok_s": round(td, 2)}},
                       "ratios": {"prefill_vs_torch": round(lp / tp, 2), "decode_vs_torch": round(ld / td, 2)},
                       "load_average": " -> ".join(loads)}
                with open(results_file, "a") as f:
                    f.write(json.dumps(row) + "\n")
        results[name] = {"runs": runs, "samples": samples, "load_average": loads}
    json.dump({"threads": threads, "sgemm_peak_gflops": peak, "results": results},
              open(os.path.join(work, "results.json"), "w"), indent=2)


def extra_label(label):
    return "--memory 0" in label


if __name__ == "__main__":
    main()
