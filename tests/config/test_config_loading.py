"""Loading recipes: line numbers for every key and list item, YAML 1.2 scalars, finding files."""

from __future__ import annotations

import pytest

from samunet_tune.config import RecipeError, find_recipe, load_recipe, parse_recipe, parse_yaml, shipped_recipes
from samunet_tune.config import loading

NESTED = """\
# samunet-tune r.yaml
seed: 0
optimizer:
  _component_: torch.optim.Adam
  lr: 1e-4
data:
  train:
    root: /data/kvasir
    transforms:
      - name: flip
        p: 0.5
      - name: rotate
  sizes: [256, 512]
milestones:
  - 10
  - 20
"""


def test_lines_of_nested_keys_and_list_items():
    recipe = parse_recipe(NESTED, "r.yaml")
    expected = {
        "seed": 2, "optimizer": 3, "optimizer._component_": 4, "optimizer.lr": 5,
        "data.train.root": 8, "data.train.transforms": 9, "data.train.transforms.0": 10,
        "data.train.transforms.0.name": 10, "data.train.transforms.0.p": 11,
        "data.train.transforms.1": 12, "data.train.transforms.1.name": 12,
        "data.sizes": 13, "data.sizes.1": 13, "milestones.0": 15, "milestones.1": 16,
    }
    assert {key: recipe.lines.line(key) for key in expected} == expected
    assert recipe.lines.location("milestones").value_line == 15  # block list starts below its key
    assert recipe.lines.where("data.train.root") == "r.yaml:8"
    assert recipe.lines.where("data.train.unknown") == "r.yaml:7"  # nearest known parent
    assert recipe.lines.where(()) == "r.yaml"
    assert recipe.header == "samunet-tune r.yaml"


def test_yaml_1_2_scalars():
    data, _ = parse_yaml("a: 1e-4\nb: 3.0E+2\nc: yes\nd: 010\ne: 2024-01-01\nf: 0x10\ng: ~\nh: .inf\ni: -2\nj: true\n")
    assert data == {"a": 1e-4, "b": 300.0, "c": "yes", "d": 10, "e": "2024-01-01", "f": 16, "g": None,
                    "h": float("inf"), "i": -2, "j": True}
    assert isinstance(data["a"], float) and isinstance(data["d"], int)


def test_merge_keys_keep_the_anchor_line():
    data, lines = parse_yaml("base: &base\n  lr: 1\nrun:\n  <<: *base\n  wd: 2\n", "m.yaml")
    assert data["run"] == {"lr": 1, "wd": 2}
    assert lines.line("run.lr") == 2 and lines.line("run.wd") == 5


def test_duplicate_key_names_both_lines():
    with pytest.raises(RecipeError, match=r"d.yaml:3: invalid YAML: duplicate key 'lr' \(first on line 2\)"):
        parse_recipe("optimizer:\n  lr: 1\n  lr: 2\n", "d.yaml")


def test_syntax_error_has_line():
    pattern = r"^bad.yaml:3: invalid YAML: .* \(while parsing a flow sequence that starts on line 2\)$"
    with pytest.raises(RecipeError, match=pattern):
        parse_recipe("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")


def test_top_level_must_be_a_mapping_and_empty_is_empty():
    with pytest.raises(RecipeError, match="a recipe is a mapping of keys, not a list"):
        parse_recipe("- 1\n- 2\n", "l.yaml")
    assert parse_recipe("# only a comment\n").config == {}


def test_load_recipe_from_path(write_recipe):
    path = write_recipe(NESTED)
    recipe = load_recipe(path)
    assert recipe.config["optimizer"]["lr"] == 1e-4
    assert recipe.source == str(path) and recipe.lines.where("seed") == f"{path}:2"


@pytest.fixture
def fake_shipped(tmp_path, monkeypatch):
    """A stand-in for samunet_tune.recipes holding quickstart.yaml and polyp.yaml."""
    package = tmp_path / "fake_shipped_recipes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "quickstart.yaml").write_text("seed: 1\n")
    (package / "polyp.yaml").write_text("# header\nseed: 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(loading, "SHIPPED_RECIPES_PACKAGE", "fake_shipped_recipes")
    monkeypatch.chdir(tmp_path)  # no recipes/ folder here
    return package


def test_shipped_recipes_by_name(fake_shipped):
    assert shipped_recipes() == ["polyp", "quickstart"]
    for name in ("quickstart", "polyp.yaml", "recipes/polyp.yaml"):
        assert find_recipe(name).parent == fake_shipped
    recipe = load_recipe("polyp")
    assert recipe.config == {"seed": 2} and recipe.lines.where("seed").endswith("polyp.yaml:2")


def test_missing_recipe_lists_shipped_names(fake_shipped):
    with pytest.raises(RecipeError) as caught:
        load_recipe("quikstart")
    message = str(caught.value)
    assert "'quikstart' not found" in message and "did you mean 'quickstart'?" in message
    assert message.endswith("Shipped recipes: polyp, quickstart")


def test_real_shipped_package_is_importable():
    assert all(isinstance(name, str) for name in shipped_recipes())
