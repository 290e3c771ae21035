"""save_pretrained / from_pretrained: identical outputs, strict loading, clear errors."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from samunet_tune import Prompts, SamUNet, create_model
from samunet_tune.modeling.weights_io import WeightsError


def _outputs(model):
    torch.manual_seed(1)
    size = model.config.image_size
    images = torch.randn(2, 3, size, size)
    prompts = Prompts(boxes=torch.tensor([[4.0, 4, 60, 60], [10, 20, 100, 120]]))
    with torch.no_grad():
        return model.eval()(images, prompts)


def test_round_trip_gives_identical_outputs(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    assert {"config.json", "model.safetensors", "README.md"} <= {p.name for p in tmp_path.iterdir()}
    loaded = SamUNet.from_pretrained(tmp_path)
    assert not loaded.training
    assert loaded.config == tiny_model.config
    assert torch.equal(_outputs(tiny_model), _outputs(loaded))


def test_config_json_holds_primitive_fields(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["conv_branch"] == "resnet10" and config["image_size"] == 128
    assert all(isinstance(v, (int, float, str, list)) for v in config.values())


def test_model_card_is_written(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    card = (tmp_path / "README.md").read_text()
    assert "library_name: samunet-tune" in card and "pipeline_tag: image-segmentation" in card
    assert "not for clinical decisions" in card


def test_truncated_weights_name_the_file(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(WeightsError, match="model.safetensors.*truncated or corrupted"):
        SamUNet.from_pretrained(tmp_path)


def test_garbage_weights_name_the_file(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError, match="model.safetensors"):
        SamUNet.from_pretrained(tmp_path)


def test_missing_key_is_an_error_not_a_partial_load(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    del state["mask_decoder.mask_token.weight"]
    save_file(state, tmp_path / "model.safetensors")
    with pytest.raises(WeightsError, match="missing: mask_decoder.mask_token.weight"):
        SamUNet.from_pretrained(tmp_path)


def test_unexpected_key_is_an_error(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    state["extra.weight"] = torch.zeros(3)
    save_file(state, tmp_path / "model.safetensors")
    with pytest.raises(WeightsError, match="unexpected: extra.weight"):
        SamUNet.from_pretrained(tmp_path)


def test_config_that_does_not_fit_the_weights(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["vit_embed_dim"] = 128
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="wrong shape"):
        SamUNet.from_pretrained(tmp_path)


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors"])
def test_missing_file_is_named(tiny_model, tmp_path, missing):
    tiny_model.save_pretrained(tmp_path)
    (tmp_path / missing).unlink()
    with pytest.raises(FileNotFoundError, match=missing):
        SamUNet.from_pretrained(tmp_path)


def test_create_model_pretrained_from_folder(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    loaded = create_model("samunet_tiny", pretrained=tmp_path)
    assert torch.equal(_outputs(tiny_model), _outputs(loaded))
    with pytest.raises(ValueError, match="not 'samunet_vit_b_res34'"):
        create_model("samunet_vit_b_res34", pretrained=tmp_path)
