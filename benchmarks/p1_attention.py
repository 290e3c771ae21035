"""P1: fast ViT attention (sdpa) vs segment-anything's attention, same weights, CPU or GPU.

    python benchmarks/p1_attention.py                # ViT-B at 256 (whole encoder) and 1024 (blocks)
    python benchmarks/p1_attention.py --rounds 9 --batch 2

Rows, each timed side by side (reference and sdpa interleaved round by round; times are each
variant's fastest round, speedup = their ratio, with the per-round ratios' median and range):
- attention core: q, k, v -> output (segment-anything's matmul + add_decomposed_rel_pos + softmax
  + matmul, vs relative_position_bias + scaled_dot_product_attention), no projections;
- one ViT-B block (windowed or global), where the sdpa backend also skips SAM's padded tokens in
  the qkv and output projections;
- the whole ViT-B image encoder at 256. At 1024 one ViT-B forward takes ~25 s on 2 CPU cores, so
  the encoder is estimated as 8 windowed + 4 global blocks (patch embedding and neck are a few
  percent and identical in both).
Goal: >= 1.5x faster on CPU.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from segment_anything.modeling import ImageEncoderViT
from segment_anything.modeling.image_encoder import add_decomposed_rel_pos
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    add_threads_argument,
    apply_threads,
    best,
    print_header,
    ratio,
    ratio_text,
    time_side_by_side,
)

from samunet_tune.modeling.attention import (
    relative_position_bias,
    set_attention_backend,
)


def vit_b(image_size: int) -> ImageEncoderViT:
    """segment-anything's ViT-B image encoder (build_sam_vit_b's sizes) with random rel-pos tables."""
    encoder = ImageEncoderViT(
        img_size=image_size, embed_dim=768, depth=12, num_heads=12, mlp_ratio=4, out_chans=256, qkv_bias=True,
        norm_layer=lambda dim: nn.LayerNorm(dim, eps=1e-6), use_rel_pos=True, window_size=14,
        global_attn_indexes=(2, 5, 8, 11),
    )  # fmt: skip
    with torch.no_grad():
        for name, parameter in encoder.named_parameters():
            if "rel_pos" in name:
                parameter.normal_(0, 0.02)  # zero tables would let a broken bias path pass
    return encoder.eval()


class _Holder(nn.Module):
    """Lets set_attention_backend find a lone block."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([block])


def report(label: str, times: dict[str, list[float]], difference: float | None = None) -> dict[str, float]:
    result = {"reference_s": best(times["reference"]), "sdpa_s": best(times["sdpa"]),
              "speedup": ratio(times, "reference", "sdpa")}  # fmt: skip
    note = "" if difference is None else f"   max|diff| {difference:.1e}"
    print(
        f"{label:<46} reference {result['reference_s']:7.3f} s   sdpa {result['sdpa_s']:7.3f} s   "
        f"speedup {ratio_text(times, 'reference', 'sdpa')}{note}"
    )
    return result


def compare_module(label: str, module: nn.Module, x: torch.Tensor, rounds: int) -> dict[str, float]:
    holder = module if hasattr(module, "blocks") else _Holder(module)

    def run_with(backend: str):
        def run() -> None:
            set_attention_backend(holder, backend)
            module(x)

        return run

    with torch.inference_mode():
        set_attention_backend(holder, "reference")
        expected = module(x)
        set_attention_backend(holder, "sdpa")
        difference = (module(x) - expected).abs().max().item()
        times = time_side_by_side({"reference": run_with("reference"), "sdpa": run_with("sdpa")}, rounds=rounds)
    return report(label, times, difference)


def compare_core(
    label: str, block: nn.Module, windows: int, grid: int, rounds: int, device, inner: int = 1
) -> dict[str, float]:
    """q, k, v -> attention output for `windows` x (grid x grid) tokens with the block's rel-pos tables."""
    attn, heads = block.attn, block.attn.num_heads
    q, k, v = (torch.randn(windows, heads, grid * grid, 64, device=device) for _ in range(3))

    def reference() -> torch.Tensor:  # segment-anything's Attention.forward between qkv and proj
        q_, k_, v_ = (t.reshape(windows * heads, grid * grid, 64) for t in (q, k, v))
        scores = (q_ * attn.scale) @ k_.transpose(-2, -1)
        scores = add_decomposed_rel_pos(scores, q_, attn.rel_pos_h, attn.rel_pos_w, (grid, grid), (grid, grid))
        return scores.softmax(dim=-1) @ v_

    def sdpa() -> torch.Tensor:
        bias = relative_position_bias(q, attn.rel_pos_h, attn.rel_pos_w, (grid, grid))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)

    with torch.inference_mode():
        difference = (sdpa().reshape(windows * heads, grid * grid, 64) - reference()).abs().max().item()
        times = time_side_by_side({"reference": reference, "sdpa": sdpa}, rounds=rounds, inner=inner)
    return report(label, times, difference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per variant")
    parser.add_argument("--batch", type=int, default=1, help="images per forward")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    add_threads_argument(parser)
    args = parser.parse_args()
    apply_threads(args.threads)
    print_header("P1 fast attention vs segment-anything attention (speedup = reference time / sdpa time)")
    torch.manual_seed(0)
    device = torch.device(args.device)
    b = args.batch

    small = vit_b(256).to(device)
    compare_core(f"attention core @256 windowed (4x14x14 x{b})", small.blocks[0], 4 * b, 14, args.rounds, device, 20)
    compare_core(f"attention core @256 global (16x16 x{b})", small.blocks[2], b, 16, args.rounds, device, 20)
    whole = compare_module(
        f"ViT-B encoder @256, batch {b}", small, torch.randn(b, 3, 256, 256, device=device), args.rounds
    )

    big = vit_b(1024).to(device)
    tokens = torch.randn(b, 64, 64, 768, device=device)
    compare_core(f"attention core @1024 global (64x64 x{b})", big.blocks[2], b, 64, args.rounds, device)
    windowed = compare_module("ViT-B windowed block @1024 (64x64 tokens)", big.blocks[0], tokens, args.rounds)
    global_ = compare_module("ViT-B global block @1024 (64x64 tokens)", big.blocks[2], tokens, args.rounds)
    reference = 8 * windowed["reference_s"] + 4 * global_["reference_s"]
    sdpa = 8 * windowed["sdpa_s"] + 4 * global_["sdpa_s"]
    print(
        f"{'ViT-B encoder @1024 = 8 windowed + 4 global':<46} reference {reference:7.3f} s   sdpa {sdpa:7.3f} s   "
        f"speedup {reference / sdpa:.2f}x (estimated from the blocks' fastest rounds)"
    )
    print(f"P1 encoder speedup @256 {whole['speedup']:.2f}x, @1024 {reference / sdpa:.2f}x (goal >= 1.5x)")


if __name__ == "__main__":
    main()
