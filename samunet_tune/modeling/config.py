"""SamUNetConfig: every size of the architecture, as primitive fields that serialise to config.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

CONV_BRANCH_CHOICES = ("resnet10", "resnet18", "resnet34", "resnet50")
VIT_ATTENTION_CHOICES = ("sdpa", "reference")


@dataclass
class SamUNetConfig:
    """Architecture hyper-parameters; defaults are the paper's ViT-B + ResNet-34 at 256.

    Args:
        image_size: side of the square model input; the longest image side is resized to it.
        patch_size: ViT patch size; the token grid is image_size / patch_size.
        vit_embed_dim, vit_depth, vit_num_heads, vit_mlp_ratio: ViT width, blocks, heads, MLP ratio.
        vit_window_size: window of the windowed-attention blocks (SAM: 14).
        vit_global_attn_indexes: the four global-attention blocks; conv features are fused just
            before each, and the first three also feed the multi-scale bridges.
        conv_branch: torchvision ResNet layout of the convolutional branch.
        prompt_embed_dim: width of the neck output, prompt embeddings and two-way transformer.
        mask_in_chans: hidden channels of the prompt encoder's mask downscaling.
        decoder_depth, decoder_num_heads, decoder_mlp_dim: the two-way transformer.
        feature_dim: channels of the S/4 multi-scale feature the mask is read from (32).
        vit_attention: how the ViT computes attention, same weights either way: "sdpa" (fused
            scaled_dot_product_attention, faster; see BENCHMARKS.md) or "reference" (segment-anything's).
    """

    image_size: int = 256
    patch_size: int = 16
    vit_embed_dim: int = 768
    vit_depth: int = 12
    vit_num_heads: int = 12
    vit_mlp_ratio: float = 4.0
    vit_window_size: int = 14
    vit_global_attn_indexes: list[int] = field(default_factory=lambda: [2, 5, 8, 11])
    conv_branch: str = "resnet34"
    prompt_embed_dim: int = 256
    mask_in_chans: int = 16
    decoder_depth: int = 2
    decoder_num_heads: int = 8
    decoder_mlp_dim: int = 2048
    feature_dim: int = 32
    vit_attention: str = "sdpa"

    def __post_init__(self) -> None:
        self.vit_global_attn_indexes = [int(i) for i in self.vit_global_attn_indexes]
        problems = []
        if self.image_size % 32 != 0:
            # Four stride-2 conv stages and the S/4 decoder output need a multiple of 32.
            problems.append(f"image_size={self.image_size} must be a multiple of 32")
        if self.patch_size != 16:
            problems.append("patch_size must be 16: the bridges upsample the token grid 4x to S/4")
        if len(self.vit_global_attn_indexes) != 4:
            problems.append("vit_global_attn_indexes needs exactly 4 blocks, one per conv stage")
        if sorted(set(self.vit_global_attn_indexes)) != self.vit_global_attn_indexes or (
            self.vit_global_attn_indexes and not 0 <= self.vit_global_attn_indexes[-1] < self.vit_depth
        ):
            problems.append(
                f"vit_global_attn_indexes={self.vit_global_attn_indexes} must be increasing block "
                f"indexes below vit_depth={self.vit_depth}"
            )
        if self.vit_attention not in VIT_ATTENTION_CHOICES:
            problems.append(f"vit_attention={self.vit_attention!r} is not one of {VIT_ATTENTION_CHOICES}")
        if self.conv_branch not in CONV_BRANCH_CHOICES:
            problems.append(f"conv_branch={self.conv_branch!r} is not one of {CONV_BRANCH_CHOICES}")
        if self.vit_embed_dim % self.vit_num_heads or self.prompt_embed_dim % self.decoder_num_heads:
            problems.append("embedding widths must be divisible by their number of heads")
        if problems:
            raise ValueError("invalid SamUNetConfig: " + "; ".join(problems))

    @property
    def token_grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def low_res_size(self) -> int:
        """Side of the logits the decoder returns (S/4)."""
        return self.image_size // 4

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "SamUNetConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown SamUNetConfig field(s) {unknown}; known: {sorted(known)}")
        return cls(**values)
