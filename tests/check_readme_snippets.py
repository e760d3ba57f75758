#!/usr/bin/env python3
"""The README's library snippets must be the examples' code: every block marked
`[snippet: NAME]` ... `[end snippet]` in examples/ must appear, line for line, in a fenced code
block of README.md (leading indentation ignored)."""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def snippets():
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*", "*.c*"))):
        text = open(path, encoding="utf-8").read()
        for m in re.finditer(r"\[snippet: (\w+)\][^\n]*\n(.*?)\n[^\n]*\[end snippet\]", text, re.S):
            yield path, m.group(1), [line.strip() for line in m.group(2).splitlines()]


def main():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = [[line.strip() for line in b.splitlines()] for b in re.findall(r"```[a-z]*\n(.*?)```", readme, re.S)]
    bad, count = 0, 0
    for path, name, lines in snippets():
        count += 1
        if not any(lines == b[i:i + len(lines)] for b in blocks for i in range(len(b) - len(lines) + 1)):
            print(f"README.md lacks the '{name}' snippet of {os.path.relpath(path, ROOT)} (or it differs)")
            bad += 1
    if count == 0:
        print("no snippets found in examples/")
        return 1
    print(f"readme snippets: {count} checked, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
