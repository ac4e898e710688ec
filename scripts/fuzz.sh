#!/bin/sh
# `make fuzz`: runs each libFuzzer target for FUZZ_SECONDS (default 300), one after the other, seeded
# from the committed fixtures. The targets must already be built with the fuzzer flags (the Makefile's
# `fuzz` target does it) into BIN (default .build/fuzz/release).
#
#   scripts/fuzz.sh [TARGET...]        TARGET: header json tokenizer recipe chat-template (gguf when present)
#
# New inputs that reach new code go to .build/fuzz-corpus/TARGET (kept between runs); a crash, hang
# (FUZZ_TIMEOUT seconds per input, default 10) or memory blow-up (FUZZ_RSS_MB, default 2048) stops the
# run and leaves the input in .build/fuzz-artifacts/: replay it with the normal build,
# `.build/debug/lep-fuzz-TARGET FILE`. The last lines of each run give executions and coverage.
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/fuzz/release}
SECONDS_EACH=${FUZZ_SECONDS:-300}
TIMEOUT=${FUZZ_TIMEOUT:-10}
RSS=${FUZZ_RSS_MB:-2048}
REALDATA=${LEP_REALDATA:-../shared/realdata}
TARGETS=${*:-"header json tokenizer recipe chat-template $( [ -d Sources/lep-fuzz-gguf ] && echo gguf )"}
SEEDS=.build/fuzz-seeds
rm -rf "$SEEDS"
mkdir -p .build/fuzz-artifacts

seed() { # seed TARGET FILE... : copy files into the target's seed folder
    t=$1; shift
    mkdir -p "$SEEDS/$t"
    for f in "$@"; do [ -f "$f" ] && cp "$f" "$SEEDS/$t/$(echo "$f" | tr '/' '_')"; done
    return 0
}

for t in $TARGETS; do
    case $t in
    header) seed header fixtures/safetensors/*.safetensors fixtures/safetensors/malformed/*.safetensors ;;
    json) seed json $(find fixtures recipes -name '*.json' -size -16k | sort) ;;
    tokenizer)
        # tokenizer bytes, NUL, text to encode
        mkdir -p "$SEEDS/tokenizer"
        for f in $(find fixtures -name tokenizer.json -size -64k | sort) fixtures/tokenizers/*.model fixtures/spm/*.model; do
            { cat "$f"; printf '\000'; printf 'Привет, мир! Hello world 1234 — ё 😀\n\t<s>x</s>'; } > "$SEEDS/tokenizer/$(echo "$f" | tr '/' '_')"
        done ;;
    recipe) seed recipe recipes/*.yml recipes/*.json recipes/lep/* fixtures/merge/recipes/*.yml ;;
    chat-template)
        seed chat-template fixtures/chat_templates/templates/* "$REALDATA"/chat_templates/*.jinja
        if command -v jq >/dev/null; then
            n=$(jq '.cases | length' fixtures/chat_templates/snippets.json)
            i=0
            while [ "$i" -lt "$n" ]; do
                jq -j ".cases[$i].template" fixtures/chat_templates/snippets.json > "$SEEDS/chat-template/snippet-$i"
                i=$((i + 1))
            done
        fi ;;
    gguf) seed gguf $(find fixtures/gguf -name '*.gguf' -size -256k 2>/dev/null | sort) ;;
    *) echo "unknown fuzz target '$t'"; exit 2 ;;
    esac
done

for t in $TARGETS; do
    case $t in
    tokenizer) max_len=65536 ;;
    header) max_len=4096 ;;
    gguf) max_len=262144 ;;
    *) max_len=16384 ;;
    esac
    mkdir -p ".build/fuzz-corpus/$t"
    echo "== lep-fuzz-$t: $SECONDS_EACH s, $(ls "$SEEDS/$t" | wc -l) seeds"
    "$BIN/lep-fuzz-$t" -max_total_time="$SECONDS_EACH" -max_len="$max_len" -timeout="$TIMEOUT" -rss_limit_mb="$RSS" \
        -print_final_stats=1 -artifact_prefix=".build/fuzz-artifacts/$t-" ".build/fuzz-corpus/$t" "$SEEDS/$t"
done
