"""The dataset plugin registry: built-ins by name, clear errors, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from samunet_tune.data import DATASETS, build_dataset, list_datasets
from samunet_tune.data.base import PluginDataset
from samunet_tune.registry import RegistryError

BUILT_INS = ["dicom", "folder", "hf", "kvasir-seg", "nifti", "sa-med2d", "synthetic"]


def test_every_built_in_is_registered_and_imports():
    assert set(BUILT_INS) <= set(list_datasets())
    for name in BUILT_INS:
        plugin = DATASETS.get(name)
        assert issubclass(plugin, PluginDataset)
        assert plugin.plugin_name == name


def test_unknown_plugin_names_the_known_ones():
    with pytest.raises(RegistryError) as raised:
        build_dataset("no-such-plugin", root=".")
    message = str(raised.value)
    assert "no-such-plugin" in message
    for name in BUILT_INS:
        assert name in message


def test_unknown_option_lists_the_plugins_options():
    with pytest.raises(TypeError, match=r"no option\(s\) \['colour'\].*num_samples"):
        build_dataset("synthetic", colour="red")
    # a preset takes **options and hands them to its base plugin: the base's options are listed
    with pytest.raises(TypeError, match=r"'kvasir-seg' has no option\(s\) \['mask_folder'\].*masks_dir"):
        build_dataset("kvasir-seg", root=".", mask_folder="m")


def test_duplicate_registration_is_an_error():
    with pytest.raises(ValueError, match="duplicate dataset plugin name 'folder'"):
        DATASETS.register("folder", object)


def test_importing_the_data_package_imports_no_heavy_dependency():
    code = (
        "import sys, samunet_tune, samunet_tune.data as d; d.list_datasets(); "
        "heavy = [m for m in ('torch', 'nibabel', 'pydicom', 'datasets', 'matplotlib', 'scipy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
