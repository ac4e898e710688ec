#!/usr/bin/env bash
# Foundation benchmarks: lep convert vs cp, f32 conversion throughput, inspect latency,
# peak RSS of each, on a synthetic LLaMA-3-8B checkpoint. Not a test: numbers go to the closing note.
#
#   make bench                       # 8 layers (≈5.6 GB bf16)
#   LAYERS=32 make bench             # the whole 8B model (16 GB; needs ≈ 70 GB free disk)
#   BENCH_DIR=/mnt/fast make bench   # where the checkpoints go (default: bench-data/, git-ignored)
#
# Cold-cache runs drop the page cache (root only); otherwise only warm numbers are reported.
set -euo pipefail
LEP=${1:-.build/release/lep}
LAYERS=${LAYERS:-8}
DIR=${BENCH_DIR:-bench-data}
TIME=/usr/bin/time
command -v $TIME >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')"; exit 1; }
export LEP_QUIET=1

rm -rf "$DIR"; mkdir -p "$DIR"
can_drop=0
if [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/drop_caches ]; then can_drop=1; fi
drop() { sync; if [ $can_drop -eq 1 ]; then echo 3 > /proc/sys/vm/drop_caches; fi; }

# measure LABEL CMD... → prints "LABEL  wall_s  peak_rss_MB" and sets WALL, RSS_MB
measure() {
  local label=$1; shift
  $TIME -f "%e %M" -o "$DIR/.time" "$@" > "$DIR/.out" 2>&1 || { cat "$DIR/.out"; exit 1; }
  read -r WALL RSS_KB < "$DIR/.time"
  RSS_MB=$((RSS_KB / 1024))
  printf "%-44s %8.2f s   peak RSS %6d MB\n" "$label" "$WALL" "$RSS_MB"
}
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
size_of() { du -sb "$1" | cut -f1; }

echo "== lep foundation benchmark: llama3-8b preset, $LAYERS layers, $(nproc) cores, $(date -u +%F) =="
measure "lep synth (bf16)" "$LEP" synth --preset llama3-8b --layers "$LAYERS" "$DIR/src"
SRC_BYTES=$(size_of "$DIR/src")
echo "checkpoint: $(python3 -c "print(f'{$SRC_BYTES/1e9:.2f}')") GB in $(ls "$DIR/src" | grep -c safetensors) shards"

for cache in warm cold; do
  if [ $cache = cold ] && [ $can_drop -eq 0 ]; then echo "(cold cache skipped: not root)"; continue; fi
  echo "-- $cache page cache --"
  if [ $cache = warm ]; then cat "$DIR"/src/*.safetensors > /dev/null; else drop; fi
  measure "cp -r (no fsync)" cp -r "$DIR/src" "$DIR/cp"; CP=$WALL
  rm -rf "$DIR/cp"; if [ $cache = warm ]; then cat "$DIR"/src/*.safetensors > /dev/null; else drop; fi
  measure "cp -r && sync" sh -c "cp -r '$DIR/src' '$DIR/cp' && sync"; CPSYNC=$WALL
  rm -rf "$DIR/cp"; if [ $cache = warm ]; then cat "$DIR"/src/*.safetensors > /dev/null; else drop; fi
  measure "lep convert (re-shard 2GB, fsync)" "$LEP" convert "$DIR/src" "$DIR/conv" --shard-size 2GB; CONV=$WALL; CONV_RSS=$RSS_MB
  echo "   ratio lep convert / cp -r = $(ratio "$CONV" "$CP"),  / (cp -r && sync) = $(ratio "$CONV" "$CPSYNC")"
  rm -rf "$DIR/conv"; if [ $cache = warm ]; then cat "$DIR"/src/*.safetensors > /dev/null; else drop; fi
  measure "lep inspect (sharded dir)" "$LEP" inspect "$DIR/src"
  if [ $cache = warm ]; then cat "$DIR"/src/*.safetensors > /dev/null; else drop; fi
  measure "lep convert --dtype f32" "$LEP" convert "$DIR/src" "$DIR/f32" --dtype f32; F32=$WALL
  F32_BYTES=$(size_of "$DIR/f32")
  echo "   f32 written: $(python3 -c "print(f'{$F32_BYTES/1e9:.2f} GB at {$F32_BYTES/1e9/$F32:.2f} GB/s; cp rate {$SRC_BYTES/1e9/$CP:.2f} GB/s (no fsync), {$SRC_BYTES/1e9/$CPSYNC:.2f} GB/s (sync)')")"
  rm -rf "$DIR/f32"
  if [ $cache = warm ]; then cat "$DIR"/src/*.safetensors > /dev/null; else drop; fi
  measure "lep inspect --check-values" "$LEP" inspect "$DIR/src" --check-values
done
rm -rf "$DIR"
