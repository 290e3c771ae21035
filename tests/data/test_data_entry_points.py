"""Third-party plugins through the `samunet_tune.datasets` entry point, found by importlib.metadata.

Each test writes a real ``*.dist-info`` (METADATA + entry_points.txt) into tmp_path and puts it on
sys.path: that is what ``pip install`` leaves behind, so discovery runs exactly as for an
installed package. The example package's entry points are read from its own pyproject.toml.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from samunet_tune.data import DATASETS, build_dataset, list_datasets
from samunet_tune.data.cli import data
from samunet_tune.registry import DISABLE_ENTRY_POINTS_ENV, RegistryError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "samunet-tune-plugin-example"
GROUP = "samunet_tune.datasets"


def example_entry_points() -> dict[str, str]:
    pyproject = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    return pyproject["project"]["entry-points"][GROUP]


def write_distribution(site: Path, name: str, entry_points: dict[str, str]) -> None:
    info = site / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh site folder on sys.path; the registry forgets what it found there afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv(DISABLE_ENTRY_POINTS_ENV, raising=False)
    DATASETS.refresh_entry_points()
    objects, lazy = dict(DATASETS._objects), dict(DATASETS._lazy)
    yield folder
    # Restore the registry exactly: drop what the test's entry points added, keep the built-ins.
    DATASETS._objects.clear()
    DATASETS._objects.update(objects)
    DATASETS._lazy.clear()
    DATASETS._lazy.update(lazy)
    sys.modules.pop("samunet_tune_plugin_example", None)
    DATASETS.refresh_entry_points()


@pytest.fixture
def example_installed(site, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    write_distribution(site, "samunet-tune-plugin-example", example_entry_points())
    DATASETS.refresh_entry_points()
    return site


def write_npz_folder(folder: Path) -> Path:
    folder.mkdir()
    for i in range(3):
        label = np.zeros((20, 30), np.uint8)
        label[2:8, 3:9] = 1
        label[10:15, 10 + i : 20 + i] = 2
        np.savez(folder / f"scan{i}.npz", image=np.full((20, 30), 40 * i, np.int16), label=label)
    (folder / "classes.json").write_text('{"1": "kidney", "2": "cyst"}')
    return folder


def test_example_package_declares_its_plugin():
    assert example_entry_points() == {"npz-folder": "samunet_tune_plugin_example:NpzFolderDataset"}


def test_installed_example_plugin_is_found_and_loads_data(example_installed, tmp_path):
    assert "npz-folder" in list_datasets()
    assert "samunet_tune_plugin_example" not in sys.modules  # discovered, not imported yet
    dataset = build_dataset("npz-folder", root=write_npz_folder(tmp_path / "npz"), modality="ct")
    assert len(dataset) == 3
    sample = dataset[1]
    assert sample.class_names == ["kidney", "cyst"]
    assert sample.masks[1].mask.sum() == 5 * 10
    assert sample.modality == "ct" and sample.sample_id == "scan1"


def test_example_plugin_works_through_the_inspect_command(example_installed, tmp_path):
    root = write_npz_folder(tmp_path / "npz")
    result = CliRunner().invoke(data, ["inspect", "npz-folder", str(root), "--out", str(tmp_path / "sheet.png")])
    assert result.exit_code == 0, result.output
    assert "samples: 3" in result.output and "cyst 3" in result.output


def test_broken_entry_point_warns_with_its_name_and_is_an_error_only_when_used(site):
    write_distribution(site, "broken-plugin-package", {"broken-plugin": "no_such_module_anywhere:Thing"})
    DATASETS.refresh_entry_points()
    assert "broken-plugin" in list_datasets()
    with pytest.warns(UserWarning, match="broken-plugin"):
        loaded = DATASETS.load_all()
    assert "folder" in loaded and "broken-plugin" not in loaded
    with pytest.raises(RegistryError, match="no_such_module_anywhere:Thing"):
        build_dataset("broken-plugin", root=".")


def test_broken_entry_point_does_not_break_import(site):
    write_distribution(site, "broken-plugin-package", {"broken-plugin": "no_such_module_anywhere:Thing"})
    code = "import samunet_tune, samunet_tune.data as d; print(' '.join(d.list_datasets()))"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    environment.pop(DISABLE_ENTRY_POINTS_ENV, None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "broken-plugin" in result.stdout.split() and "folder" in result.stdout.split()


def test_entry_point_reusing_a_built_in_name_is_refused(site):
    write_distribution(site, "impostor", {"folder": "no_such_module_anywhere:Folder"})
    DATASETS.refresh_entry_points()
    with pytest.warns(UserWarning, match="'folder'.*duplicates an existing name"):
        DATASETS.names()
    assert DATASETS.get("folder").__module__ == "samunet_tune.plugins.folder"


def test_environment_variable_turns_entry_points_off(example_installed, monkeypatch):
    monkeypatch.setenv(DISABLE_ENTRY_POINTS_ENV, "1")
    assert "npz-folder" not in list_datasets()
    with pytest.raises(RegistryError, match="unknown dataset plugin 'npz-folder'"):
        build_dataset("npz-folder", root=".")
    monkeypatch.setenv(DISABLE_ENTRY_POINTS_ENV, "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "npz-folder" in list_datasets()
