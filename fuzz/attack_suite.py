#!/usr/bin/env python3
"""The standing attack suite: every robustness finding so far, each with the test that
reproduces it, run together so that none can come back unnoticed. The fuzzers (run_fuzz.sh)
look for new findings; this replays the known ones (their tests also run in CTest, where
fuzz/regressions/ feeds the fuzz targets' inputs again).

    /usr/bin/python3 fuzz/attack_suite.py [--build build] [--list]

Exits non-zero when any finding is back. Loopback only; every test is bounded in time."""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (finding, where it was found, the tests that replay it: "py:MODULE.CLASS.TEST" or
# "gtest:FILTER")
FINDINGS = [
    ("truncated TGA decoded from uninitialised memory (output changed run to run)", "issue 35",
     ["py:test_decoders.Decoders.test_truncated_files_are_refused_the_same_way_every_time",
      "gtest:TgaReader.*:FuzzRegressions.TruncatedImagesAreRefused:FuzzRegressions.Images"]),
    ("truncated BMP accepted, missing pixels as zeros", "issue 35",
     ["gtest:BmpReader.*", "py:test_decoders.Decoders.test_every_layout_decodes_to_pils_pixels"]),
    ("twelve slow-header sockets stopped lucent serve (thread per connection)", "issue 35",
     ["py:test_serve_abuse.Abuse.test_twelve_slow_header_clients",
      "py:test_serve_abuse.Abuse.test_a_hundred_slow_header_clients"]),
    ("slow bodies held the server's threads", "issue 35",
     ["py:test_serve_abuse.Abuse.test_slow_bodies_are_cut_off"]),
    ("huge or negative Content-Length answered after 10 s / as 413; duplicate lengths read; "
     "DELETE gave 404; 20,000 header lines accepted", "issue 35",
     ["py:test_serve_abuse.Abuse.test_huge_declared_bodies_and_strict_heads"]),
    ("curl's default form type answered 413 naming the wrong limit", "issue 35",
     ["py:test_serve_abuse.Abuse.test_form_encoded_body_is_415_naming_the_types"]),
    ("/metrics durations from a stale start time", "issue 35",
     ["py:test_serve_abuse.Abuse.test_request_timing_starts_with_the_request"]),
    ("ulimit -f (SIGXFSZ) killed the CLI and left its temporary file", "issue 35",
     ["py:test_hostile.HostileImages.test_file_size_limit_with_the_default_signal_leaves_nothing"]),
    ("float output refused under --max-memory (whole-image plan)", "issue 35",
     ["py:test_npy_streaming"]),
    ("converter zip bombs, nested pickles, BUILD opcodes, overflowing shapes", "robustness review",
     ["py:test_hostile.HostileCheckpoints", "py:test_converter_safety"]),
    ("NaN / infinity input, huge PNG headers, crafted JPEG Huffman table, truncated JPEG, full "
     "disk, absurd thread counts", "robustness review", ["py:test_hostile.HostileImages"]),
    ("symlinked temporary and output names, umask, the input never replaced", "robustness review",
     ["py:test_cli_batch"]),
    ("stb_image PNM header overflow, stb findings, every fuzz seed", "fuzzing",
     ["gtest:FuzzRegressions.*"]),
    ("allocation failure and signals mid-run", "robustness review", ["gtest:Faults.*"]),
    ("bad requests, overload 503, SIGTERM with requests in flight", "robustness review",
     ["py:test_serve"]),
]


def run(kind, target, build):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if kind == "py":
        env["LUCENT_BIN"] = os.path.join(build, "lucent")
        cmd = [sys.executable, "-m", "unittest", "-q", target]
        cwd = os.path.join(ROOT, "tests", "python")
    else:
        binary = "lucent_fault_tests" if target.startswith("Faults") else "lucent_tests"
        cmd = [os.path.join(build, "tests", binary), f"--gtest_filter={target}", "--gtest_brief=1"]
        cwd = ROOT
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    return r.returncode == 0, r.stdout + r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--list", action="store_true", help="print the findings and their tests only")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    failed = 0
    for finding, origin, tests in FINDINGS:
        if args.list:
            print(f"- {finding} ({origin}): {', '.join(tests)}")
            continue
        for t in tests:
            kind, target = t.split(":", 1)
            t0 = time.monotonic()
            ok, log = run(kind, target, build)
            print(f"{'held' if ok else 'BACK'}  {finding} [{t}] {time.monotonic() - t0:.1f} s", flush=True)
            if not ok:
                failed += 1
                print(log[-3000:])
    if not args.list:
        print(f"{len(FINDINGS)} findings, {failed} test group(s) failing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
