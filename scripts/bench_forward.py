#!/usr/bin/env python3
"""Forward-pass benchmark: lep vs PyTorch/transformers, float32, same thread count, same run.

For each model: prefill throughput on a 512-token sequence and greedy decode throughput (32 new
tokens, KV cache), each program in its own process so peak RSS is its own (os.wait4). Also measures
the machine's single-precision GEMM peak through the same OpenBLAS library lep links (ctypes), and
reports the GFLOP/s lep's prefill achieves against it.

Models (made with `lep synth`, f32 or bf16 on disk; both programs compute in float32):
  small: --preset llama3-8b --hidden 1024 --layers 12 --vocab 32000 --dtype f32
  8b-2l: --preset llama3-8b --layers 2 (bf16, LLaMA-3-8B shapes, vocab 128256)
lep also runs the 8B-shaped model with --memory 0 (converted weights not kept: bounded memory).

Usage: make refenv && . ../refenv/bin/activate && python scripts/bench_forward.py [LEP_BINARY] [--threads N]
       (LEP_BINARY defaults to .build/release/lep; build with `swift build -c release --product lep`)
Not a test; the numbers go to the issue's closing note.
"""
import ctypes
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

PROMPT = 512
NEW = 32


def rss_and_run(cmd, env):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out, err = p.stdout.read(), p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out}\n{err}")
    return out, err, usage.ru_maxrss / 1024  # MB


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
    print(json.dumps({"load_s": load, "prefill_s": prefill, "decode_s": decode}))


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


def main():
    args = [a for a in sys.argv[1:]]
    if args and args[0] == "--torch-worker":
        return torch_worker(args[1], int(args[2]), args[3])
    threads = 2
    if "--threads" in args:
        i = args.index("--threads")
        threads = int(args[i + 1])
        del args[i:i + 2]
    lep = args[0] if args else ".build/release/lep"
    work = os.environ.get("BENCH_DIR", "bench-data/forward")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, LEP_THREADS=str(threads), LEP_QUIET="1", OMP_NUM_THREADS=str(threads))
    peak = sgemm_peak(threads)
    print(f"threads: {threads}; OpenBLAS sgemm peak (2048³): {peak:.1f} GFLOP/s")
    models = {
        "small": ["--preset", "llama3-8b", "--hidden", "1024", "--layers", "12", "--vocab", "32000", "--dtype", "f32"],
        "8b-2l": ["--preset", "llama3-8b", "--layers", "2"],
    }
    rng = np.random.default_rng(0)
    results = {}
    for name, synth in models.items():
        d = os.path.join(work, name)
        if not os.path.exists(os.path.join(d, "config.json")):
            rss_and_run([lep, "synth", *synth, "--force", d], env)
        cfg = json.load(open(os.path.join(d, "config.json")))
        ids = rng.integers(4, min(cfg["vocab_size"], 32000), size=PROMPT).tolist()
        ids_path = os.path.join(work, f"{name}.ids.json")
        json.dump(ids, open(ids_path, "w"))
        runs = {}
        variants = [("lep", [])] + ([("lep --memory 0", ["--memory", "0"])] if name == "8b-2l" else [])
        for label, extra in variants:
            cmd = [lep, "run", d, "--ids", ",".join(map(str, ids)), "--max-tokens", str(NEW), "--stats", *extra]
            t0 = time.perf_counter()
            _, err, rss = rss_and_run(cmd, env)
            wall = time.perf_counter() - t0
            pre = float(re.search(r"prefill: \d+ tokens in ([\d.]+) s", err).group(1))
            dec = float(re.search(r"decode: \d+ tokens in ([\d.]+) s", err).group(1))
            runs[label] = {"prefill_s": pre, "decode_s": dec, "rss_mb": rss, "wall_s": wall}
        out, _, rss = rss_and_run([sys.executable, __file__, "--torch-worker", d, str(threads), ids_path], env)
        t = json.loads(out.strip().splitlines()[-1])
        runs["torch"] = {"prefill_s": t["prefill_s"], "decode_s": t["decode_s"], "rss_mb": rss, "load_s": t["load_s"]}
        flops = prefill_flops(cfg, PROMPT)
        print(f"\n{name}: hidden {cfg['hidden_size']}, {cfg['num_hidden_layers']} layers, vocab {cfg['vocab_size']}, "
              f"prompt {PROMPT}, {NEW} new tokens, prefill {flops / 1e9:.0f} GFLOP")
        print(f"  {'program':<16}{'prefill tok/s':>14}{'GFLOP/s':>9}{'% peak':>8}{'decode tok/s':>14}{'peak RSS MB':>13}")
        for label, r in runs.items():
            gf = flops / r["prefill_s"] / 1e9
            print(f"  {label:<16}{PROMPT / r['prefill_s']:>14.1f}{gf:>9.1f}{100 * gf / peak:>7.0f}%"
                  f"{(NEW - 1) / r['decode_s']:>14.2f}{r['rss_mb']:>13.0f}")
        for label in [l for l in runs if l != "torch"]:
            print(f"  {label} / torch: prefill {runs['torch']['prefill_s'] / runs[label]['prefill_s']:.2f}x, "
                  f"decode {runs['torch']['decode_s'] / runs[label]['decode_s']:.2f}x")
        results[name] = runs
    json.dump({"threads": threads, "sgemm_peak_gflops": peak, "results": results},
              open(os.path.join(work, "results.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
