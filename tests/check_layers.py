#!/usr/bin/env python3
"""Checks that #include lines only run down the layers (docs/ARCHITECTURE.md):

    engine/  ->  ops/, weights/  ->  models/  ->  api/  ->  cli/

A file may include headers of its own layer and lower ones; ops/ and weights/ do not include
each other; include/lucent/ (the public API) may be included from anywhere but includes only
itself; cli/ includes only public headers and its own files (by bare name). Prints each
offending line and exits 1, or prints a summary and exits 0."""
import os
import re
import sys

LAYERS = {"engine": 0, "ops": 1, "weights": 1, "models": 2, "api": 3, "cli": 4}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def target_folder(header):
    return header.split("/", 1)[0] if "/" in header else None


def check_file(root, rel):
    folder = rel.split("/", 1)[0]
    errors = []
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(1)
            top = target_folder(inc)
            where = f"{rel}:{n}: #include \"{inc}\""
            if top == "lucent":
                continue  # the public API
            if folder == "include":
                errors.append(f"{where}: public headers include only lucent/...")
            elif folder == "cli":
                if top is not None:
                    errors.append(f"{where}: cli/ uses only public headers and its own files")
            elif top is None:
                errors.append(f"{where}: include by layer path (e.g. \"engine/tensor.h\")")
            elif top not in LAYERS:
                errors.append(f"{where}: unknown folder '{top}'")
            elif LAYERS[top] > LAYERS[folder]:
                errors.append(f"{where}: {folder}/ (layer {LAYERS[folder]}) may not include "
                              f"{top}/ (layer {LAYERS[top]})")
            elif LAYERS[top] == LAYERS[folder] and top != folder:
                errors.append(f"{where}: {folder}/ and {top}/ are siblings; neither includes the other")
    return errors


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    errors, files = [], 0
    for top in list(LAYERS) + ["include"]:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if name.endswith((".h", ".hpp", ".cpp", ".c", ".in")):
                    rel = os.path.relpath(os.path.join(dirpath, name), root)
                    errors += check_file(root, rel)
                    files += 1
    for e in errors:
        print(e)
    print(f"check_layers: {files} files, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
