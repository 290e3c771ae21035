"""LoRA adapters: published with their base named by Hub id, pulled with `load_pretrained`, which
loads the base first (from a folder, the HF cache or the Hub) and gives identical outputs."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from huggingface_hub import ModelCard

from samunet_tune import SamUNet
from samunet_tune.hub import load_pretrained
from samunet_tune.hub.cli import push_command
from samunet_tune.hub.source import find_source
from samunet_tune.hub.staging import resolve_base_model
from samunet_tune.strategies import build_strategy
from tests.hub.cache_layout import put_in_cache

BASE_REPO = "samunet-tune-test/tiny-base"
ADAPTER_REPO = "samunet-tune-test/tiny-base-synthetic-lora-vit"


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    """(base folder, adapter folder, the adapted model's outputs); the adapter names the base folder."""
    from samunet_tune import create_model
    from tests.hub.conftest import model_outputs

    folder = tmp_path_factory.mktemp("adapter")
    torch.manual_seed(0)
    base = create_model("samunet_tiny")
    base.save_pretrained(folder / "base")
    strategy = build_strategy("lora-vit", targets=["qkv", "proj"], blocks=[1, 3], train_also=["mask_decoder"])
    module = strategy.apply(base)
    torch.manual_seed(5)
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.requires_grad:
                parameter.add_(0.05 * torch.randn_like(parameter))  # LoRA B starts at 0: make it matter
    strategy.save_final(module, folder / "adapter", base_model=str(folder / "base"))
    return folder / "base", folder / "adapter", model_outputs(module)


@pytest.fixture(scope="module")
def published(adapter, tmp_path_factory):
    """The dry-run folders of the base (as BASE_REPO) and of the adapter (naming BASE_REPO)."""
    base_dir, adapter_dir, _ = adapter
    folder = tmp_path_factory.mktemp("published")
    assert _push(base_dir, "--repo-id", BASE_REPO, "--dry-run", "--staging-dir", folder / "base").exit_code == 0
    result = _push(adapter_dir, "--repo-id", ADAPTER_REPO, "--base-model", BASE_REPO, "--dry-run",
                   "--staging-dir", folder / "adapter")
    assert result.exit_code == 0, result.output
    return folder / "base", folder / "adapter"


def _push(*args):
    return CliRunner().invoke(push_command, [str(a) for a in args])


def test_an_adapter_on_a_local_base_needs_the_base_published_first(adapter, tmp_path):
    _, adapter_dir, _ = adapter
    result = _push(adapter_dir, "--repo-id", ADAPTER_REPO, "--dry-run", "--staging-dir", tmp_path / "staged")
    assert result.exit_code != 0
    assert "local folder" in result.output and "--base-model ORG/BASE" in result.output


def test_the_published_adapter_names_its_base_by_hub_id(published):
    _, staged = published
    assert sorted(p.name for p in staged.iterdir()) == [
        "README.md", "adapter_config.json", "adapter_model.safetensors", "config.json"]
    assert json.loads((staged / "adapter_config.json").read_text())["base_model_name_or_path"] == BASE_REPO
    card = ModelCard.load(staged / "README.md")
    assert card.data.base_model == BASE_REPO and card.data.base_model_relation == "adapter"
    assert {"lora", "peft"} <= set(card.data.tags) and card.data.library_name == "samunet-tune"
    assert f'load_pretrained("{ADAPTER_REPO}", merge=True)' in card.text


def test_the_dry_run_folder_loads_its_base_from_the_cache(adapter, published, hf_cache, offline, outputs_of):
    _, _, reference = adapter
    staged_base, staged_adapter = published
    put_in_cache(hf_cache, BASE_REPO, staged_base)
    assert torch.equal(outputs_of(load_pretrained(staged_adapter)), reference)


def test_the_adapter_loads_by_repo_id_offline(adapter, published, hf_cache, offline, outputs_of):
    _, _, reference = adapter
    staged_base, staged_adapter = published
    put_in_cache(hf_cache, BASE_REPO, staged_base)
    put_in_cache(hf_cache, ADAPTER_REPO, staged_adapter)
    merged = load_pretrained(ADAPTER_REPO, merge=True)
    assert type(merged) is SamUNet
    torch.testing.assert_close(outputs_of(merged), reference, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"LoRA adapter repository.*samunet_tune\.hub\.load_pretrained"):
        SamUNet.from_pretrained(ADAPTER_REPO)


def test_load_pretrained_takes_full_models_and_a_base_override(adapter, outputs_of):
    base_dir, adapter_dir, reference = adapter
    plain = load_pretrained(base_dir)
    assert type(plain) is SamUNet and not plain.training
    with pytest.raises(ValueError, match="holds LoRA adapter files.*load_pretrained"):
        SamUNet.from_pretrained(adapter_dir)
    assert torch.equal(outputs_of(load_pretrained(adapter_dir, base_model=str(base_dir))), reference)


def test_base_names_become_hub_ids_or_are_refused(adapter):
    _, adapter_dir, _ = adapter
    source = find_source(adapter_dir)
    assert resolve_base_model(source, "samunet_vit_b_res34") == "samunet-tune/samunet_vit_b_res34"
    with pytest.raises(ValueError, match="'samunet_tiny', which has no published weights"):
        resolve_base_model(source, "samunet_tiny")
    with pytest.raises(ValueError, match="neither a registered model name nor a Hub repo id"):
        resolve_base_model(source, "not a repo")
