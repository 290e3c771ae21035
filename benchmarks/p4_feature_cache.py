"""P4: a decoder-only training epoch with the frozen-encoder feature cache vs without (goal >= 5x).

Same model, data, prompts and optimizer; the cached epoch is a steady-state one (features were
computed in an earlier epoch), which is what every epoch after the first costs.

    python benchmarks/p4_feature_cache.py [--model samunet_vit_b_res34] [--images 16]
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn.functional as F


def run_epoch(module, samunet, loader, optimizer, loss_fn, image_size, cache=None) -> float:
    from samunet_tune import Prompts

    started = time.perf_counter()
    for batch in loader:
        images = batch["images"]
        if cache is not None:
            images = cache.encode(samunet.encode_image, images, batch["sample_ids"])
        prompts = Prompts(boxes=batch["boxes"], image_index=batch["image_index"])
        logits = F.interpolate(module(images, prompts), size=(image_size,) * 2, mode="bilinear", align_corners=False)
        loss = loss_fn(logits[:, 0], batch["masks"].float())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="samunet_vit_b_res34")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()

    from samunet_tune import create_model
    from samunet_tune.data import build_dataset
    from samunet_tune.data.training import PromptedDataset
    from samunet_tune.strategies import build_strategy
    from samunet_tune.train.feature_cache import FeatureCache
    from samunet_tune.train.losses import FocalDiceLoss

    torch.manual_seed(0)
    model = create_model(args.model)
    size = model.config.image_size
    strategy = build_strategy("decoder-only")
    module = strategy.apply(model)
    module.train()
    for frozen in strategy.frozen_eval_modules(module):
        frozen.eval()
    dataset = PromptedDataset(build_dataset("synthetic", num_samples=args.images, image_size=size, seed=0),
                              image_size=size, masks_per_image=5, seed=0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, collate_fn=dataset.collate)
    optimizer = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-4)
    loss_fn = FocalDiceLoss()
    cache = FeatureCache()

    uncached = run_epoch(module, model, loader, optimizer, loss_fn, size)
    filling = run_epoch(module, model, loader, optimizer, loss_fn, size, cache)  # computes features once
    cached = run_epoch(module, model, loader, optimizer, loss_fn, size, cache)
    uncached_again = run_epoch(module, model, loader, optimizer, loss_fn, size)
    cached_again = run_epoch(module, model, loader, optimizer, loss_fn, size, cache)
    without, with_cache = min(uncached, uncached_again), min(cached, cached_again)
    print(f"command: python benchmarks/p4_feature_cache.py --model {args.model} --images {args.images} --batch-size {args.batch_size}")
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {time.strftime('%Y-%m-%d')}")
    print(f"epoch without cache   {without:7.2f} s   ({uncached:.2f}, {uncached_again:.2f})")
    print(f"epoch filling cache   {filling:7.2f} s")
    print(f"epoch with cache      {with_cache:7.2f} s   ({cached:.2f}, {cached_again:.2f}); cache hits {cache.hits}, misses {cache.misses}")
    print(f"P4 speed-up = {without / with_cache:.1f}x  (goal >= 5x)")


if __name__ == "__main__":
    main()
