#!/usr/bin/env bash
# Fails when a source file outside the tests is longer than 600 lines.
# Test files (`tests/`, `*/tests.rs`, `*/tests/*.rs`), fixtures and the
# benchmarks' generated inputs are exempt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
limit=600
status=0
while IFS= read -r file; do
  lines=$(wc -l <"$file")
  if ((lines > limit)); then
    echo "check-file-sizes: $file has $lines lines (limit $limit): split it by job" >&2
    status=1
  fi
done < <(git ls-files '*.rs' | grep -Ev '(^|/)tests(/|\.rs$)|(^|/)fixtures/|^fuzz/corpus/')
((status == 0)) && echo "check-file-sizes: no source file over $limit lines"
exit $status
