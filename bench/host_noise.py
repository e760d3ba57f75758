#!/usr/bin/env python3
"""How much CPU time the host takes from this VM's cores: one spinning process pinned to each
core reads the monotonic clock in a loop, and every jump over 0.5 ms is time the core was not
running this guest (a vCPU preempted by the hypervisor, which the guest's steal counter may not
show: Firecracker guests report 0 steal). Two-thread timings on a shared VM move with this, so
bench/compare_ort.py runs it between rounds and prints it beside the scaling.

    python3 bench/host_noise.py [--seconds 5]
"""
import argparse
import multiprocessing as mp
import os
import time


def _spin(core, seconds, out):
    os.sched_setaffinity(0, {core})
    clock = time.monotonic
    t0 = prev = clock()
    lost, gaps, worst = 0.0, 0, 0.0
    while True:
        t = clock()
        gap = t - prev
        if gap > 5e-4:
            lost += gap
            gaps += 1
            worst = max(worst, gap)
        prev = t
        if t - t0 >= seconds:
            break
    out.put((core, lost / seconds, gaps, worst))


def probe(seconds=3.0):
    """{core: (fraction of time lost, gaps over 0.5 ms, longest gap in s)} over `seconds`."""
    out = mp.Queue()
    procs = [mp.Process(target=_spin, args=(c, seconds, out)) for c in sorted(os.sched_getaffinity(0))]
    for p in procs:
        p.start()
    res = {}
    for _ in procs:
        core, frac, gaps, worst = out.get()
        res[core] = (frac, gaps, worst)
    for p in procs:
        p.join()
    return res


def describe(res):
    return ", ".join(f"core {c}: {100 * f:.1f} % lost ({n} gaps, longest {1e3 * w:.1f} ms)"
                     for c, (f, n, w) in sorted(res.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    print(describe(probe(ap.parse_args().seconds)))


if __name__ == "__main__":
    main()
