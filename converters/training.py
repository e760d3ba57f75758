"""The training loop shared by train_ssr.py and train_red.py."""
import time

import numpy as np
import torch


def load_weights(model, path):
    """Loads a checkpoint into `model`: a state dict saved by a trainer (.pth, under "params")
    or a shipped .lcw file (float16 tensors widened to float32)."""
    if path.endswith(".lcw"):
        import lcw
        _, _, tensors = lcw.read(path)
        state = {k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()}
    else:
        state = torch.load(path)["params"]
    model.load_state_dict(state)


def train(model, batches, loss_fn, lr, minutes, max_iters, bf16=False, checkpoint=None, every_minutes=5.0,
          warmup_iters=0):
    """Adam over (input, target) pairs from `batches`, with the learning rate decayed on a
    cosine over a wall-clock budget of `minutes`. Prints progress every 50 steps and returns
    (iterations, seconds).

    bf16: the forward pass runs under CPU autocast to bfloat16 with channels-last tensors
    (oneDNN's AMX path: about 5x the fp32 step rate on this CPU for these nets). The
    parameters, the optimiser state and the loss stay float32, so what is saved is fp32.

    warmup_iters: the learning rate ramps up linearly over this many first steps (for
    fine-tunes, whose Adam moments start at zero).

    checkpoint: called as checkpoint(iteration) every `every_minutes` of training and once at
    the end (the caller scores the model on its validation set and keeps the best state)."""
    if bf16:
        model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t0, it = time.time(), 0
    next_check = every_minutes * 60.0
    budget = minutes * 60.0
    for x, y in batches:
        frac = min((time.time() - t0) / budget, 1.0)
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1.0 + np.cos(np.pi * frac)) * min(1.0, (it + 1) / (warmup_iters + 1))
        if bf16:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = loss_fn(out.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        it += 1
        if it % 50 == 0:
            print(f"iter {it} loss {loss.item():.4f} t {time.time() - t0:.0f}s", flush=True)
        if checkpoint is not None and time.time() - t0 >= next_check:
            checkpoint(it)
            next_check += every_minutes * 60.0
        if frac >= 1.0 or it >= max_iters:
            break
    if checkpoint is not None:
        checkpoint(it)
    return it, time.time() - t0
