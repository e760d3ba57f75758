#!/bin/sh
# Live PyTorch comparison: export fresh op fixtures with a new seed, then replay them.
# Usage: run_live_golden.sh PYTHON EXPORT_SCRIPT OUT_DIR TEST_BINARY
set -eu
python="$1"; script="$2"; out="$3"; tests="$4"
seed=$(date +%s)
rm -rf "$out"
"$python" "$script" --out "$out" --seed "$seed"
LUCENT_GOLDEN_DIR="$out" "$tests" --gtest_filter='AllIsas/GoldenOps.*'
