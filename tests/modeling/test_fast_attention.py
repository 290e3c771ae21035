"""The sdpa attention backend computes segment-anything's attention: same outputs, same gradients."""

import copy
import json

import pytest
import torch
from segment_anything.modeling import ImageEncoderViT
from segment_anything.modeling.image_encoder import Attention, Block
from torch import nn

from samunet_tune import Prompts, SamUNet, create_model
from samunet_tune.modeling.attention import (
    SdpaAttention,
    SdpaBlock,
    attention_backend,
    set_attention_backend,
)
from samunet_tune.strategies import build_strategy

TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}


def _randomise_rel_pos(module: nn.Module) -> None:
    # SAM initialises the tables to zero: a broken bias path would still pass with them.
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if "rel_pos" in name:
                parameter.normal_(0, 0.1)


def _output_and_grads(module: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    module.zero_grad()
    x = x.clone().requires_grad_(True)
    out = module(x)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(7))
    (out * weights).sum().backward()
    grads = {name: p.grad.clone() for name, p in module.named_parameters() if p.grad is not None}
    return out.detach(), {"input": x.grad, **grads}


def _assert_same(reference: nn.Module, fast: nn.Module, x: torch.Tensor) -> None:
    expected, expected_grads = _output_and_grads(reference, x)
    actual, actual_grads = _output_and_grads(fast, x)
    torch.testing.assert_close(actual, expected, **TOLERANCE)
    assert actual_grads.keys() == expected_grads.keys()
    assert any("rel_pos" in name for name in expected_grads)
    for name, grad in expected_grads.items():
        torch.testing.assert_close(actual_grads[name], grad, **TOLERANCE, msg=lambda m, n=name: f"{n}: {m}")


# (case, dim, heads, window size (0 = global), token grid the tables are sized for, token grid fed)
BLOCK_CASES = [
    ("windowed @256 (16x16 grid padded to 28x28)", 768, 12, 14, 14, (16, 16)),
    ("global @256", 768, 12, 0, 16, (16, 16)),
    ("windowed @384 (24x24 padded to 28x28)", 192, 3, 14, 14, (24, 24)),
    ("windowed @448 (28x28, no padding)", 192, 3, 14, 14, (28, 28)),
    ("windowed, grid inside one window (10x10 in 14x14)", 96, 3, 14, 14, (10, 10)),
    ("windowed, non-square grid (16x30)", 96, 3, 14, 14, (16, 30)),
    ("global @384", 192, 3, 0, 24, (24, 24)),
    ("global, tables interpolated 16 -> 12", 192, 3, 0, 16, (12, 12)),
]


@pytest.mark.parametrize("case, dim, heads, window, table_grid, grid", BLOCK_CASES, ids=[c[0] for c in BLOCK_CASES])
def test_sdpa_block_equals_segment_anything_block(case, dim, heads, window, table_grid, grid):
    torch.manual_seed(0)
    reference = Block(dim, heads, use_rel_pos=True, window_size=window, input_size=(table_grid, table_grid))
    _randomise_rel_pos(reference)
    fast = copy.deepcopy(reference)
    fast.__class__, fast.attn.__class__ = SdpaBlock, SdpaAttention
    _assert_same(reference, fast, torch.randn(2, *grid, dim))


def test_sdpa_attention_module_alone_equals_segment_anything():
    torch.manual_seed(0)
    reference = Attention(96, num_heads=3, use_rel_pos=True, input_size=(14, 14))
    _randomise_rel_pos(reference)
    fast = copy.deepcopy(reference)
    fast.__class__ = SdpaAttention
    _assert_same(reference, fast, torch.randn(3, 14, 14, 96))


def _small_encoder(image_size: int) -> ImageEncoderViT:
    return ImageEncoderViT(
        img_size=image_size, embed_dim=96, depth=3, num_heads=3, out_chans=32, qkv_bias=True,
        norm_layer=lambda dim: nn.LayerNorm(dim, eps=1e-6), use_rel_pos=True, window_size=14,
        global_attn_indexes=(1,),
    )  # fmt: skip


@pytest.mark.parametrize("image_size", [256, 384])
def test_switching_a_segment_anything_encoder_keeps_weights_and_outputs(image_size):
    torch.manual_seed(0)
    encoder = _small_encoder(image_size).eval()
    _randomise_rel_pos(encoder)
    state = {key: value.clone() for key, value in encoder.state_dict().items()}
    images = torch.randn(1, 3, image_size, image_size)
    with torch.no_grad():
        expected = encoder(images)
        set_attention_backend(encoder, "sdpa")
        assert attention_backend(encoder) == "sdpa"
        assert all(type(block) is SdpaBlock and type(block.attn) is SdpaAttention for block in encoder.blocks)
        torch.testing.assert_close(encoder(images), expected, **TOLERANCE)
        assert encoder.state_dict().keys() == state.keys()
        assert all(torch.equal(encoder.state_dict()[key], value) for key, value in state.items())
        set_attention_backend(encoder, "reference")
        assert all(type(block) is Block and type(block.attn) is Attention for block in encoder.blocks)
        assert torch.equal(encoder(images), expected)  # back to segment-anything's own code, bit for bit
        set_attention_backend(encoder, "sdpa")
        torch.testing.assert_close(encoder(images), expected, **TOLERANCE)


