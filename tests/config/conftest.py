"""Helpers for the recipe-machinery tests: small YAML recipes written to tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def write_recipe(tmp_path: Path):
    """write_recipe(text, name="r.yaml") -> the path of `text` (dedented) saved under tmp_path."""

    def write(text: str, name: str = "r.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write
