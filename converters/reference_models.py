"""PyTorch reference modules for Lucent's two fixed graphs, written from docs/GRAPHS.md.

They produce the test checkpoints, the golden outputs and the trained default models. Their
state_dict keys are the BasicSR / Real-ESRGAN names (SSR) and the docs/GRAPHS.md names (RED);
`ssr_state_dict_as()` re-keys an SSR state dict into the two older public layouts.

Needs python3-torch (test, training and golden-output time only; convert.py does not use it).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def lrelu(x):
    return F.leaky_relu(x, 0.2)


def mirror_pad(x, bottom, right):
    """Reflection pad on the bottom/right, as F.pad(mode="reflect") does. PyTorch refuses pads
    >= the dimension; here the mirror then continues periodically (a 1-pixel dimension repeats
    its pixel), which is what Lucent does for inputs smaller than the unshuffle factor."""
    def index(n, pad):
        period = max(2 * (n - 1), 1)
        idx = []
        for i in range(n + pad):
            j = i % period
            idx.append(period - j if j >= n else j)
        return torch.tensor(idx, dtype=torch.long, device=x.device)

    if bottom:
        x = x.index_select(2, index(x.shape[2], bottom))
    if right:
        x = x.index_select(3, index(x.shape[3], right))
    return x


class ChannelAttention(nn.Module):
    def __init__(self, nf, reduction):
        super().__init__()
        self.fc1 = nn.Conv2d(nf, nf // reduction, 1)
        self.fc2 = nn.Conv2d(nf // reduction, nf, 1)

    def forward(self, y):
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(y, 1)))))
        return y * w


class RDB(nn.Module):
    def __init__(self, nf, gc, attention, reduction):
        super().__init__()
        self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
        self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
        self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
        self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)
        if attention == "channel":
            self.ca = ChannelAttention(nf, reduction)

    def forward(self, x):
        x1 = lrelu(self.conv1(x))
        x2 = lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        if hasattr(self, "ca"):
            x5 = self.ca(x5)
        return x5 * 0.2 + x


class RRDB(nn.Module):
    def __init__(self, nf, gc, attention, reduction):
        super().__init__()
        self.rdb1 = RDB(nf, gc, attention, reduction)
        self.rdb2 = RDB(nf, gc, attention, reduction)
        self.rdb3 = RDB(nf, gc, attention, reduction)

    def forward(self, x):
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


def pixelshuffle_factors(scale):
    return {2: [2], 3: [3], 4: [2, 2], 8: [2, 2, 2]}[scale]


class SSR(nn.Module):
    """RRDBNet. upsampler "nearest": `n_up` x2 stages; "pixelshuffle": stages from `ps_scale`.
    `unshuffle` (1, 2 or 4) sets conv_first's input to unshuffle**2 * in_ch channels."""

    def __init__(self, in_ch=3, out_ch=3, nf=64, nb=23, gc=32, upsampler="nearest", n_up=2,
                 ps_scale=4, unshuffle=1, attention="none", reduction=16):
        super().__init__()
        self.unshuffle = unshuffle
        self.upsampler = upsampler
        self.conv_first = nn.Conv2d(in_ch * unshuffle * unshuffle, nf, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(nf, gc, attention, reduction) for _ in range(nb)])
        self.conv_body = nn.Conv2d(nf, nf, 3, 1, 1)
        if upsampler == "nearest":
            self.factors = [2] * n_up
            outs = [nf] * n_up
        else:
            self.factors = pixelshuffle_factors(ps_scale)
            outs = [nf * r * r for r in self.factors]
        for k, o in enumerate(outs, 1):
            setattr(self, f"conv_up{k}", nn.Conv2d(nf, o, 3, 1, 1))
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, out_ch, 3, 1, 1)

    def scale(self):
        s = 1
        for r in self.factors:
            s *= r
        return s // self.unshuffle

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        r = self.unshuffle
        if r > 1:
            x = mirror_pad(x, (-h) % r, (-w) % r)
            x = F.pixel_unshuffle(x, r)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        for k, f in enumerate(self.factors, 1):
            conv = getattr(self, f"conv_up{k}")
            if self.upsampler == "nearest":
                feat = lrelu(conv(F.interpolate(feat, scale_factor=2, mode="nearest")))
            else:
                feat = lrelu(F.pixel_shuffle(conv(feat), f))
        out = self.conv_last(lrelu(self.conv_hr(feat)))
        s = self.scale()
        return out[:, :, : h * s, : w * s]