def test_samunet_default_backend_comes_from_config():
    assert create_model("samunet_tiny").config.vit_attention == "sdpa"
    assert attention_backend(create_model("samunet_tiny")) == "sdpa"
    assert attention_backend(create_model("samunet_tiny", vit_attention="reference")) == "reference"
    with pytest.raises(ValueError, match=r"vit_attention='flash' is not one of \('sdpa', 'reference'\)"):
        create_model("samunet_tiny", vit_attention="flash")


def test_samunet_training_forward_equal_across_backends():
    """Whole model, padded windows (grid 6 -> 8), gradients into every trained part and the ViT."""
    torch.manual_seed(0)
    reference = create_model("samunet_tiny", image_size=96, vit_attention="reference")
    _randomise_rel_pos(reference)
    fast = copy.deepcopy(reference)
    set_attention_backend(fast, "sdpa")
    assert reference.state_dict().keys() == fast.state_dict().keys()

    prompts = Prompts(boxes=torch.tensor([[4.0, 8, 60, 70], [20, 10, 90, 80]]))
    images = torch.randn(2, 3, 96, 96)
    results = []
    for model in (reference, fast):
        model.train().zero_grad()
        loss = model(images, prompts).sigmoid().mean()
        loss.backward()
        results.append((loss.detach(), {n: p.grad for n, p in model.named_parameters() if p.grad is not None}))
    (loss_a, grads_a), (loss_b, grads_b) = results
    torch.testing.assert_close(loss_b, loss_a, **TOLERANCE)
    assert grads_a.keys() == grads_b.keys() and any(".rel_pos_h" in name for name in grads_a)
    for name in grads_a:
        torch.testing.assert_close(grads_b[name], grads_a[name], **TOLERANCE, msg=lambda m, n=name: f"{n}: {m}")


def test_round_trip_with_fast_backend_is_identical(tmp_path):
    torch.manual_seed(0)
    model = create_model("samunet_tiny").eval()
    _randomise_rel_pos(model)
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["vit_attention"] == "sdpa"
    loaded = SamUNet.from_pretrained(tmp_path)
    assert attention_backend(loaded) == "sdpa"
    images = torch.randn(1, 3, 128, 128)
    prompts = Prompts(boxes=torch.tensor([[10.0, 10, 90, 100]]))
    with torch.no_grad():
        assert torch.equal(loaded(images, prompts), model(images, prompts))
        set_attention_backend(loaded, "reference")
        torch.testing.assert_close(loaded(images, prompts), model(images, prompts), **TOLERANCE)
    loaded.save_pretrained(tmp_path / "switched")  # the switch is recorded in config.json
    assert json.loads((tmp_path / "switched" / "config.json").read_text())["vit_attention"] == "reference"
    assert attention_backend(SamUNet.from_pretrained(tmp_path / "switched")) == "reference"


def test_config_json_without_the_field_loads_with_the_default(tiny_model, tmp_path):
    """Folders saved before vit_attention existed, or by the reference converter, still load."""
    tiny_model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    del config["vit_attention"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert attention_backend(SamUNet.from_pretrained(tmp_path)) == "sdpa"


def test_lora_adapters_work_under_the_fast_backend():
    """peft wraps attn.qkv; the padded tokens' qkv(0) must go through the adapter too."""
    torch.manual_seed(0)
    base = create_model("samunet_tiny", image_size=96, vit_attention="reference")
    _randomise_rel_pos(base)
    module = build_strategy("lora-vit", targets=["qkv", "proj"]).apply(base)
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.05)  # peft starts B at zero: make the adapters count
    images = torch.randn(2, 3, 96, 96)
    prompts = Prompts(boxes=torch.tensor([[4.0, 8, 60, 70], [20, 10, 90, 80]]))
    module.eval()
    with torch.no_grad():
        expected = module(images, prompts)
        set_attention_backend(module, "sdpa")
        assert type(base.image_encoder.blocks[0]) is SdpaBlock
        torch.testing.assert_close(module(images, prompts), expected, **TOLERANCE)


def test_unknown_backend_names_the_choices(tiny_model):
    with pytest.raises(ValueError, match=r"'xformers' is not one of \('sdpa', 'reference'\)"):
        set_attention_backend(tiny_model, "xformers")
