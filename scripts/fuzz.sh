#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS_PER_TARGET seconds (default 60),
# one after the other, then prints executions and corpus sizes.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# Works with the stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo-fuzz use
# the sanitizer flags). New inputs are added to fuzz/corpus/<target>/; run
# `cargo fuzz cmin <target>` before committing them. A crash leaves its
# input in fuzz/artifacts/<target>/ and stops the script with an error:
# turn it into a regression test (core/tests/fuzz_corpus.rs reads that
# directory too).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
targets=(revision_file target_grammar settings template split)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz..."
    cargo install cargo-fuzz
fi

export RUSTC_BOOTSTRAP=1
cd "$root/fuzz"
cargo fuzz build

summary=()
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    before=$(find "corpus/$target" -type f | wc -l)
    log="$(mktemp)"
    echo "== $target: ${seconds}s"
    status=0
    cargo fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096 >"$log" 2>&1 || status=$?
    grep -E '^(Done|==[0-9]+== ERROR|SUMMARY)|panicked' "$log" || true
    runs=$(grep -Eo '^Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' || echo "?")
    after=$(find "corpus/$target" -type f | wc -l)
    rm -f "$log"
    summary+=("$(printf '%-15s %8ss %12s executions  corpus %5d -> %5d files (%s)' \
        "$target" "$seconds" "$runs" "$before" "$after" "$(du -sh "corpus/$target" | cut -f1)")")
    if [ "$status" -ne 0 ]; then
        echo "$target FAILED (exit $status): see fuzz/artifacts/$target/" >&2
        printf '%s\n' "${summary[@]}"
        exit "$status"
    fi
done
echo
printf '%s\n' "${summary[@]}"
