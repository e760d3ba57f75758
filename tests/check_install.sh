#!/usr/bin/env bash
# The embedding promises, checked from a finished build folder (default build-ci):
#   bash tests/check_install.sh [BUILD_DIR]
# 1. `cmake --install` into a temporary prefix: liblucent.a, the public headers only, the CLI,
#    the CMake package and lucent.pc.
# 2. Each public header compiles alone with -Wall -Wextra -Werror -pedantic (C++17; lucent.h
#    also as C99).
# 3. liblucent.a defines no strong symbol outside lucent:: / lucent_*, and nothing of stb.
# 4. examples/cpp (find_package) and examples/c (pkg-config --static) build against the
#    prefix, not the build tree, and their output equals `lucent upscale` byte for byte.
# 5. The README's "The library" snippets are the examples' code.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-ci}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

echo "-- install into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -1)
expected="image.hpp isa.hpp lucent.h lucent.hpp model.hpp status.hpp version.h"
got=$(cd "$prefix/include/lucent" && ls | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$expected" ] || { echo "installed headers: '$got', expected '$expected'"; exit 1; }
[ "$(ls "$prefix/include")" = lucent ] || { echo "unexpected folders in include/"; exit 1; }
for f in "$libdir/liblucent.a" "$libdir/pkgconfig/lucent.pc" "$libdir/cmake/Lucent/LucentConfig.cmake" \
         "$prefix/bin/lucent"; do
    [ -f "$f" ] || { echo "missing $f"; exit 1; }
done

echo "-- public headers compile alone"
for h in "$prefix"/include/lucent/*.hpp "$prefix"/include/lucent/*.h; do
    name=$(basename "$h")
    printf '#include <lucent/%s>\n' "$name" | \
        c++ -std=c++17 -Wall -Wextra -Werror -pedantic -I"$prefix/include" -fsyntax-only -x c++ -
done
for h in lucent.h version.h; do
    printf '#include <lucent/%s>\ntypedef int lucent_header_check;\n' "$h" | \
        cc -std=c99 -Wall -Wextra -Werror -pedantic -I"$prefix/include" -fsyntax-only -x c -
done

echo "-- exported symbols"
foreign=$(nm -g --defined-only "$libdir/liblucent.a" | awk 'NF == 3 && $2 ~ /^[TDBR]$/ {print $3}' |
          grep -v -e '6lucent' -e '^lucent_' || true)
[ -z "$foreign" ] || { echo "strong symbols outside lucent:"; echo "$foreign" | c++filt; exit 1; }
if nm "$libdir/liblucent.a" | grep -i -q 'stbi'; then echo "stb symbols in liblucent.a"; exit 1; fi

echo "-- examples against the installed prefix"
cmake -S examples/cpp -B "$work/cpp" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cpp" >/dev/null
if grep -q "$(pwd)/include" "$work/cpp/build.ninja"; then echo "the C++ example saw the source tree"; exit 1; fi
cp examples/c/upscale_ppm.c examples/c/Makefile "$work/"
PKG_CONFIG_PATH="$libdir/pkgconfig" make -s -C "$work" upscale_ppm

/usr/bin/python3 - "$work/in.ppm" <<'PY'
import sys
from PIL import Image
Image.open("models/samples/chelsea_128.png").convert("RGB").save(sys.argv[1])
PY
"$prefix/bin/lucent" upscale "$work/in.ppm" "$work/cli.ppm"
"$work/cpp/upscale_ppm" "$work/in.ppm" "$work/cpp.ppm"
"$work/upscale_ppm" "$work/in.ppm" "$work/c.ppm"
"$work/cpp/stream_ppm" "$work/in.ppm" "$work/stream.ppm"
cmp "$work/cli.ppm" "$work/cpp.ppm"
cmp "$work/cli.ppm" "$work/c.ppm"
cmp "$work/cli.ppm" "$work/stream.ppm"
echo "   C++, C and streaming examples == lucent upscale ($(stat -c %s "$work/cli.ppm") bytes)"

echo "-- README snippets"
/usr/bin/python3 tests/check_readme_snippets.py
echo "install checks: passed"
