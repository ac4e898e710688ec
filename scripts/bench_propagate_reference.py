#!/usr/bin/env python3
"""Benchmark row `propagate-1b`: `lep propagate --mode conversion` against the authors' LEP code at
LLaMA-3.2-1B embedding shapes (h = 2048, a 128,256-token LLaMA-3 vocabulary replaced by the 32,000-token
ruadapt BPE vocabulary), both measured in the same run.

Inputs (built with lep once, kept in WORKDIR): base and instruct = `lep synth --preset llama3-8b --layers 1
--hidden 2048` (seeds 1 and 2) with the real LLaMA-3 tokenizer; donor = `lep vocab build --mode replace`
with the ruadapt BPE tokenizer, then `lep vocab init`. The folder name contains "llama", which the
reference code tests on its tokenizer path (▁ → space before re-encoding), as for a real LLaMA-3.

The peer is RefalMachine/ruadapt's `make_ushanka` (ruadapt/ushanka/src, run unchanged, taken from a
checkout or the bare mirror as scripts/fixtures/gen_lep_reference.py does), with mode conversion on both
modules, in its own process: the three models loaded with transformers in bf16, make_ushanka, then
save_pretrained of the model and tokenizer (lep's run writes its output too). Each side is timed with
/usr/bin/time (wall, CPU, peak RSS) after the inputs were read into the page cache.

Run in the reference environment (make refenv):
    RUADAPT=/path/to/ruadapt-checkout-or-bare-mirror ../refenv/bin/python scripts/bench_propagate_reference.py [LEP] [WORKDIR]
Without RUADAPT the peer is reported as skipped. With BENCH_RESULTS=FILE one JSON row is appended to FILE
(what `make bench` collects). Environment: LEP_THREADS (2), LEP_REALDATA (../shared/realdata).
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REALDATA = os.environ.get("LEP_REALDATA", os.path.join(ROOT, "..", "shared", "realdata"))
THREADS = os.environ.get("LEP_THREADS", "2")
BPE = "ruadapt/hf_tokenizers/darulm_20_05_24_part1-2_32000_bpe_hf"


def load_average():
    return open("/proc/loadavg").read().split()[0]


def measured(argv, env=None):
    """Runs argv under /usr/bin/time; returns wall s, CPU s, peak RSS MB (raises on failure)."""
    r = subprocess.run(["/usr/bin/time", "-f", "LEPTIME %e %U %S %M"] + argv, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{argv[0]} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    m = re.search(r"LEPTIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", r.stderr)
    wall, user, sys_, rss = float(m[1]), float(m[2]), float(m[3]), int(m[4])
    return {"wall_s": wall, "cpu_s": round(user + sys_, 2), "peak_rss_mb": rss // 1024, "load_average": load_average()}


def build_inputs(lep, w):
    env = dict(os.environ, LEP_QUIET="1")
    run = lambda *a: subprocess.run([lep, *a], check=True, env=env, stdout=subprocess.DEVNULL)
    for name, seed in (("base", "1"), ("instruct", "2")):
        d = os.path.join(w, name)
        if not os.path.isdir(d):
            run("synth", "--preset", "llama3-8b", "--layers", "1", "--hidden", "2048", "--seed", seed, d)
            for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
                shutil.copy(os.path.join(REALDATA, "llama3", f), d)
    if not os.path.isdir(os.path.join(w, "tok")):
        run("vocab", "build", "--mode", "replace", "--old", os.path.join(w, "base"), "--new", os.path.join(REALDATA, BPE), "-o", os.path.join(w, "tok"))
    if not os.path.isdir(os.path.join(w, "donor")):
        run("vocab", "init", "--model", os.path.join(w, "base"), "--tokenizer", os.path.join(w, "tok"), "-o", os.path.join(w, "donor"))


def warm(w):
    for name in ("base", "instruct", "donor"):
        d = os.path.join(w, name)
        for f in sorted(os.listdir(d)):
            if f.endswith(".safetensors"):
                with open(os.path.join(d, f), "rb") as fh:
                    while fh.read(1 << 24):
                        pass


def reference_child(ruadapt, w, out):
    """The peer's process: the authors' make_ushanka, conversion on both modules, then save."""
    spec = importlib.util.spec_from_file_location("gen_lep_reference", os.path.join(ROOT, "scripts", "fixtures", "gen_lep_reference.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    src_dir, _, _ = gen.reference_package(ruadapt)
    import torch
    import transformers

    torch.set_num_threads(int(THREADS))
    sys.path.insert(0, os.path.dirname(src_dir))
    ushanka = importlib.import_module(os.path.basename(src_dir) + ".ushanka")
    load = lambda p: transformers.AutoModelForCausalLM.from_pretrained(p, dtype=torch.bfloat16).eval()
    target, source, donor = load(w + "/instruct"), load(w + "/base"), load(w + "/donor")
    model_tok = transformers.AutoTokenizer.from_pretrained(w + "/instruct")
    donor_tok = transformers.AutoTokenizer.from_pretrained(w + "/donor")
    modes = {"lm_head": "conversion", "model.embed_tokens": "conversion"}
    model, tok = ushanka.make_ushanka(target, source, donor, model_tok, donor_tok, module_projection_modes=modes)
    model.save_pretrained(out)
    tok.save_pretrained(out)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--reference-child":
        reference_child(*sys.argv[2:5])
        return
    lep = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "lep")
    w = sys.argv[2] if len(sys.argv) > 2 else "/tmp/lep-bench-llama3-1b"
    if "llama" not in os.path.basename(os.path.normpath(w)):
        sys.exit(f"WORKDIR {w}: its name must contain 'llama' (the reference code tests the tokenizer path for it)")
    if not os.path.isdir(os.path.join(REALDATA, BPE)):
        sys.exit(f"needs {REALDATA}/{BPE} (set LEP_REALDATA)")
    os.makedirs(w, exist_ok=True)
    build_inputs(os.path.abspath(lep), w)

    out = os.path.join(w, "out-lep")
    shutil.rmtree(out, ignore_errors=True)
    warm(w)
    env = dict(os.environ, LEP_QUIET="1", LEP_THREADS=THREADS, OPENBLAS_NUM_THREADS=THREADS)
    ours = measured([lep, "propagate", "--base", w + "/base", "--instruct", w + "/instruct", "--donor", w + "/donor", "-o", out, "--mode", "conversion"], env)
    print(f"lep propagate conversion: {ours['wall_s']} s wall, {ours['cpu_s']} s CPU, {ours['peak_rss_mb']} MB (load {ours['load_average']})")

    ruadapt = os.environ.get("RUADAPT")
    row = {"row": "propagate-1b", "lep": ours, "peers": {}, "ratios": {}, "load_average": load_average()}
    if not ruadapt:
        row["peers"]["authors_code"] = {"skipped": "set RUADAPT to a checkout or bare mirror of RefalMachine/ruadapt"}
        print("the authors' code: skipped (set RUADAPT)")
    else:
        ref_out = os.path.join(w, "out-reference")
        shutil.rmtree(ref_out, ignore_errors=True)
        warm(w)
        penv = dict(os.environ, OMP_NUM_THREADS=THREADS, MKL_NUM_THREADS=THREADS)
        peer = measured([sys.executable, os.path.abspath(__file__), "--reference-child", ruadapt, w, ref_out], penv)
        shutil.rmtree(ref_out, ignore_errors=True)
        row["peers"]["authors_code"] = peer
        row["ratios"] = {"speed_vs_authors_code": round(peer["wall_s"] / ours["wall_s"], 2),
                         "rss_vs_authors_code": round(ours["peak_rss_mb"] / peer["peak_rss_mb"], 2)}
        print(f"the authors' code (make_ushanka + save_pretrained): {peer['wall_s']} s wall, {peer['cpu_s']} s CPU, {peer['peak_rss_mb']} MB (load {peer['load_average']})")
        print(f"lep is {row['ratios']['speed_vs_authors_code']}x faster with {row['ratios']['rss_vs_authors_code']}x the peak RSS")
    shutil.rmtree(out, ignore_errors=True)
    if os.environ.get("BENCH_RESULTS"):
        with open(os.environ["BENCH_RESULTS"], "a") as f:
            f.write(json.dumps(row) + "\n")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
