"""The reference SAM-UNet checkpoint format maps 1:1 onto SamUNet."""

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from samunet_tune import SamUNet, create_model
from samunet_tune.cli import cli
from samunet_tune.convert.reference import convert_reference_checkpoint, convert_reference_state_dict, reference_key_to_ours
from samunet_tune.convert.torch_files import UnsafeCheckpointError
from samunet_tune.modeling.weights_io import check_state_dict_matches

KEY_LISTS = Path(__file__).resolve().parents[1] / "fixtures" / "reference_keys"


def reference_keys(variant: str) -> list[tuple[str, tuple[int, ...]]]:
    entries = []
    for line in (KEY_LISTS / f"samunet_{variant}_keys.txt").read_text().splitlines():
        name, _, shape = line.partition(" ")
        entries.append((name, tuple(int(x) for x in shape.strip("()").split(",") if x.strip())))
    return entries


def generated_reference_state(variant: str) -> dict[str, torch.Tensor]:
    """Random tensors with exactly the reference names and shapes (distinct values per key)."""
    generator = torch.Generator().manual_seed(0)
    state = {}
    for name, shape in reference_keys(variant):
        if name.endswith("num_batches_tracked"):
            state[name] = torch.randint(0, 1000, shape, generator=generator)
        else:
            state[name] = torch.randn(shape, generator=generator)
    return state


@pytest.mark.parametrize("variant", ["res34", "res50"])
def test_every_reference_key_maps_one_to_one(variant):
    state = generated_reference_state(variant)
    ours = convert_reference_state_dict(state)
    assert len(ours) == len(state)  # no two reference keys land on the same name
    model = create_model(f"samunet_vit_b_{variant}")
    check_state_dict_matches(model, ours, source=variant)  # names and shapes, both directions


def test_bridge_order_is_reversed():
    assert reference_key_to_ours("adapters_bridge.2.0.weight") == "bridges.0.0.weight"
    assert reference_key_to_ours("adapters_bridge.0.3.bias") == "bridges.2.3.bias"
    assert reference_key_to_ours("resnet.stage0.1.running_mean") == "conv_branch.stem.1.running_mean"
    assert reference_key_to_ours("resnet.stage4.2.conv1.weight") == "conv_branch.stages.3.2.conv1.weight"


def test_unknown_key_is_rejected():
    with pytest.raises(KeyError, match="mask_decoder.iou_token.weight"):
        convert_reference_state_dict({"mask_decoder.iou_token.weight": torch.zeros(1, 256)})


@pytest.fixture(scope="module")
def reference_file(tmp_path_factory):
    """A checkpoint laid out as the reference release saves it, pickled optimizer included."""
    state = generated_reference_state("res34")
    holder = torch.nn.Linear(2, 2)
    optimizer = torch.optim.Adam(holder.parameters(), lr=1e-4)
    path = tmp_path_factory.mktemp("reference") / "samunet_res34.pth"
    torch.save({"model": state, "optimizer": optimizer}, path)
    return path, state


def test_pickled_file_is_refused_without_opt_in(reference_file):
    path, _ = reference_file
    with pytest.raises(UnsafeCheckpointError, match="--trust-pickle"):
        convert_reference_checkpoint(path)


def test_every_tensor_arrives_unchanged(reference_file):
    path, state = reference_file
    model = convert_reference_checkpoint(path, trust_pickle=True)
    ours = model.state_dict()
    assert len(ours) == len(state)
    for key, tensor in state.items():
        assert torch.equal(ours[reference_key_to_ours(key)], tensor), key


def test_cli_converts_to_a_loadable_folder(reference_file, tmp_path):
    path, state = reference_file
    runner = CliRunner()
    refused = runner.invoke(cli, ["convert", "reference", str(path), str(tmp_path / "no")])
    assert refused.exit_code != 0 and "--trust-pickle" in refused.output
    result = runner.invoke(cli, ["convert", "reference", str(path), str(tmp_path / "out"), "--trust-pickle"])
    assert result.exit_code == 0, result.output
    loaded = SamUNet.from_pretrained(tmp_path / "out")
    assert torch.equal(loaded.state_dict()["fusion.3.0.weight"], state["adapters_in.3.reshaper.0.weight"])


def test_convert_help_documents_both_formats():
    result = CliRunner().invoke(cli, ["convert", "--help"])
    assert result.exit_code == 0
    assert "reference" in result.output and "sam_vit_b_01ec64.pth" in result.output
