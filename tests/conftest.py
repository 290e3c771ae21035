"""Shared fixtures: where the real data lives, and a tiny model every test can afford."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    """../shared/data beside the project, or $SAMUNET_TUNE_SHARED_DATA."""
    return Path(os.environ.get("SAMUNET_TUNE_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder; tests that need it skip with the reason when it is absent."""
    root = shared_data_root()
    if not root.is_dir():
        pytest.skip(f"real data not found at {root} (set SAMUNET_TUNE_SHARED_DATA to use another folder)")
    return root


@pytest.fixture
def shared_dataset(shared_data: Path):
    """shared_dataset('kvasir-seg-mini') -> its folder, skipping when that one data set is absent."""

    def get(name: str) -> Path:
        folder = shared_data / name
        if not folder.is_dir():
            pytest.skip(f"{folder} is absent")
        return folder

    return get


@pytest.fixture
def tiny_model():
    """A fresh random samunet_tiny (seeded): every code path of the real model, in milliseconds."""
    import torch

    from samunet_tune import create_model

    torch.manual_seed(0)
    return create_model("samunet_tiny")
