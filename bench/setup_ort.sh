#!/usr/bin/env bash
# Installs ONNX Runtime's CPU library for the benchmarks: npm's onnxruntime-node (it ships
# libonnxruntime.so) into build-bench/ort. --onnxruntime-node-install=skip stops its install
# script from fetching GPU binaries from outside the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "npm is needed (apt-get install npm)"; exit 1; }
mkdir -p build-bench/ort
cd build-bench/ort
[ -f package.json ] || echo '{"name": "lucent-bench-ort", "private": true}' > package.json
npm install --no-audit --no-fund onnxruntime-node --onnxruntime-node-install=skip
