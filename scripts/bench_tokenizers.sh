#!/usr/bin/env bash
# Tokenizer benchmark: lep vs HF `tokenizers` (Python, one thread), same text, same run.
# Encodes all of ../shared/realdata/text/ru line by line (no special tokens) with the LLaMA-3
# tokenizer.json and with the LEP paper's Russian 32000 BPE and Unigram tokenizer.json; reports load
# time, encode throughput, peak RSS and the throughput ratio lep / HF (goal >= 1.0), by wall time and by
# the encoding thread's CPU time (cpu_ratio: what other processes on a busy machine inflate least; both
# encode on one thread). Best of 3 runs each.
# usage: scripts/bench_tokenizers.sh [path/to/release/lep]   (needs the reference environment: make refenv)
set -euo pipefail
cd "$(dirname "$0")/.."
LEP=${1:-.build/release/lep}
REAL=${LEP_REALDATA:-../shared/realdata}
PY=${PYTHON:-../refenv/bin/python}
[ -x "$LEP" ] || { echo "build first: swift build -c release --product lep (or pass the binary)"; exit 1; }
[ -d "$REAL" ] || { echo "needs $REAL"; exit 1; }
TEXT=$(mktemp /tmp/lep-bench-ru.XXXXXX.txt)
trap 'rm -f "$TEXT"' EXIT
cat "$REAL"/text/ru/*.txt > "$TEXT"
RU=$REAL/ruadapt/hf_tokenizers
[ -r /proc/loadavg ] && echo "load average (1, 5, 15 min) at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %8s %8s %9s %9s %8s %8s %7s %7s %9s\n' tokenizer tokens lep_load hf_load lep_MB/s hf_MB/s lep_RSS hf_RSS ratio cpu_ratio
for spec in "llama3:$REAL/llama3/tokenizer.json" "ruadapt-bpe-32000:$RU/darulm_20_05_24_part1-2_32000_bpe_hf/tokenizer.json" \
            "ruadapt-unigram-32000:$RU/darulm_20_05_24_part1-2_32000_unigram_hf/tokenizer.json"; do
  name=${spec%%:*}; tok=${spec#*:}
  best_lep=""; 
  for run in 1 2 3; do  # best of 3 for both sides
    l=$("$LEP" tokenize --tokenizer "$tok" --file "$TEXT" --benchmark)
    h=$(RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false "$PY" - "$tok" "$TEXT" <<'PY'
import json, resource, sys, time
from tokenizers import Tokenizer
tok_path, text_path = sys.argv[1], sys.argv[2]
text = open(text_path, encoding="utf-8").read()
t0 = time.perf_counter(); tok = Tokenizer.from_file(tok_path); t1 = time.perf_counter()
lines = text.split("\n")
t2 = time.perf_counter(); c2 = time.thread_time()
n = sum(len(tok.encode(l, add_special_tokens=False).ids) for l in lines)
t3 = time.perf_counter(); c3 = time.thread_time()
print(json.dumps({"load_s": t1 - t0, "encode_s": t3 - t2, "encode_cpu_s": c3 - c2, "tokens": n, "bytes": len(text.encode()),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
PY
)
    best_lep="$best_lep$l"$'\t'"$h"$'\n'
  done
  printf '%s' "$best_lep" | "$PY" -c '
import json, sys
rows = [tuple(json.loads(x) for x in line.split("\t")) for line in sys.stdin.read().splitlines() if line]
l = min((r[0] for r in rows), key=lambda d: d["encode_s"]); h = min((r[1] for r in rows), key=lambda d: d["encode_s"])
assert l["tokens"] == h["tokens"], ("token counts differ", l["tokens"], h["tokens"])
mb = l["bytes"] / 1e6
cpu_ratio = min(r[1]["encode_cpu_s"] for r in rows) / min(r[0]["encode_cpu_s"] for r in rows)
print("%-28s %8d %7.3fs %8.3fs %9.2f %8.2f %6.0fM %6.0fM %6.2fx %8.2fx" % (sys.argv[1], l["tokens"], min(r[0]["load_s"] for r in rows),
      min(r[1]["load_s"] for r in rows), mb / l["encode_s"], mb / h["encode_s"], l["peak_rss_mb"], h["peak_rss_mb"], h["encode_s"] / l["encode_s"], cpu_ratio))
' "$name"
done
