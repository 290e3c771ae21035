"""P5: peak memory of conv-branch training with ViT activation checkpointing vs without.

    python benchmarks/p5_memory.py                       # samunet_vit_b_res34 @256, 4 images x 5 masks
    python benchmarks/p5_memory.py --images 2 --masks 3 --vit-attention reference

The `conv-branch` strategy freezes the ViT, but the loss still back-propagates through ViT blocks
2..11 to reach the fusion adapters, so their activations are kept. Each variant runs one training
step (forward, backward, AdamW step) in a fresh subprocess:
- CPU: peak resident memory during the step minus resident memory just before it (Linux's
  VmHWM, reset through /proc/self/clear_refs; ru_maxrss where that is not possible).
- CUDA: torch.cuda.max_memory_allocated during the step minus memory allocated before it.
glibc keeps freed heap memory resident, so on CPU the peak RSS overstates the live tensors;
`--live-memory` runs the children with MALLOC_MMAP_THRESHOLD_=131072, so every tensor of 128 KiB
or more gets its own mapping, returned when freed: the peak then tracks live memory, as CUDA's
allocator statistics do (the step runs ~10x slower from the page faults; memory only).
Goal: checkpointed / plain <= 0.6.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_header


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)
        return True
    except OSError:
        return False


def measure(args: argparse.Namespace) -> dict:
    """One training step in this process; returns bytes of peak memory above the pre-step level."""
    import torch
    import torch.nn.functional as F

    from samunet_tune import Prompts, create_model
    from samunet_tune.modeling.memory import set_activation_checkpointing
    from samunet_tune.strategies import build_strategy

    torch.manual_seed(0)
    device = torch.device(args.device)
    model = create_model(args.model, vit_attention=args.vit_attention)
    strategy = build_strategy("conv-branch")
    module = strategy.apply(model).to(device)
    set_activation_checkpointing(module, args.checkpointing)
    module.train()
    for frozen in strategy.frozen_eval_modules(module):
        frozen.eval()
    optimizer = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=1e-4)
    # Gradients and AdamW state exist from the first step on: allocate them before measuring,
    # so both variants start from the same resident set and only activations differ.
    for p in module.parameters():
        if p.requires_grad:
            p.grad = torch.zeros_like(p)
    optimizer.step()

    size = model.config.image_size
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(args.images, 3, size, size, generator=generator).to(device)
    corners = torch.rand(args.images * args.masks, 2, 2, generator=generator) * (size - 1)
    boxes = torch.cat([corners.min(1).values, corners.max(1).values], dim=1).to(device)
    index = torch.arange(args.images).repeat_interleave(args.masks).to(device)
    target = (torch.rand(args.images * args.masks, 1, size // 4, size // 4, generator=generator) > 0.5).float().to(device)
    prompts = Prompts(boxes=boxes, image_index=index)

    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        method = "torch.cuda.max_memory_allocated"
    else:
        resettable = _reset_peak_rss()
        before = _status_kib("VmRSS") * 1024 if resettable else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        method = "VmHWM after clear_refs" if resettable else "ru_maxrss (includes model building)"
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=False)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
        logits = module(images, prompts)
    F.binary_cross_entropy_with_logits(logits.float(), target).backward()
    optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = _status_kib("VmHWM") * 1024 if resettable else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "checkpointing": args.checkpointing,
        "peak_above_start_bytes": peak - before,
        "step_seconds": time.perf_counter() - start,
        "method": method,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="samunet_vit_b_res34")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--masks", type=int, default=5, help="box prompts (masks) per image")
    parser.add_argument("--vit-attention", default="sdpa", choices=["sdpa", "reference"])
    parser.add_argument("--bf16", action="store_true", help="autocast to bfloat16")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--live-memory", action="store_true", help="CPU: fixed glibc mmap threshold (see above)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--checkpointing", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args)))
        return
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    print_header("P5 peak memory, conv-branch training, ViT activation checkpointing vs without")
    print(
        f"{args.model} @ its image size, {args.images} images x {args.masks} masks, vit_attention={args.vit_attention}, "
        f"{'bf16 autocast' if args.bf16 else 'fp32'}, device {args.device}"
        + (", MALLOC_MMAP_THRESHOLD_=131072 (live memory)" if args.live_memory else "")
    )
    results = {}
    for checkpointing in (False, True):
        command = [sys.executable, __file__, "--child", "--model", args.model, "--images", str(args.images),
                   "--masks", str(args.masks), "--vit-attention", args.vit_attention, "--device", args.device]  # fmt: skip
        command += ["--checkpointing"] * checkpointing + ["--bf16"] * args.bf16
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"} if args.live_memory else os.environ
        output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
        result = json.loads(output.strip().splitlines()[-1])
        results[checkpointing] = result
        print(
            f"  checkpointing={checkpointing!s:<5}  peak above start {result['peak_above_start_bytes'] / 2**20:8.0f} MiB"
            f"   step {result['step_seconds']:6.1f} s   ({result['method']})"
        )
    memory = results[True]["peak_above_start_bytes"] / results[False]["peak_above_start_bytes"]
    time_ratio = results[True]["step_seconds"] / results[False]["step_seconds"]
    print(f"P5 peak memory checkpointed / plain: {memory:.2f}x (goal <= 0.6x); step time {time_ratio:.2f}x")


if __name__ == "__main__":
    main()
