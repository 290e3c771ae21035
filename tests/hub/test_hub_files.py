"""Only safetensors, JSON, YAML, Markdown and PNG leave the machine, checked by content; pickles never."""

from __future__ import annotations

import io
import pickle

import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from safetensors.torch import save_file

from samunet_tune.hub.cli import push_command
from samunet_tune.hub.files import UnpublishableFileError, check_publishable


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (4, 4)).save(buffer, format="PNG")
    return buffer.getvalue()


def _torch_save() -> bytes:
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buffer)
    return buffer.getvalue()


CASES = [  # (file name, content, None if publishable else the reason's words)
    ("config.json", b'{"a": 1}', None),
    ("recipe.yaml", b"model: {name: x}\n", None),
    ("README.md", b"# card\n", None),
    ("plot.png", _png(), None),
    ("pytorch_model.bin", pickle.dumps({"w": 1}), "a pickle"),
    ("model.pth", _torch_save(), "a pickle"),
    ("model.safetensors", _torch_save(), "not a safetensors file"),
    ("metrics.json", pickle.dumps([1]), "holds a pickle"),
    ("config.json", b"{not json", "not a valid JSON"),
    ("recipe.yaml", b"a: !!python/object:os.system {}\n", "not a valid YAML"),
    ("plot.png", b"GIF89a....", "not a PNG"),
    ("notes.txt", b"hello", "only .safetensors, .json"),
]


@pytest.mark.parametrize(("name", "content", "reason"), CASES)
def test_files_are_checked_by_name_and_content(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    if reason is None:
        check_publishable(path)
    else:
        with pytest.raises(UnpublishableFileError, match=reason):
            check_publishable(path)


def test_real_safetensors_pass_and_truncated_ones_do_not(tmp_path):
    path = tmp_path / "model.safetensors"
    for padding in range(0, 400, 8):  # a header length whose first byte is 0x80, like a pickle's
        save_file({"w": torch.zeros(3)}, path, metadata={"pad": "x" * padding})
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    check_publishable(path)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(UnpublishableFileError, match="not a complete safetensors file"):
        check_publishable(path)


def test_pickles_beside_the_weights_are_skipped_with_a_message(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "model")
    torch.save(tiny_model.state_dict(), tmp_path / "model" / "pytorch_model.bin")
    staged = tmp_path / "staged"
    result = CliRunner().invoke(push_command, [str(tmp_path / "model"), "--repo-id", "a/b", "--dry-run",
                                               "--staging-dir", str(staged)])
    assert result.exit_code == 0, result.output
    assert "pytorch_model.bin: a pickle: samunet-tune never publishes pickles" in result.output
    assert sorted(p.name for p in staged.iterdir()) == ["README.md", "config.json", "model.safetensors"]


def test_a_folder_with_only_a_pickle_is_refused_with_the_fix(tiny_model, tmp_path):
    (tmp_path / "model").mkdir()
    torch.save(tiny_model.state_dict(), tmp_path / "model" / "pytorch_model.bin")
    (tmp_path / "model" / "config.json").write_text("{}")
    result = CliRunner().invoke(push_command, [str(tmp_path / "model"), "--repo-id", "a/b", "--dry-run",
                                               "--staging-dir", str(tmp_path / "staged")])
    assert result.exit_code != 0
    assert "model.safetensors missing" in result.output and "never publishes pickles" in result.output
    assert "samunet-tune convert" in result.output


def test_a_pickle_named_safetensors_stops_the_dry_run(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "model")
    (tmp_path / "model" / "model.safetensors").write_bytes(_torch_save())
    result = CliRunner().invoke(push_command, [str(tmp_path / "model"), "--repo-id", "a/b", "--dry-run",
                                               "--staging-dir", str(tmp_path / "staged")])
    assert result.exit_code != 0 and "not a safetensors file" in result.output
    assert not (tmp_path / "staged" / "model.safetensors").exists()
