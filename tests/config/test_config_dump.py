"""Printing the resolved recipe: YAML that loads back to the same config, keys in file order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from samunet_tune.config import dump_config, parse_recipe, parse_yaml

RECIPE = """\
# samunet-tune r.yaml
seed: 0
optimizer:
  _component_: torch.optim.Adam
  lr: 1e-4
names: ["yes", "1e-4", "on", "null", "2024-01-01", "", "a: b", "~", "010", plain]
data: {root: /data/kvasir, sizes: [256, 512], flip: true, ratio: .inf}
empty: {}
zlast: null
"""


def test_round_trip_is_exact():
    config = parse_recipe(RECIPE).config
    text = dump_config(config)
    again, _ = parse_yaml(text)
    assert again == config
    assert list(again) == ["seed", "optimizer", "names", "data", "empty", "zlast"]
    assert "lr: 0.0001" in text and "- 'yes'" in text and "- '1e-4'" in text


def test_overridden_and_added_keys_keep_order():
    recipe = parse_recipe(RECIPE).override(["optimizer.weight_decay=0.01", "seed=7"])
    text = dump_config(recipe.config)
    assert list(parse_yaml(text)[0]["optimizer"]) == ["_component_", "lr", "weight_decay"]
    assert text.index("seed: 7") < text.index("optimizer:")


def test_header_and_dataclasses():
    @dataclass
    class Settings:
        root: Path
        sizes: tuple[int, int]

    text = dump_config({"settings": Settings(Path("/d"), (1, 2))}, header="resolved from r.yaml\nwith seed=7")
    assert text.startswith("# resolved from r.yaml\n# with seed=7\nsettings:\n")
    assert parse_yaml(text)[0] == {"settings": {"root": "/d", "sizes": [1, 2]}}
