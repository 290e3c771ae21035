"""P2: SAM-UNet forward vs segment-anything's bare ViT-B + prompt encoder + mask decoder at 256.

    python benchmarks/p2_forward.py                 # 1 image x 1 box, and 1 image x 5 boxes
    python benchmarks/p2_forward.py --rounds 9

Both get random weights of their real sizes (timing does not depend on the values). SAM is built
from `segment_anything.modeling` pieces as `build_sam_vit_b` does, at img_size=256, and runs its
own attention. SAM-UNet (samunet_vit_b_res34) runs with its default (sdpa) attention, and once
more with segment-anything's attention so the architecture's own cost shows apart from the
attention speed-up. Goal: SAM-UNet <= 1.25x SAM's time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from segment_anything.modeling import (
    ImageEncoderViT,
    MaskDecoder,
    PromptEncoder,
    TwoWayTransformer,
)
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    add_threads_argument,
    apply_threads,
    best,
    median,
    print_header,
    ratio_text,
    time_side_by_side,
)

from samunet_tune import Prompts, create_model


class BareSam(nn.Module):
    """segment-anything's ViT-B, prompt encoder and mask decoder at 256, one image at a time."""

    def __init__(self, image_size: int = 256) -> None:
        super().__init__()
        grid = image_size // 16
        self.image_encoder = ImageEncoderViT(
            img_size=image_size, embed_dim=768, depth=12, num_heads=12, mlp_ratio=4, out_chans=256,
            qkv_bias=True, norm_layer=lambda dim: nn.LayerNorm(dim, eps=1e-6), use_rel_pos=True,
            window_size=14, global_attn_indexes=(2, 5, 8, 11),
        )  # fmt: skip
        self.prompt_encoder = PromptEncoder(
            embed_dim=256, image_embedding_size=(grid, grid), input_image_size=(image_size, image_size), mask_in_chans=16
        )
        self.mask_decoder = MaskDecoder(
            transformer_dim=256,
            transformer=TwoWayTransformer(depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8),
            num_multimask_outputs=3,
        )

    def forward(self, image: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        embedding = self.image_encoder(image)
        sparse, dense = self.prompt_encoder(points=None, boxes=boxes, masks=None)
        masks, _ = self.mask_decoder(
            image_embeddings=embedding,
            image_pe=self.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=False,
        )
        return masks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per variant")
    parser.add_argument("--boxes", type=int, nargs="+", default=[1, 5], help="prompts per image, one run each")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    add_threads_argument(parser)
    args = parser.parse_args()
    apply_threads(args.threads)
    print_header("P2 SAM-UNet forward vs segment-anything ViT-B + decoder @256 (ratio = SAM-UNet time / SAM time)")
    torch.manual_seed(0)
    device = torch.device(args.device)
    sam = BareSam().to(device).eval()
    samunet = create_model("samunet_vit_b_res34").to(device).eval()
    samunet_reference = create_model("samunet_vit_b_res34", vit_attention="reference").to(device).eval()
    samunet_reference.load_state_dict(samunet.state_dict())
    print(f"parameters: SAM {sum(p.numel() for p in sam.parameters()):,}, SAM-UNet {samunet.num_parameters():,}")

    image = torch.randn(1, 3, 256, 256, device=device)
    for count in args.boxes:
        corners = torch.rand(count, 2, 2, generator=torch.Generator().manual_seed(count)) * 255
        boxes = torch.cat([corners.min(1).values, corners.max(1).values], dim=1).to(device)
        prompts = Prompts(boxes=boxes, image_index=torch.zeros(count, dtype=torch.long, device=device))
        with torch.inference_mode():
            times = time_side_by_side(
                {
                    "sam": lambda boxes=boxes: sam(image, boxes),
                    "samunet": lambda prompts=prompts: samunet(image, prompts),
                    "samunet_reference_attention": lambda prompts=prompts: samunet_reference(image, prompts),
                },
                rounds=args.rounds,
            )
        print(f"1 image x {count} box(es): seconds per forward, fastest round (median)")
        for name, values in times.items():
            print(f"  {name:<30} {best(values):7.3f} s ({median(values):.3f} s)")
        print(f"  SAM-UNet / SAM: {ratio_text(times, 'samunet', 'sam')} (goal <= 1.25x)")
        print(f"  with segment-anything's attention in both: {ratio_text(times, 'samunet_reference_attention', 'sam')}")


if __name__ == "__main__":
    main()
