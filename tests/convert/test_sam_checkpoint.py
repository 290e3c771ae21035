"""SAM's own checkpoint layout initialises the shared parts, resized to the SAM-UNet input."""

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from segment_anything import sam_model_registry
from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer
from torch import nn

from samunet_tune import SamUNet
from samunet_tune.cli import cli
from samunet_tune.convert.sam_checkpoint import convert_sam_checkpoint, load_sam_weights, resize_rel_pos


@pytest.fixture(scope="module")
def sam_vit_b_file(tmp_path_factory):
    """segment-anything's vit_b with random weights, saved as the released checkpoint is."""
    torch.manual_seed(0)
    sam = sam_model_registry["vit_b"]()
    with torch.no_grad():
        for name, parameter in sam.named_parameters():
            if "rel_pos" in name:  # SAM zero-initialises these; make the resize observable
                parameter.normal_()
    path = tmp_path_factory.mktemp("sam") / "sam_vit_b_01ec64.pth"
    torch.save(sam.state_dict(), path)
    return path, sam.state_dict()


def test_vit_b_checkpoint_initialises_samunet_res34(sam_vit_b_file):
    path, sam_state = sam_vit_b_file
    model, report = convert_sam_checkpoint(path, "samunet_vit_b_res34")
    ours = model.state_dict()
    expected_pos = F.interpolate(sam_state["image_encoder.pos_embed"].permute(0, 3, 1, 2), size=(16, 16), mode="bilinear", align_corners=False)
    torch.testing.assert_close(ours["image_encoder.pos_embed"], expected_pos.permute(0, 2, 3, 1))
    # Global blocks: 127 -> 31 rows; windowed blocks keep their 27 rows untouched.
    assert ours["image_encoder.blocks.2.attn.rel_pos_h"].shape == (31, 64)
    torch.testing.assert_close(ours["image_encoder.blocks.11.attn.rel_pos_w"], resize_rel_pos(sam_state["image_encoder.blocks.11.attn.rel_pos_w"], 31))
    assert torch.equal(ours["image_encoder.blocks.0.attn.rel_pos_h"], sam_state["image_encoder.blocks.0.attn.rel_pos_h"])
    for key in ("image_encoder.blocks.7.attn.qkv.weight", "image_encoder.neck.2.weight", "prompt_encoder.point_embeddings.2.weight",
                "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix", "mask_decoder.transformer.layers.1.mlp.lin2.weight",
                "mask_decoder.output_upscaling.3.weight"):
        assert torch.equal(ours[key], sam_state[key]), key
    assert {k.split(".")[1] for k in report.unused} == {"iou_token", "mask_tokens", "output_hypernetworks_mlps", "iou_prediction_head"}
    assert len(report.resized) == 1 + 2 * 4  # pos_embed + rel_pos_h/w of 4 global blocks
    assert all(k.startswith(("conv_branch", "fusion", "bridges", "neck_upsampler", "mask_decoder.mask_token",
                             "mask_decoder.token_mlp", "mask_decoder.feature_refiner")) for k in report.left_at_init)


def test_resize_rel_pos_is_identity_when_sizes_match():
    table = torch.randn(27, 64)
    assert resize_rel_pos(table, 27) is table


def _tiny_sam() -> Sam:
    """A SAM of samunet_tiny's widths at SAM's 1024 input, as segment-anything builds them."""
    return Sam(
        image_encoder=ImageEncoderViT(
            img_size=1024, patch_size=16, embed_dim=64, depth=8, num_heads=2, out_chans=64, qkv_bias=True,
            norm_layer=lambda d: nn.LayerNorm(d, eps=1e-6), use_rel_pos=True, window_size=4, global_attn_indexes=(1, 3, 5, 7),
        ),
        prompt_encoder=PromptEncoder(embed_dim=64, image_embedding_size=(64, 64), input_image_size=(1024, 1024), mask_in_chans=8),
        mask_decoder=MaskDecoder(transformer_dim=64, transformer=TwoWayTransformer(depth=2, embedding_dim=64, mlp_dim=128, num_heads=2)),
    )


def test_cli_sam_conversion_of_a_tiny_sam(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "tiny_sam.pth"
    torch.save(_tiny_sam().state_dict(), path)
    result = CliRunner().invoke(cli, ["convert", "sam", str(path), str(tmp_path / "out"), "--model", "samunet_tiny"])
    assert result.exit_code == 0, result.output
    assert "SAM tensors unused" in result.output
    assert SamUNet.from_pretrained(tmp_path / "out").config.image_size == 128


def test_a_checkpoint_of_another_depth_is_rejected(tiny_model):
    sam_state = _tiny_sam().state_dict()
    sam_state["image_encoder.blocks.8.norm1.weight"] = torch.ones(64)
    with pytest.raises(ValueError, match="blocks.8"):
        load_sam_weights(tiny_model, sam_state)


def test_sam_checkpoint_with_pickles_is_refused(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save({"model": _tiny_sam()}, path)  # a whole pickled module, not a state dict
    from samunet_tune.convert.torch_files import UnsafeCheckpointError

    with pytest.raises(UnsafeCheckpointError):
        convert_sam_checkpoint(path, "samunet_tiny")
