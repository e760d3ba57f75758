#!/usr/bin/env bash
# Installs what Lucent needs from Debian 12's packages, skipping those already installed.
#   bash tests/install_deps.sh          everything: build, tests, converters, training
#   bash tests/install_deps.sh build    only what building liblucent.a and build/lucent needs
# Runs apt-get directly as root, through sudo otherwise.
set -euo pipefail

packages=(build-essential cmake ninja-build pkgconf libpng-dev libjpeg62-turbo-dev
          libgtest-dev libbenchmark-dev)
if [ "${1:-all}" != build ]; then
    packages+=(clang clang-format libclang-rt-14-dev python3 python3-numpy python3-torch python3-skimage python3-pil
               python3-dev python3-venv python3-pip python3-setuptools python3-wheel pybind11-dev
               python3-pytest python3-dask python3-distributed)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y "${missing[@]}"
fi
