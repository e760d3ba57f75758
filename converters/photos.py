"""Public-domain training and evaluation photos from Debian's python3-skimage data folder.

skimage.data's README and docstrings give their sources: NASA (astronaut, rocket, Hubble deep
field), Stefan van der Walt and contributors (chelsea, coffee, motorcycle pair, brick/grass/gravel
textures), the USC-SIPI style test images camera/coins/moon/page/text re-released by the skimage
team under CC0, and public-domain microscopy (ihc, retina). All are CC0 or public domain.
Two more come from Debian's python3-scipy (`scipy/misc/face.dat`, `ascent.dat`; SciPy's docstrings
give their source as public-domain-image.com, public domain): a raccoon face (colour,
1024x768) and a staircase scene (grey, 512x512).
One more comes from Debian's python-matplotlib-data (pulled in by python3-skimage):
`sample_data/grace_hopper.jpg`, a US Navy portrait of Grace Hopper (colour, 512x600), public
domain as a work of the US government. It is in LATER, used by the SSR trainer since its stage 6
(the RED default was trained before it existed).

The split is fixed: HELD_OUT photos are never used for training and give the PSNR/SSIM figures
in the README.
"""
import os

import numpy as np

TRAIN = ["astronaut", "motorcycle_left", "motorcycle_right", "hubble_deep_field", "ihc", "retina",
         "brick", "grass", "gravel", "camera", "coins", "moon", "page", "scipy_face", "scipy_ascent"]
HELD_OUT = ["chelsea", "coffee", "rocket"]
LATER = ["grace_hopper"]


def data_dir():
    import skimage  # only for locating the folder
    return os.path.join(os.path.dirname(skimage.__file__), "data")


def load_scipy(name):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy.misc's datasets are deprecated in favour of pooch downloads
        import scipy.misc
        img = scipy.misc.face() if name == "scipy_face" else scipy.misc.ascent()
    return np.clip(img, 0, 255).astype(np.uint8)


def load(name):
    """HxWx3 float32 RGB in [0, 1]. Grayscale photos are replicated to three channels."""
    from skimage import io
    if name.startswith("scipy_"):
        img = load_scipy(name)
        if img.ndim == 2:
            img = np.stack([img] * 3, axis=-1)
        return (img.astype(np.float32) / 255.0).copy()
    if name == "grace_hopper":
        import matplotlib
        path = os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")
    else:
        files = {"hubble_deep_field": "hubble_deep_field.jpg",
                 "retina": "retina.jpg", "rocket": "rocket.jpg"}
        path = os.path.join(data_dir(), files.get(name, name + ".png"))
    img = io.imread(path)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    if img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    return (img.astype(np.float32) / 255.0).copy()


def train_photos(names=None):
    return [load(name) for name in (names or TRAIN)]


def random_crops(imgs, patch, batch, gen):
    """[batch, 3, patch, patch] float32 crops of random photos, each randomly rotated by a
    multiple of 90 degrees and mirrored (torch.Generator `gen` makes it reproducible)."""
    import torch
    crops = []
    for _ in range(batch):
        img = imgs[int(torch.randint(len(imgs), (1,), generator=gen))]
        y = int(torch.randint(img.shape[0] - patch + 1, (1,), generator=gen))
        x = int(torch.randint(img.shape[1] - patch + 1, (1,), generator=gen))
        c = img[y:y + patch, x:x + patch]
        k = int(torch.randint(8, (1,), generator=gen))
        c = np.rot90(c, k % 4)
        if k >= 4:
            c = c[:, ::-1]
        crops.append(np.ascontiguousarray(c))
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()


def psnr(a, b):
    """PSNR in dB of two uint8 images."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def to_u8(x):
    """round_half_to_even(clamp(x, 0, 1) * 255), the quantisation of docs/GRAPHS.md."""
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)
