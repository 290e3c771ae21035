"""The paper's conv-branch strategy on the real sizes: exact trainable counts."""

from __future__ import annotations

import pytest

from samunet_tune import create_model
from samunet_tune.strategies import build_strategy


@pytest.mark.parametrize(
    ("model_name", "trainable", "total"),
    [("samunet_vit_b_res34", 29_347_244, 116_019_884), ("samunet_vit_b_res50", 51_755_564, 138_428_204)],
)
def test_conv_branch_trains_the_papers_parameter_count(model_name, trainable, total):
    strategy = build_strategy("conv-branch")
    module = strategy.apply(create_model(model_name))
    assert sum(p.numel() for p in module.parameters() if p.requires_grad) == trainable
    assert sum(p.numel() for p in module.parameters()) == total
    assert f"{trainable:,}" in strategy.parameter_table(module)
