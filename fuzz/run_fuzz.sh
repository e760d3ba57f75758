#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, no threads) in build-fuzz and runs each for
# SECONDS, starting from the committed seed corpora (new inputs go to a scratch folder, never
# into the repository), then the converter's mutation loop for the same time.
#   bash fuzz/run_fuzz.sh SECONDS [TARGET...]       TARGET: lcw npy image args http converter
# Prints executions per target; exits non-zero on any finding (crash inputs are left in
# $LUCENT_FUZZ_OUT, default /tmp/lucent-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: run_fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(lcw npy image args http converter)
out=${LUCENT_FUZZ_OUT:-/tmp/lucent-fuzz}
mkdir -p "$out"

cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUCENT_FUZZ=ON -DLUCENT_SANITIZE=ON -DLUCENT_THREADS=OFF \
      -DLUCENT_BUILD_TESTS=OFF -DLUCENT_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null

status=0
for t in "${targets[@]}"; do
    if [ "$t" = converter ]; then
        /usr/bin/python3 fuzz/fuzz_converter.py "$seconds" --findings "$out/converter" || status=1
        continue
    fi
    work="$out/corpus-$t"
    mkdir -p "$work"
    log="$out/$t.log"
    if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
         "build-fuzz/fuzz/fuzz_$t" "$work" "fuzz/corpus/$t" -max_total_time="$seconds" \
         -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 -artifact_prefix="$out/$t-" \
         >"$log" 2>&1; then
        echo "fuzz_$t: FINDING (see $log)"
        grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5
        status=1
        continue
    fi
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1 | grep -oE 'cov: [0-9]+' || true)
    echo "fuzz_$t: $execs executions in ${seconds} s, ${cov:-cov: ?}, no findings"
done
exit $status
