"""Data: dataset plugins, the common sample form, prompt simulation, transforms for training.

Dataset plugins live in the registry `DATASETS`. Built-ins (in the top-level ``plugins/``
folder, installed as ``samunet_tune.plugins``) are registered lazily, so nibabel, pydicom and
``datasets`` are imported only when their plugin is used; third-party packages join through the
``samunet_tune.datasets`` entry-point group (see "Write a dataset plugin" in CONTRIBUTING.md).

    >>> from samunet_tune.data import build_dataset
    >>> dataset = build_dataset("kvasir-seg", root="../shared/data/kvasir-seg-mini")
    >>> sample = dataset[0]          # a samunet_tune.data.sample.Sample

This module stays light (no torch, no numpy at import) because the CLI imports it.
"""

from __future__ import annotations

import inspect as _inspect
from typing import Any

from samunet_tune.lazy import lazy_getattr
from samunet_tune.registry import Registry, RegistryError

DATASETS: Registry = Registry("dataset plugin", entry_point_group="samunet_tune.datasets")

_BUILT_IN_PLUGINS = {
    "folder": "samunet_tune.plugins.folder:FolderDataset",
    "kvasir-seg": "samunet_tune.plugins.folder:KvasirSegDataset",
    "sa-med2d": "samunet_tune.plugins.sa_med2d:SaMed2dDataset",
    "nifti": "samunet_tune.plugins.nifti:NiftiDataset",
    "dicom": "samunet_tune.plugins.dicom:DicomDataset",
    "hf": "samunet_tune.plugins.hf:HuggingFaceDataset",
    "synthetic": "samunet_tune.plugins.synthetic:SyntheticDataset",
}
for _name, _reference in _BUILT_IN_PLUGINS.items():
    DATASETS.register_lazy(_name, _reference)

# Names importable from here without importing their (heavier) modules up front.
_LAZY_EXPORTS = {
    "Sample": "samunet_tune.data.sample",
    "MaskAnnotation": "samunet_tune.data.sample",
    "DataError": "samunet_tune.data.errors",
    "DataSkipWarning": "samunet_tune.data.errors",
    "PluginDataset": "samunet_tune.data.base",
    "PromptedDataset": "samunet_tune.data.training",
    "collate_prompted": "samunet_tune.data.training",
    "CachedDataset": "samunet_tune.data.cache",
}

__all__ = ["DATASETS", "build_dataset", "list_datasets", "check_plugin_options", *_LAZY_EXPORTS]


def list_datasets(pattern: str | None = None) -> list[str]:
    """Names of every dataset plugin (built-in and entry points), optionally fnmatch-filtered."""
    return DATASETS.names(pattern)


def check_plugin_options(name: str, plugin: Any, options: dict[str, Any]) -> None:
    """Reject options the plugin's constructor does not take, listing the ones it does."""
    accepted: list[str] = []
    # A preset (class Preset(Base): def __init__(self, root, **options)) passes its options on to
    # its base class: collect names up the class hierarchy until a signature without **options.
    for target in getattr(plugin, "__mro__", (plugin,)):
        if target is object:  # **options all the way up: nothing to check against
            return
        try:
            parameters = _inspect.signature(target).parameters
        except (TypeError, ValueError):  # some callables hide their signature; let the call decide
            return
        accepted += [n for n, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                     and n not in accepted]
        if not any(p.kind is _inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            break
    else:
        return
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"dataset plugin {name!r} has no option(s) {unknown}. Its options are: {', '.join(accepted)}"
        )


def build_dataset(name: str, *args: Any, **options: Any) -> Any:
    """Build the dataset of plugin `name` with keyword `options` (``root=...`` and the plugin's own).

    Args:
        name: a registered plugin name (``list_datasets()`` shows them).
        *args: passed on positionally (the CLI passes the data location this way).
        **options: the plugin's options.

    Raises:
        RegistryError: `name` is unknown (the message lists the known plugins) or its entry
            point fails to import.
        TypeError: an option the plugin does not take (the message lists the ones it does).
    """
    try:
        plugin = DATASETS.get(name)
    except ImportError as error:  # a built-in whose optional dependency is missing
        raise RegistryError(
            f"dataset plugin {name!r} needs a package that is not installed: {error}. "
            "Install it (pip install samunet-tune pulls every built-in's dependency)."
        ) from error
    check_plugin_options(name, plugin, options)
    return plugin(*args, **options)


__getattr__ = lazy_getattr(__name__, _LAZY_EXPORTS)
