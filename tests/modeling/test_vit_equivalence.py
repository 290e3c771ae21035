"""With the fusion contribution removed, our ViT branch is segment-anything's ImageEncoderViT."""

import pytest
import torch
from segment_anything.modeling import ImageEncoderViT
from torch import nn

from samunet_tune import create_model


def _sam_encoder_like(model) -> ImageEncoderViT:
    config = model.config
    sam = ImageEncoderViT(
        img_size=config.image_size,
        patch_size=config.patch_size,
        embed_dim=config.vit_embed_dim,
        depth=config.vit_depth,
        num_heads=config.vit_num_heads,
        mlp_ratio=config.vit_mlp_ratio,
        out_chans=config.prompt_embed_dim,
        qkv_bias=True,
        norm_layer=lambda dim: nn.LayerNorm(dim, eps=1e-6),
        use_rel_pos=True,
        window_size=config.vit_window_size,
        global_attn_indexes=tuple(config.vit_global_attn_indexes),
    )
    sam.load_state_dict(model.image_encoder.state_dict(), strict=True)
    return sam.eval()


@pytest.mark.parametrize("name", ["samunet_tiny", "samunet_vit_b_res34"])
def test_vit_branch_equals_segment_anything_when_fusion_is_zero(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    # Random, non-zero relative-position tables so that path is really compared.
    with torch.no_grad():
        for parameter_name, parameter in model.image_encoder.named_parameters():
            if "rel_pos" in parameter_name:
                parameter.normal_(0, 0.02)
        for adapter in model.fusion:
            adapter.projection.weight.zero_()
            adapter.projection.bias.zero_()
    sam = _sam_encoder_like(model)
    size = model.config.image_size
    images = torch.randn(2, 3, size, size)
    with torch.no_grad():
        ours = model.encode_image(images).embedding
        theirs = sam(images)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)


def test_fusion_changes_the_vit_output():
    """The converse: with the adapters live, the ViT output is not SAM's (fusion is wired in)."""
    torch.manual_seed(0)
    model = create_model("samunet_tiny").eval()
    sam = _sam_encoder_like(model)
    images = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        assert not torch.allclose(model.encode_image(images).embedding, sam(images), atol=1e-3)
