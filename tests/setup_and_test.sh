#!/usr/bin/env bash
# One command, on a fresh Debian 12 machine, from the repository root:
#   bash tests/setup_and_test.sh
# installs what Lucent needs from Debian's packages, builds with warnings as errors, runs the
# whole suite under the default ISA, LUCENT_MAX_ISA=avx2 and LUCENT_MAX_ISA=scalar, checks
# that no ISA translation unit exports weak or inline symbols, installs to a temporary prefix
# and builds the examples against it (tests/check_install.sh), installs the Python package
# into a venv and runs its tests (tests/python_pkg, pytest), checks formatting, and runs
# the suite again under AddressSanitizer + UndefinedBehaviorSanitizer, then runs every fuzz target
# (fuzz/) for 15 seconds. .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install_deps.sh

jobs=$(nproc)
echo "== build (Release, -Werror)"
cmake -S . -B build-ci -G Ninja -DCMAKE_BUILD_TYPE=Release -DLUCENT_WERROR=ON
cmake --build build-ci -j "$jobs"

for isa in default avx2 scalar; do
    echo "== tests, LUCENT_MAX_ISA=$isa"
    if [ "$isa" = default ]; then
        (cd build-ci && env -u LUCENT_MAX_ISA ctest --output-on-failure -j "$jobs")
    else
        (cd build-ci && LUCENT_MAX_ISA=$isa ctest --output-on-failure -j "$jobs")
    fi
done

echo "== ISA translation units export no weak / inline symbols"
bad=0
while read -r src; do
    [ -n "$src" ] || continue
    obj="build-ci/CMakeFiles/lucent.dir/${src}.o"
    [ -f "$obj" ] || { echo "missing object $obj"; bad=1; continue; }
    if nm --defined-only -C "$obj" | grep -E ' [WVu] '; then
        echo "weak or unique symbols in $obj (see docs/ARCHITECTURE.md, ISA translation units)"
        bad=1
    fi
done < build-ci/isa_sources.txt
[ "$bad" -eq 0 ]

echo "== install, public headers, examples against the installed prefix"
bash tests/check_install.sh build-ci

echo "== Python package: pip install into a venv, then its tests (pytest) against the CLI"
rm -rf build-ci/venv
/usr/bin/python3 -m venv --system-site-packages build-ci/venv
build-ci/venv/bin/python -m pip install -q --no-build-isolation ./python
(cd tests/python_pkg && LUCENT_BIN="$PWD/../../build-ci/lucent" ../../build-ci/venv/bin/python -m pytest -q -p no:cacheprovider .)

echo "== clang-format"
git ls-files '*.cpp' '*.h' '*.hpp' '*.c' | xargs clang-format --dry-run --Werror

echo "== build and tests under ASan + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUCENT_SANITIZE=ON \
      -DLUCENT_WERROR=ON -DLUCENT_BUILD_BENCH=OFF
cmake --build build-asan -j "$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j "$jobs")

echo "== fuzz targets, 15 s each (ASan + UBSan; fuzz/run_fuzz.sh SECONDS for longer runs)"
bash fuzz/run_fuzz.sh 15

echo "== all checks passed"
# The ten stages above (build, three test rounds, ISA symbols, install, Python package, format,
# sanitizers, fuzzing); set -e ends the script at the first that fails.
echo "stages: 10 passed, 0 failed"
