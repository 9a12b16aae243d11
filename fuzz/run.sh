#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each for SECONDS (default 30). CI runs a short
# pass; for a real campaign give it hours and keep the corpus: fuzz/run.sh 3600
# Crashes are written to fuzz/artifacts/ and make this script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
scratch="${FUZZ_SCRATCH:-.build-fuzz}"

swift build --package-path Fuzz --scratch-path "$scratch" -c debug \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >/dev/null

mkdir -p fuzz/artifacts
status=0
for target in FuzzConfigFile FuzzS3XML FuzzObjectKey; do
    corpus="fuzz/corpus/$target"
    mkdir -p "$corpus"
    work=$(mktemp -d)
    cp -r "$corpus/." "$work/" 2>/dev/null || true
    echo "fuzz: $target for ${seconds}s"
    if ! "$scratch/debug/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="fuzz/artifacts/$target-" -print_final_stats=0 "$work" >"$work.log" 2>&1; then
        echo "fuzz: $target FAILED"; tail -40 "$work.log"; status=1
    else
        grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$work.log" | tail -1 || true
    fi
    rm -rf "$work" "$work.log"
done
[ "$status" -eq 0 ] && echo "fuzz: 3 targets, 0 crashes"
exit "$status"
