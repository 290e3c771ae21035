"""The model is the spec's: exact parameter counts, registry, config checks, forward shapes."""

import pytest
import torch

import samunet_tune
from samunet_tune import Prompts, SamUNetConfig, create_model, list_models
from samunet_tune.registry import RegistryError

# Per-part counts from the spec's table: (part, res34, res50).
SPEC_PARTS = [
    ("image_encoder", 86_672_640, 86_672_640),
    ("conv_branch", 21_284_672, 23_508_032),
    ("fusion", 1_980_032, 22_164_992),
    ("bridges", 2_460_000, 2_460_000),
    ("neck_upsampler", 73_952, 73_952),
    ("prompt_encoder", 6_220, 6_220),
    ("mask_decoder.transformer", 3_291_264, 3_291_264),
    ("mask_decoder.output_upscaling", 73_952, 73_952),
    ("mask_decoder.mask_token", 256, 256),
    ("mask_decoder.token_mlp", 139_808, 139_808),
    ("mask_decoder.feature_refiner", 37_088, 37_088),
]


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def paper_models():
    return {"res34": create_model("samunet_vit_b_res34"), "res50": create_model("samunet_vit_b_res50")}


def test_exact_parameter_counts(paper_models):
    assert paper_models["res34"].num_parameters() == 116_019_884
    assert paper_models["res50"].num_parameters() == 138_428_204


@pytest.mark.parametrize("part,res34,res50", SPEC_PARTS)
def test_part_counts_match_spec(paper_models, part, res34, res50):
    for variant, expected in (("res34", res34), ("res50", res50)):
        assert _count(paper_models[variant].get_submodule(part)) == expected, (variant, part)


def test_state_dict_has_as_many_entries_as_the_reference(paper_models):
    # The reference key lists hold 559 (res34) and 661 (res50) entries, buffers included.
    assert len(paper_models["res34"].state_dict()) == 559
    assert len(paper_models["res50"].state_dict()) == 661


def test_registry_lists_and_filters():
    assert {"samunet_vit_b_res34", "samunet_vit_b_res50", "samunet_tiny"} <= set(list_models())
    assert list_models("*res5*") == ["samunet_vit_b_res50"]


def test_unknown_model_lists_known_names():
    with pytest.raises(RegistryError, match="samunet_tiny"):
        create_model("samunet_vit_h")


def test_unknown_override_is_an_error():
    with pytest.raises(TypeError, match="known fields"):
        create_model("samunet_tiny", hidden_size=3)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"image_size": 250}, "multiple of 32"),
        ({"vit_global_attn_indexes": [1, 3, 5]}, "exactly 4"),
        ({"conv_branch": "vgg16"}, "not one of"),
        ({"vit_global_attn_indexes": [1, 3, 5, 9]}, "below vit_depth"),
    ],
)
def test_invalid_configs_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        create_model("samunet_tiny", **overrides)


def test_top_level_exports():
    for name in ("SamUNet", "SamUNetPredictor", "create_model", "list_models"):
        assert hasattr(samunet_tune, name)


def test_forward_variable_prompts_per_image(tiny_model):
    tiny_model.eval()  # BatchNorm in train mode would mix the images of a batch
    size = tiny_model.config.image_size
    images = torch.randn(3, 3, size, size)
    boxes = torch.tensor([[4.0, 4, 40, 40], [10, 10, 100, 90], [0, 0, 30, 30], [20, 30, 60, 100], [1, 1, 127, 127]])
    # image 0 gets one prompt, image 1 none, image 2 four.
    prompts = Prompts(boxes=boxes, image_index=torch.tensor([0, 2, 2, 2, 2]))
    logits = tiny_model(images, prompts)
    assert logits.shape == (5, 1, size // 4, size // 4)
    # Each prompt's logits depend only on its own image: recompute prompt 0 alone.
    alone = tiny_model(images[:1], Prompts(boxes=boxes[:1]))
    torch.testing.assert_close(logits[:1], alone, rtol=1e-5, atol=1e-5)


def test_points_and_mask_prompts(tiny_model):
    size = tiny_model.config.image_size
    images = torch.randn(2, 3, size, size)
    points = torch.tensor([[[30.0, 30.0], [60.0, 70.0]], [[10.0, 90.0], [0.0, 0.0]]])
    labels = torch.tensor([[1, 0], [1, -1]])
    masks = torch.randn(2, 1, size // 4, size // 4)
    logits = tiny_model(images, Prompts(points=points, point_labels=labels, masks=masks))
    assert logits.shape == (2, 1, size // 4, size // 4)
    with_box = tiny_model(images, Prompts(boxes=torch.tensor([[0.0, 0, 50, 50], [5, 5, 60, 60]]), points=points, point_labels=labels))
    assert with_box.shape == logits.shape


def test_gradients_reach_every_trainable_part(tiny_model):
    size = tiny_model.config.image_size
    tiny_model.train()
    logits = tiny_model(torch.randn(2, 3, size, size), Prompts(boxes=torch.tensor([[4.0, 4, 60, 60], [8, 8, 90, 90]])))
    logits.square().mean().backward()
    for part in ("conv_branch", "fusion", "bridges", "neck_upsampler", "prompt_encoder", "mask_decoder", "image_encoder"):
        grads = [p.grad for p in tiny_model.get_submodule(part).parameters() if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads), part


def test_training_forward_does_not_use_no_grad_sam_forward(tiny_model):
    size = tiny_model.config.image_size
    logits = tiny_model(torch.randn(1, 3, size, size), Prompts(boxes=torch.tensor([[4.0, 4, 60, 60]])))
    assert logits.requires_grad


def test_image_size_1024_works():
    model = create_model("samunet_tiny", image_size=1024).eval()
    with torch.no_grad():
        encoding = model.encode_image(torch.randn(1, 3, 1024, 1024))
        logits = model.decode(encoding, Prompts(boxes=torch.tensor([[100.0, 100, 600, 700]])))
    assert encoding.embedding.shape == (1, 64, 64, 64)
    assert encoding.multi_scale.shape == (1, 8, 256, 256)
    assert logits.shape == (1, 1, 256, 256)


def test_paper_config_at_1024_builds():
    config = SamUNetConfig(image_size=1024)
    assert config.token_grid == 64 and config.low_res_size == 256


def test_prompt_count_mismatch_is_explained(tiny_model):
    size = tiny_model.config.image_size
    with pytest.raises(ValueError, match="image_index"):
        tiny_model(torch.randn(2, 3, size, size), Prompts(boxes=torch.zeros(3, 4)))
