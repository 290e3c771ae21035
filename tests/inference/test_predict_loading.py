"""load_model_for_inference: every kind of MODEL gives the same plain SamUNet; missing files are named."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from samunet_tune import Prompts, SamUNet
from samunet_tune.inference.loading import ModelLoadError, load_model_for_inference, resolve_model_folder
from tests.inference.helpers import make_lora_run

IMAGES = torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))
BOXES = torch.tensor([[10.0, 12.0, 70.0, 90.0]])


def outputs(module) -> torch.Tensor:
    with torch.no_grad():
        return module.eval()(IMAGES, Prompts(boxes=BOXES.clone()))


@pytest.fixture(scope="module")
def lora_run(tiny_model_dir, tmp_path_factory):
    return make_lora_run(tmp_path_factory.mktemp("lora"), tiny_model_dir)


def test_a_save_pretrained_folder_loads_in_eval_mode_without_gradients(tiny_model_dir):
    model = load_model_for_inference(tiny_model_dir)
    assert isinstance(model, SamUNet) and not model.training
    assert not any(p.requires_grad for p in model.parameters())
    torch.testing.assert_close(outputs(model), outputs(SamUNet.from_pretrained(tiny_model_dir)))


def test_a_lora_run_directory_loads_merged_and_matches_the_adapted_model(lora_run, tiny_model_dir):
    run, adapted = lora_run
    expected = outputs(adapted)
    for spec in (run, run / "final", run / "best"):
        model = load_model_for_inference(spec)
        assert type(model) is SamUNet  # merged: no peft wrapper left
        torch.testing.assert_close(outputs(model), expected, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(outputs(SamUNet.from_pretrained(tiny_model_dir)), expected, atol=1e-3)
    assert resolve_model_folder(run, "best") == run / "best"


def test_an_adapter_whose_base_moved_takes_base_model(lora_run, tiny_model_dir, tmp_path):
    run, adapted = lora_run
    adapter = shutil.copytree(run / "final", tmp_path / "adapter")
    config = json.loads((adapter / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tmp_path / "gone")
    (adapter / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(FileNotFoundError, match="gone.*does not exist.*--base-model"):
        load_model_for_inference(adapter)
    model = load_model_for_inference(adapter, base_model=tiny_model_dir)
    torch.testing.assert_close(outputs(model), outputs(adapted), atol=1e-5, rtol=1e-4)
    config["base_model_name_or_path"] = None
    (adapter / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="records no base_model_name_or_path"):
        load_model_for_inference(adapter)


@pytest.mark.parametrize(("remove", "message"), [
    ("model.safetensors", "model.safetensors is missing"),
    ("config.json", "config.json is missing"),
])
def test_a_model_folder_missing_a_file_names_it(tiny_model_dir, tmp_path, remove, message):
    broken = shutil.copytree(tiny_model_dir, tmp_path / "broken")
    (broken / remove).unlink()
    with pytest.raises(FileNotFoundError, match=message):
        load_model_for_inference(broken)


def test_an_adapter_missing_its_weights_names_the_file(lora_run, tmp_path):
    adapter = shutil.copytree(lora_run[0] / "final", tmp_path / "adapter")
    (adapter / "adapter_model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="adapter_model.safetensors is missing"):
        load_model_for_inference(adapter)


def test_a_run_without_final_suggests_best(lora_run, tmp_path):
    run = shutil.copytree(lora_run[0], tmp_path / "run", ignore=shutil.ignore_patterns("final"))
    with pytest.raises(FileNotFoundError, match="no final/ folder; use --checkpoint best"):
        load_model_for_inference(run)


def test_paths_that_do_not_exist_are_not_sent_to_the_hub(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model_for_inference(tmp_path / "nothing" / "here")
    with pytest.raises(ModelLoadError, match="is a file"):
        (tmp_path / "model.safetensors").write_bytes(b"")
        load_model_for_inference(tmp_path / "model.safetensors")
