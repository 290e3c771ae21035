"""Strategy names and options: the registry, the errors a recipe author sees, the parameter table."""

from __future__ import annotations

import pytest

from samunet_tune.registry import RegistryError
from samunet_tune.strategies import STRATEGIES, Strategy, build_strategy, list_strategies

BUILT_INS = ["conv-branch", "decoder-only", "full", "lora-vit"]


def test_built_ins_are_registered_under_their_own_name():
    assert set(BUILT_INS) <= set(list_strategies())
    for name in BUILT_INS:
        cls = STRATEGIES.get(name)
        assert issubclass(cls, Strategy) and cls.name == name
        assert isinstance(build_strategy(name), cls)


def test_unknown_strategy_lists_the_known_ones():
    with pytest.raises(RegistryError) as error:
        build_strategy("lora")
    message = str(error.value)
    assert "unknown strategy 'lora'" in message
    assert all(name in message for name in BUILT_INS)


@pytest.mark.parametrize("name", BUILT_INS)
def test_unknown_option_is_named_with_the_accepted_ones(name):
    with pytest.raises(TypeError, match=rf"strategy '{name}' got unknown option\(s\) \['rnak'\]; accepted options: "):
        build_strategy(name, rnak=4)


def test_lora_options_list_what_is_accepted():
    with pytest.raises(TypeError, match="accepted options: alpha, blocks, dropout, rank, targets, train_also"):
        build_strategy("lora-vit", rnak=4)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rank": 0}, "rank=0 must be a positive integer"),
        ({"alpha": -1}, "alpha=-1 must be a positive number"),
        ({"dropout": 1.0}, r"dropout=1.0 must be in \[0, 1\)"),
        (
            {"targets": ["qkv", "patch_embed"]},
            r"targets: \['patch_embed'\] not recognised; choose from \['qkv', 'proj', 'mlp'\]",
        ),
        ({"targets": []}, "targets is empty"),
        ({"blocks": []}, "blocks=.* must be null"),
        ({"train_also": ["image_encoder"]}, r"train_also: \['image_encoder'\] not recognised"),
    ],
)
def test_bad_lora_values_are_rejected_before_any_model_is_built(options, message):
    with pytest.raises(ValueError, match=message):
        STRATEGIES.get("lora-vit").check_options(**options)


def test_options_are_normalised():
    strategy = build_strategy("lora-vit", targets="mlp", blocks=[3, 1, 3], train_also=("mask_decoder",))
    assert strategy.options == {
        "rank": 8, "alpha": 16, "dropout": 0.0, "targets": ("mlp",), "blocks": (1, 3), "train_also": ("mask_decoder",)
    }


def test_parameter_table_shows_each_part_and_the_totals(tiny_model):
    strategy = build_strategy("conv-branch")
    module = strategy.apply(tiny_model)
    total = sum(p.numel() for p in tiny_model.parameters())
    trainable = total - sum(p.numel() for p in tiny_model.image_encoder.parameters())
    table = strategy.parameter_table(module)
    total_row = next(line for line in table.splitlines() if line.startswith("total"))
    assert total_row.split()[1:3] == [f"{trainable:,}", f"{total:,}"]
    parts = ("image_encoder", "conv_branch", "fusion", "bridges", "neck_upsampler", "prompt_encoder", "mask_decoder")
    assert all(any(line.startswith(part) for line in table.splitlines()) for part in parts)


def test_lora_parameter_table_counts_the_base_once(tiny_model, capsys):
    total = sum(p.numel() for p in tiny_model.parameters())
    strategy = build_strategy("lora-vit", rank=4)
    module = strategy.apply(tiny_model)
    lora = sum(p.numel() for n, p in module.named_parameters() if ".lora_" in n)
    strategy.print_parameter_table(module)
    total_row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("total"))
    # peft keeps frozen originals of mask_decoder/prompt_encoder beside the trained copies: not counted twice.
    assert total_row.split()[2] == f"{total + lora:,}"