def ssr_state_dict_as(sd, layout, nb, n_up):
    """Re-keys a BasicSR-named SSR state dict into "basicsr", "esrgan" or "oldest"."""
    if layout == "basicsr":
        return dict(sd)
    out = {}
    for key, t in sd.items():
        parts = key.split(".")
        name, leaf = ".".join(parts[:-1]), parts[-1]
        if layout == "esrgan":
            if parts[0] == "body":
                new = f"RRDB_trunk.{parts[1]}.RDB{parts[2][3:]}.{parts[3]}"
            else:
                new = {"conv_body": "trunk_conv", "conv_hr": "HRconv"}.get(name, name)
                if name.startswith("conv_up"):
                    new = "upconv" + name[len("conv_up"):]
        elif layout == "oldest":
            if parts[0] == "body":
                new = f"model.1.sub.{parts[1]}.RDB{parts[2][3:]}.{parts[3]}.0"
            elif name == "conv_first":
                new = "model.0"
            elif name == "conv_body":
                new = f"model.1.sub.{nb}"
            elif name.startswith("conv_up"):
                new = f"model.{3 * int(name[len('conv_up'):])}"
            elif name == "conv_hr":
                new = f"model.{3 * n_up + 2}"
            elif name == "conv_last":
                new = f"model.{3 * n_up + 4}"
            else:
                raise ValueError(f"no oldest-layout name for {key}")
        else:
            raise ValueError(f"unknown layout {layout}")
        out[f"{new}.{leaf}"] = t
    return out


class PPM(nn.Module):
    def __init__(self, c2, bins):
        super().__init__()
        self.bins = list(bins)
        self.stages = nn.ModuleList([nn.Conv2d(c2, c2 // 4, 1) for _ in self.bins])
        self.fuse = nn.Conv2d(c2 + len(self.bins) * (c2 // 4), c2, 1)

    def forward(self, t):
        feats = [t]
        for b, stage in zip(self.bins, self.stages):
            s = lrelu(stage(F.adaptive_avg_pool2d(t, b)))
            feats.append(F.interpolate(s, size=t.shape[2:], mode="bilinear", align_corners=False))
        return lrelu(self.fuse(torch.cat(feats, 1)))


class DualAttention(nn.Module):
    def __init__(self, c2, reduction, sa_kernel):
        super().__init__()
        self.fc1 = nn.Conv2d(c2, c2 // reduction, 1)
        self.fc2 = nn.Conv2d(c2 // reduction, c2, 1)
        self.sa = nn.Conv2d(2, 1, sa_kernel, 1, sa_kernel // 2)

    def forward(self, t):
        mlp = lambda v: self.fc2(F.relu(self.fc1(v)))  # noqa: E731
        m = mlp(F.adaptive_avg_pool2d(t, 1)) + mlp(F.adaptive_max_pool2d(t, 1))
        t = t * torch.sigmoid(m)
        s = self.sa(torch.cat((t.mean(1, keepdim=True), t.amax(1, keepdim=True)), 1))
        return t * torch.sigmoid(s)


class RED(nn.Module):
    def __init__(self, in_ch=3, out_ch=3, c0=64, c1=128, c2=256, bins=(1, 2, 3, 6), reduction=16,
                 sa_kernel=7):
        super().__init__()
        self.bins = list(bins)
        self.enc0 = nn.Conv2d(in_ch, c0, 3, 1, 1)
        self.down = nn.Conv2d(c0, c1, 3, 2, 1)
        self.enc2 = nn.Conv2d(c1, c2, 3, 1, 1)
        self.ppm = PPM(c2, bins) if self.bins else None
        self.att = DualAttention(c2, reduction, sa_kernel)
        self.up = nn.ConvTranspose2d(c2, c1, 4, 2, 1)
        self.dec1 = nn.Conv2d(c1, c0, 3, 1, 1)
        self.out = nn.Conv2d(c0, out_ch, 3, 1, 1)

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        x = mirror_pad(x, h % 2, w % 2)
        e0 = lrelu(self.enc0(x))
        e1 = lrelu(self.down(e0))
        e2 = lrelu(self.enc2(e1))
        p = self.ppm(e2) if self.ppm is not None else e2
        a = self.att(p)
        d1 = lrelu(self.up(a))
        d0 = lrelu(self.dec1(d1)) + e0
        return torch.sigmoid(self.out(d0))[:, :, :h, :w]


class Compact(nn.Module):
    """SRVGGNetCompact (Real-ESRGAN's realesr-animevideov3 / realesr-general-x4v3 network), from
    docs/GRAPHS.md "Compact": conv 3x3 in -> nf, act, num_conv x (conv nf -> nf, act), conv
    nf -> out * s * s, pixel shuffle by s, plus the input upsampled by s (nearest). act is
    "prelu" (one slope per channel), "lrelu" (slope 0.1) or "relu". Keys body.N.* as Real-ESRGAN's."""

    def __init__(self, in_ch=3, out_ch=3, nf=64, num_conv=16, scale=4, act="prelu"):
        super().__init__()
        self.scale = scale

        def activation():
            if act == "prelu":
                return nn.PReLU(num_parameters=nf)
            if act == "lrelu":
                return nn.LeakyReLU(negative_slope=0.1)
            return nn.ReLU()

        layers = [nn.Conv2d(in_ch, nf, 3, 1, 1), activation()]
        for _ in range(num_conv):
            layers += [nn.Conv2d(nf, nf, 3, 1, 1), activation()]
        layers.append(nn.Conv2d(nf, out_ch * scale * scale, 3, 1, 1))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(scale)

    def forward(self, x):
        out = x
        for layer in self.body:
            out = layer(out)
        return self.upsampler(out) + F.interpolate(x, scale_factor=self.scale, mode="nearest")
