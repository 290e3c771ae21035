"""Channels-last conv branch vs the default layout: does `set_channels_last` pay off here?

    python benchmarks/channels_last.py               # ResNet-34 branch @256, batch 4, fwd and fwd+bwd
    python benchmarks/channels_last.py --bf16        # autocast bf16 (what P6 uses on a GPU)

Times the conv branch alone (forward in inference mode, and forward + backward as in conv-branch
training), then the whole SAM-UNet forward, side by side in one run. ratio = default / channels-last
(> 1 means channels-last is faster).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    add_threads_argument,
    apply_threads,
    best,
    print_header,
    ratio_text,
    time_side_by_side,
)

from samunet_tune import Prompts, create_model
from samunet_tune.modeling.memory import set_channels_last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    add_threads_argument(parser)
    args = parser.parse_args()
    apply_threads(args.threads)
    print_header("channels-last conv branch vs default layout (ratio = default time / channels-last time)")
    device = torch.device(args.device)
    torch.manual_seed(0)
    default = create_model("samunet_vit_b_res34").to(device)
    last = create_model("samunet_vit_b_res34").to(device)
    last.load_state_dict(default.state_dict())
    set_channels_last(last, True)
    images = torch.randn(args.batch, 3, 256, 256, device=device)
    prompts = Prompts(boxes=torch.tensor([[20.0, 30, 200, 220]] * args.batch, device=device))
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16)

    def branch_forward(model):
        def run():
            with torch.inference_mode(), autocast:
                model.conv_branch(images)

        return run

    def branch_train(model):
        def run():
            model.conv_branch.zero_grad()
            with autocast:
                loss = sum(feature.float().square().mean() for feature in model.conv_branch(images))
            loss.backward()

        return run

    def whole_forward(model):
        def run():
            with torch.inference_mode(), autocast:
                model(images, prompts)

        return run

    for label, make, model_mode in [
        (f"conv branch forward, batch {args.batch}", branch_forward, "eval"),
        (f"conv branch forward+backward, batch {args.batch}", branch_train, "train"),
        (f"SAM-UNet forward, batch {args.batch}", whole_forward, "eval"),
    ]:
        default.train(model_mode == "train")
        last.train(model_mode == "train")
        times = time_side_by_side({"default": make(default), "channels_last": make(last)}, rounds=args.rounds)
        print(
            f"{label:<40} default {best(times['default']):7.3f} s   channels-last "
            f"{best(times['channels_last']):7.3f} s   ratio {ratio_text(times, 'default', 'channels_last')}"
        )


if __name__ == "__main__":
    main()
