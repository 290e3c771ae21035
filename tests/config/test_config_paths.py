"""Checking that the paths a recipe names exist, with the key, line and what to pass."""

from __future__ import annotations

import pytest

from samunet_tune.config import RecipeError, check_paths, parse_recipe


@pytest.fixture
def recipe(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "weights.pt").write_bytes(b"")
    text = f"""\
data:
  train:
    root: {tmp_path}/images
  val:
    root: {tmp_path}/missing
  test:
    root: null
model:
  pretrained: weights.pt
"""
    return parse_recipe(text, "r.yaml")


def test_missing_path_message(recipe, tmp_path):
    with pytest.raises(RecipeError) as caught:
        check_paths(recipe.config, ["data.*.root"], recipe.lines)
    assert str(caught.value) == f"r.yaml:5: data.val.root: {tmp_path}/missing does not exist; pass data.val.root=PATH"


def test_kind_and_relative_root(recipe, tmp_path):
    check_paths(recipe.config, ["data.train.root"], recipe.lines, kind="dir")
    check_paths(recipe.config, ["model.pretrained", "absent.key"], recipe.lines, kind="file", root=tmp_path)
    problems = []
    check_paths(recipe.config, ["data.train.root"], recipe.lines, kind="file", problems=problems)
    assert [str(problem) for problem in problems] == [
        f"r.yaml:3: data.train.root: {tmp_path}/images is not a file; pass data.train.root=PATH"
    ]


def test_relative_to_working_directory(recipe, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_paths(recipe.config, ["model.pretrained"], recipe.lines)
    monkeypatch.chdir(tmp_path / "images")
    with pytest.raises(RecipeError, match=r"^r.yaml:9: model.pretrained: weights.pt does not exist"):
        check_paths(recipe.config, ["model.pretrained"], recipe.lines)
